"""Batch scoring: add predictions to a CSV or Parquet file of feature rows."""

from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from .data import read_table
from .errors import DataError
from .files import atomic_path
from .loading import load_model
from .tasks import current

WRITERS = (".csv", ".parquet", ".pq")


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
    for column, values in current().probabilities(model, features).items():
        result[column] = values
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
