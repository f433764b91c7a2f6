"""POST /explain: the same numbers as `predict --explain K`, over HTTP.

The body is the one /predict takes; `?top=K` (default 5) says how many columns
each row lists. Explanations are exact and computed per request (no
micro-batching); the explainer is built on the first call.
"""

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sklearn.pipeline import Pipeline

from ..reporting.explain import Explainer, explain_frame

TOP = 5
UNEXPLAINABLE = dict(description="no exact explanation for this model type (501)")


class Contribution(BaseModel):
    """One column's signed share of the model output."""

    column: str
    contribution: float


class RowExplanation(BaseModel):
    """Why one record got its prediction: base + contributions + other = output."""

    prediction: Any
    units: str = Field(description="what `base` and `output` measure")
    base: float
    contributions: list[Contribution] = Field(description="largest first")
    other: float = Field(description="the other columns' contributions, summed")
    output: float


class Explanations(BaseModel):
    """The response of POST /explain."""

    explanations: list[RowExplanation]
    model_version: str


def explainer_for(pipeline: Pipeline) -> Any:
    """A function building the pipeline's Explainer once, on first use."""
    return cache(lambda: Explainer(pipeline))


def explain_rows(
    explainer: Explainer, features: pd.DataFrame, top: int, version: str
) -> Explanations:
    """The explanations of `features` (rows as the API received them)."""
    k = min(top, len(explainer.groups))
    columns = explain_frame(explainer, features, k)
    predictions = explainer.model.predict(features)
    rows = []
    for i in range(len(features)):
        rows.append(
            RowExplanation(
                prediction=_plain(predictions[i]),
                units=columns["explain_units"][i],
                base=float(columns["explain_base"][i]),
                contributions=[
                    Contribution(
                        column=columns[f"explain_{r}_column"][i],
                        contribution=float(columns[f"explain_{r}_contribution"][i]),
                    )
                    for r in range(1, k + 1)
                ],
                other=float(columns["explain_other"][i]),
                output=float(columns["explain_output"][i]),
            )
        )
    return Explanations(explanations=rows, model_version=version)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
