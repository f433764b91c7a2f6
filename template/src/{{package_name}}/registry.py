"""The model registry: each evaluated model becomes a version; the best, champion.

Each evaluation registers its model as a new version of MODEL_NAME (or
MLFLOW_REGISTERED_MODEL_NAME) and moves the alias `champion` to it only when its
primary metric beats the champion's; the run's tags record the decision.
Where the registry lives (the tracking store) is set up in tracking.py.
"""

import os
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


def current_champion(
    client: MlflowClient, name: str, metric: str
) -> tuple[str, float | None] | None:
    """(version, score on `metric`) of the champion, or None if there is none."""
    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = registered.aliases.get(CHAMPION)
    if version is None:
        return None
    run_id = client.get_model_version(name, version).run_id
    best = client.get_run(run_id).data.metrics.get(metric) if run_id else None
    return str(version), best


def promote(
    model_uri: str, *, metric: str, score: float, greater_is_better: bool
) -> Promotion:
    """Register the model; move the champion alias to it if it beats the champion.

    Call inside the run that logged the model: the decision goes into its tags.
    """
    client = MlflowClient()
    name = model_name()
    try:
        champion = current_champion(client, name, metric)
        version = str(mlflow.register_model(model_uri, name).version)
        promoted, reason = decide(metric, score, champion, greater_is_better)
        if promoted:
            client.set_registered_model_alias(name, CHAMPION, version)
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
        }
    )
    return Promotion(model=name, version=version, promoted=promoted, reason=reason)
