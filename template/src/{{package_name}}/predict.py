"""Batch scoring: add predictions to a CSV or Parquet file of feature rows."""

from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from .data import read_table
from .errors import DataError
from .files import atomic_path

WRITERS = (".csv", ".parquet", ".pq")


def load_model(source: str) -> Pipeline:
    """A local model file, or an MLflow model URI (models:/name@alias, runs:/...)."""
    if ":/" in source:
        from .tracking import load_model as load_tracked_model

        model: Any = load_tracked_model(source, Path.cwd())
        return model
    path = Path(source)
    if not path.is_file():
        raise DataError(f"{path}: model not found; run `dvc repro` to train it")
    model = joblib.load(path)
    return model


def expected_columns(model: Pipeline) -> list[str]:
    """The feature columns the model was trained on."""
    return [str(c) for c in model.feature_names_in_]


def predict_frame(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a `prediction` column (and class probabilities, if any)."""
    columns = expected_columns(model)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"input lacks the feature columns {missing}; the model needs {columns}"
        )
    features = frame[columns]
    result = frame.copy()
    result["prediction"] = model.predict(features)
    if hasattr(model, "predict_proba"):
        probabilities = model.predict_proba(features)
        for index, label in enumerate(model.classes_):
            result[f"probability_{label}"] = probabilities[:, index]
    return result


def predict_file(source: Path, output: Path, model_source: str) -> int:
    """Score `source` into `output`; return the number of rows written."""
    if output.suffix.lower() not in WRITERS:
        raise DataError(f"{output}: unknown output type; use .csv or .parquet")
    model = load_model(model_source)
    result = predict_frame(model, read_table(source, setting="--input"))
    with atomic_path(output) as tmp:
        if output.suffix.lower() == ".csv":
            result.to_csv(tmp, index=False)
        else:
            result.to_parquet(tmp, index=False)
    return len(result)
