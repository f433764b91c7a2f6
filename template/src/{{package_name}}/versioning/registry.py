"""The model registry: committed models become versions; one is the champion.

The policy, in the order it is applied:

1. An experiment (`dvc exp run`, or a run from uncommitted changes: provenance.py)
   is logged and tagged in MLflow but not registered: it never moves the champion.
2. The first model on data the champion was not trained on (another data file,
   target or feature schema: lineage.py) becomes the champion: "first model on
   this data". So does the first model of all.
3. On the same data a model replaces the champion only when its
   `evaluate.primary_metric` is strictly better ON THE SAME ROWS: both are scored on
   the test rows neither was trained on (each run records its training rows), and
   only when at least `evaluate.min_promote_rows` such rows remain. A champion
   that cannot be loaded or scored is kept, and the message says so.

`promote --version N` runs a registered version through the same checks by hand
(`--force` moves the alias whatever they say). The run's tags record the
decision, why, and both scores. Where the registry lives is set up in tracking.py.
"""

import os
from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .. import DISTRIBUTION
from ..core.errors import ProjectError
from .gate import CHAMPION, Entry, Judge, Settings, Verdict, gate
from .lineage import Lineage
from .tracking import TrackingError, failure

MODEL_NAME = DISTRIBUTION


def model_name() -> str:
    """MLFLOW_REGISTERED_MODEL_NAME if set, else the project's name."""
    return os.environ.get("MLFLOW_REGISTERED_MODEL_NAME") or MODEL_NAME


@dataclass(frozen=True)
class Promotion:
    """What happened in the model registry."""

    model: str
    version: str | None
    """The registered version; None when the run was not registered."""
    promoted: bool
    reason: str
    champion_score: float | None = None
    """The previous champion's score on the rows both were compared on."""

    def line(self) -> str:
        """The console line: `promoted: version N is the champion (why)` or
        `not promoted: why`."""
        if self.promoted:
            return f"promoted: version {self.version} is the {CHAMPION} ({self.reason})"
        if self.version is None:
            return f"not promoted: {self.reason}"
        return f"not promoted: {self.reason} (registered as version {self.version})"


def _entry(client: MlflowClient, name: str, version: str) -> Entry:
    found = client.get_model_version(name, version)
    tags = dict(found.tags)
    if "data.schema" not in tags and found.run_id:  # registered before version tags
        tags = dict(client.get_run(found.run_id).data.tags)
    return Entry(str(found.version), str(found.run_id), Lineage.from_tags(tags))


def current_champion(client: MlflowClient, name: str) -> Entry | None:
    """The champion's version, run and data, or None when there is none."""
    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = registered.aliases.get(CHAMPION)
    return None if version is None else _entry(client, name, str(version))


def _decision_tags(name: str, version: str, verdict: Verdict) -> dict[str, str]:
    tags = {
        "registry.model": name,
        "registry.version": version,
        "champion.decision": "promoted" if verdict.promoted else "kept",
        "champion.reason": verdict.reason,
        "champion.score": "none" if verdict.best is None else f"{verdict.best:.6g}",
    }
    if verdict.score is not None:
        tags["challenger.score"] = f"{verdict.score:.6g}"
    return tags


def promote(
    model_uri: str, run_id: str, lineage: Lineage, judge: Judge, settings: Settings
) -> Promotion:
    """Register the model of the active run; make it the champion if the gate
    says so. The decision goes into the run's tags."""
    client = MlflowClient()
    name = model_name()
    try:
        champion = current_champion(client, name)
        registered = mlflow.register_model(model_uri, name, tags=lineage.tags())
        candidate = Entry(str(registered.version), run_id, lineage)
        verdict = gate(candidate, champion, judge, settings)
        if verdict.promoted:
            client.set_registered_model_alias(name, CHAMPION, candidate.version)
    except MlflowException as exc:
        raise TrackingError(
            f"registering the model as {name!r} failed: {failure(exc)}; check the "
            "registry's permissions or set MLFLOW_REGISTERED_MODEL_NAME"
        ) from exc
    mlflow.set_tags(_decision_tags(name, candidate.version, verdict))
    return Promotion(
        name, candidate.version, verdict.promoted, verdict.reason, verdict.best
    )


def not_registered(why: str, run_id: str) -> Promotion:
    """An experiment's run: tagged, not registered."""
    reason = f"{why}: logged and tagged as MLflow run {run_id}, not registered"
    mlflow.set_tags({"champion.decision": "not registered", "champion.reason": reason})
    return Promotion(model_name(), None, False, reason)


def promote_version(
    version: str, judge: Judge, settings: Settings, force: bool = False
) -> Promotion:
    """`promote --version N`: the gate for a registered version, by hand.

    With `force` the alias moves whatever the gate says (the reason keeps what it
    said). The version's run gets the decision's tags.
    """
    client = MlflowClient()
    name = model_name()
    try:
        candidate = _entry(client, name, version)
        champion = current_champion(client, name)
    except MlflowException as exc:
        raise ProjectError(
            f"no version {version} of the registered model {name!r}: {failure(exc)}"
        ) from exc
    verdict = gate(candidate, champion, judge, settings)
    already = champion is not None and champion.version == version
    if force and not verdict.promoted and not already:
        said = f"by hand with --force; the gate said: {verdict.reason}"
        verdict = Verdict(True, said, verdict.best, verdict.score)
    try:
        if verdict.promoted:
            client.set_registered_model_alias(name, CHAMPION, version)
        for key, value in _decision_tags(name, version, verdict).items():
            client.set_tag(candidate.run_id, key, value)
    except MlflowException as exc:
        raise TrackingError(
            f"moving the alias {CHAMPION!r} failed: {failure(exc)}"
        ) from exc
    return Promotion(name, version, verdict.promoted, verdict.reason, verdict.best)
