"""The served model and what the API says about it.

model_version is the MD5 of the model file (the hash dvc.lock records for
models/model.joblib), or NAME/VERSION for a registered MLflow model.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from sklearn.pipeline import Pipeline

from ..batch.predict import expected_columns
from ..core import paths
from ..core.artifacts import Schema
from ..core.errors import DataError
from ..data.tables import file_md5
from ..versioning.loading import is_tracked, load_model, local_path


@dataclass(frozen=True)
class ServedModel:
    """The model and what the API says about it."""

    pipeline: Pipeline
    source: str
    version: str
    features: dict[str, str]
    target: str | None
    metrics: dict[str, float] | None


def _read_metrics(path: Path) -> dict[str, float]:
    """The test-set metrics: metrics.json's top-level numbers (not its sections)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping of metric names to numbers")
    return {
        str(name): float(value)
        for name, value in data.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _load_local(source: str, root: Path) -> ServedModel:
    path = local_path(source, root)
    pipeline = load_model(str(path))
    schema_path = path.parent / paths.SCHEMA.name
    schema = Schema.read(schema_path)
    if list(schema.features) != expected_columns(pipeline):
        raise DataError(
            f"{schema_path}: the features do not match {path}; "
            "retrain both with `dvc repro`"
        )
    metrics_path = root / paths.METRICS
    metrics = _read_metrics(metrics_path) if metrics_path.is_file() else None
    return ServedModel(
        pipeline=pipeline,
        source=source,
        version=file_md5(path),
        features=schema.features,
        target=schema.target,
        metrics=metrics,
    )


def _load_mlflow(source: str, root: Path) -> ServedModel:
    import mlflow
    from mlflow.tracking import MlflowClient

    # Points MLflow at this root's tracking store, as the lookups below need.
    pipeline = load_model(source, root)
    info = mlflow.models.get_model_info(source)
    if info.signature is None:
        raise DataError(f"{source}: the model has no signature; log it with one")
    features = {
        str(spec["name"]): "number"
        if spec["type"] in {"double", "float", "long", "integer"}
        else "string"
        for spec in info.signature.inputs.to_dict()
    }
    client = MlflowClient()
    version = source
    name, _, alias = source.removeprefix("models:/").partition("@")
    if source.startswith("models:/") and alias:
        version = f"{name}/{client.get_model_version_by_alias(name, alias).version}"
    elif source.startswith("models:/") and "/" in name:
        version = name
    metrics = dict(client.get_run(info.run_id).data.metrics) if info.run_id else None
    return ServedModel(
        pipeline=pipeline,
        source=source,
        version=version,
        features=features,
        target=None,
        metrics=metrics,
    )


def load_served(source: str, root: Path) -> ServedModel:
    """A model file (with schema.json beside it) or an MLflow model URI."""
    if not is_tracked(source):
        return _load_local(source, root)
    from mlflow.exceptions import MlflowException

    try:
        return _load_mlflow(source, root)
    except MlflowException as exc:
        raise DataError(f"{source}: cannot load it from MLflow: {exc.message}") from exc
