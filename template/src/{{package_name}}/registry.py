"""The model registry: each evaluated model becomes a version; the best, champion.

Each evaluation registers its model as a new version of MODEL_NAME (or
MLFLOW_REGISTERED_MODEL_NAME) and moves the alias `champion` to it only when its
primary metric beats the champion's ON THE SAME ROWS: the champion is loaded and
re-scored on the current test set (a gate that cannot load it refuses to
promote, and says why), and a test set smaller than `evaluate.min_promote_rows`
never promotes. The run's tags record the decision and both scores.
Where the registry lives (the tracking store) is set up in tracking.py.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from . import DISTRIBUTION
from .tracking import TrackingError, failure

MODEL_NAME = DISTRIBUTION
CHAMPION = "champion"


def model_name() -> str:
    """MLFLOW_REGISTERED_MODEL_NAME if set, else the project's name."""
    return os.environ.get("MLFLOW_REGISTERED_MODEL_NAME") or MODEL_NAME


@dataclass(frozen=True)
class Promotion:
    """What evaluate did in the model registry."""

    model: str
    version: str
    promoted: bool
    reason: str
    champion_score: float | None = None
    """The previous champion's score on the same test rows, if it had one."""


def decide(
    metric: str,
    score: float,
    champion: tuple[str, float | None] | None,
    greater_is_better: bool,
) -> tuple[bool, str]:
    """Whether `score` should become the champion, and why.

    `champion` is (version, its score on `metric`) or None when there is none yet.
    Only a strictly better score wins: a tie keeps the current champion.
    """
    if champion is None:
        return True, f"no {CHAMPION} yet"
    version, best = champion
    if best is None:
        return True, f"{CHAMPION} version {version} has no {metric} metric"
    direction = "higher" if greater_is_better else "lower"
    beats = score > best if greater_is_better else score < best
    verdict = "beats" if beats else "does not beat"
    return beats, (
        f"{metric} {score:.6g} {verdict} {CHAMPION} version {version}'s {best:.6g} "
        f"({direction} is better)"
    )


@dataclass(frozen=True)
class Champion:
    """The current champion, re-scored on the new model's test rows."""

    version: str
    score: float | None
    failure: str = ""
    """Why it could not be re-scored (score None)."""


def current_champion(
    client: MlflowClient, name: str, rescore: Callable[[str], float]
) -> Champion | None:
    """(version, its score on the current test rows) of the champion, or None.

    `rescore(model_uri)` scores a logged model on the rows the new model was
    scored on; the score is None when it raises (the champion cannot be loaded or
    no longer fits the data): then the gate refuses, see `promote`.
    """
    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = registered.aliases.get(CHAMPION)
    if version is None:
        return None
    try:
        return Champion(str(version), rescore(f"models:/{name}/{version}"))
    except Exception as exc:  # any failure means "cannot compare"
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return Champion(str(version), None, f"{type(exc).__name__}: {first}")


def gate(
    metric: str,
    score: float,
    champion: Champion | None,
    greater_is_better: bool,
    test_rows: int,
    min_rows: int,
) -> tuple[bool, str]:
    """`decide`, after the checks that make the comparison fair."""
    if test_rows < min_rows:
        return False, (
            f"the test set has {test_rows} rows, fewer than evaluate.min_promote_rows "
            f"({min_rows}): too few to trust {metric} {score:.6g}; not promoted"
        )
    if champion is None:
        return decide(metric, score, None, greater_is_better)
    if champion.score is None:
        return False, (
            f"cannot re-score {CHAMPION} version {champion.version} on the current "
            f"test rows ({champion.failure}); not promoted: move the alias by hand if "
            "the new model should replace it"
        )
    return decide(metric, score, (champion.version, champion.score), greater_is_better)


def promote(
    model_uri: str,
    *,
    metric: str,
    score: float,
    greater_is_better: bool,
    rescore: Callable[[str], float],
    test_rows: int,
    min_rows: int,
) -> Promotion:
    """Register the model; move the champion alias to it if it beats the champion.

    Call inside the run that logged the model: the decision goes into its tags.
    """
    client = MlflowClient()
    name = model_name()
    try:
        champion = current_champion(client, name, rescore)
        version = str(mlflow.register_model(model_uri, name).version)
        promoted, reason = gate(
            metric, score, champion, greater_is_better, test_rows, min_rows
        )
        if promoted:
            client.set_registered_model_alias(name, CHAMPION, version)
        best = champion.score if champion is not None else None
    except MlflowException as exc:
        raise TrackingError(
            f"registering the model as {name!r} failed: {failure(exc)}; check the "
            "registry's permissions or set MLFLOW_REGISTERED_MODEL_NAME"
        ) from exc
    mlflow.set_tags(
        {
            "registry.model": name,
            "registry.version": version,
            "champion.decision": "promoted" if promoted else "kept",
            "champion.reason": reason,
            "champion.score": "none" if best is None else f"{best:.6g}",
            "challenger.score": f"{score:.6g}",
        }
    )
    return Promotion(
        model=name,
        version=version,
        promoted=promoted,
        reason=reason,
        champion_score=best,
    )
