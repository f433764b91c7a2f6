"""The API's request and response bodies.

A request record is built from the model's feature schema; the responses of
/metadata and /predict carry class labels and probabilities when the task has
classes (tasks/).
"""

import math
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, Strict, create_model
from pydantic.types import AllowInfNan

from .. import DISTRIBUTION

MAX_MAGNITUDE = 1e15
"""Largest absolute value a number feature may have (tree models use float32)."""

# A feature value: a JSON number or string of the kind the model was trained on.
# null is a missing value, filled in by the Pipeline's imputer as in batch predict.
Number = Annotated[
    float, Strict(), AllowInfNan(False), Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
]
Text = Annotated[str, Strict()]


class Health(BaseModel):
    """GET /health."""

    status: str = Field(examples=["ok"])
    model_loaded: bool
    model_version: str


def metadata_model(label_type: Any, has_classes: bool) -> type[BaseModel]:
    """GET /metadata: the body, with `classes` when the task has them."""
    classes: dict[str, Any] = {}
    if has_classes:
        classes["classes"] = (list[label_type], ...)
    return create_model(
        "Metadata",
        __doc__="GET /metadata.",
        name=(str, ...),
        version=(str, Field(description=f"version of the {DISTRIBUTION} package")),
        task=(str, ...),
        model_source=(str, ...),
        model_version=(str, ...),
        target=(str | None, ...),
        features=(
            dict[str, str],
            Field(description='feature name -> "number" | "string"'),
        ),
        **classes,
        metrics=(
            dict[str, float] | None,
            Field(description="test-set metrics of the model (reports/metrics.json)"),
        ),
        max_records=(int, ...),
    )


def predictions_model(label_type: Any, has_classes: bool) -> type[BaseModel]:
    """POST /predict: the body, with `probabilities` when the task has classes."""
    probabilities: dict[str, Any] = {}
    if has_classes:
        probabilities["probabilities"] = (
            list[dict[str, float]],
            Field(description="per record: class label -> probability"),
        )
    return create_model(
        "Predictions",
        __doc__="POST /predict: one prediction per record, in request order.",
        predictions=(list[label_type], ...),
        **probabilities,
        model_version=(str, ...),
    )


def record_model(features: dict[str, str]) -> type[BaseModel]:
    """One record: every feature required, typed as the model was trained."""
    fields: dict[str, Any] = {
        f"feature_{index}": (
            (Number if kind == "number" else Text) | None,
            Field(alias=name),
        )
        for index, (name, kind) in enumerate(features.items())
    }
    # Extra keys (ids, the target) are ignored, as batch predict ignores columns.
    return create_model("Record", __config__=ConfigDict(extra="ignore"), **fields)


def request_model(record: type[BaseModel], max_records: int) -> type[BaseModel]:
    """POST /predict: 1 to `max_records` records."""
    return create_model(
        "PredictRequest",
        records=(
            list[record],  # type: ignore[valid-type]
            Field(min_length=1, max_length=max_records),
        ),
    )


def to_frame(records: list[BaseModel], features: dict[str, str]) -> pd.DataFrame:
    """The records as a DataFrame with one column per feature, in schema order."""
    columns: dict[str, Any] = {}
    for index, (name, kind) in enumerate(features.items()):
        values = [getattr(record, f"feature_{index}") for record in records]
        if kind == "number":
            columns[name] = np.array(values, dtype=np.float64)
        else:
            columns[name] = [math.nan if v is None else v for v in values]
    return pd.DataFrame(columns)
