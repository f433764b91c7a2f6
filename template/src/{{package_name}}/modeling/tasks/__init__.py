"""What varies with the task: one module per task, the project ships its own.

The rest of the package calls the task only through `Task` (below), got from
`current()`. The module is chosen by the package's TASK, so a classification
project holds tasks/classification.py and a regression project
tasks/regression.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import TASK

if TYPE_CHECKING:  # kept out of imports at run time: `prepare` needs none of them
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from ..families import Family


@dataclass(frozen=True)
class Scores:
    """What the model says about a list of records, in order."""

    predictions: list[Any]
    probabilities: list[list[float]] = field(default_factory=list)


@dataclass(frozen=True)
class Outputs:
    """A model's outputs for the test rows: made once, read by every part of
    evaluate (metrics, plots, calibration, segments)."""

    predicted: np.ndarray
    probabilities: np.ndarray | None = None
    """(rows, classes) of a classifier, in the order of `classes_`."""


@dataclass(frozen=True)
class Diagnosis:
    """What a task adds to evaluate beyond its metrics (calibration, thresholds)."""

    metrics: dict[str, float]
    images: list[Path]
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    """Rows of precision and recall at decision thresholds, if the task has them."""


@dataclass(frozen=True)
class Task:
    """The task-specific parts, as plain functions and constants."""

    name: str
    metrics: tuple[str, ...]
    """Names of the metrics `compute_metrics` returns (evaluate.primary_metric)."""
    demo_target: str
    families: tuple[Family, ...]
    """The model families (`model.type`), first one the default."""
    load_demo: Callable[[], pd.DataFrame]
    conform_target: Callable[[pd.Series, Path], pd.Series]
    """(target column, data file) -> the column as the task needs it, or DataError.
    Rows without a value stay missing."""
    hold_out: Callable[[pd.DataFrame, str, float, int], pd.Index]
    """(rows, target, test_size, seed) -> the index labels of the held-out test
    rows (labels, not rows: the split copies each row once)."""
    metrics_of: Callable[[pd.Series, np.ndarray], dict[str, float]]
    """(truth, predictions) -> the task's metrics (compute_metrics, below)."""
    outputs: Callable[[Pipeline, pd.DataFrame], Outputs]
    """(model, features) -> its predictions (and class probabilities)."""
    resampler: Callable[
        [np.ndarray, np.ndarray], Callable[[np.ndarray], dict[str, float]]
    ]
    """(truth, predictions) -> compute_metrics' numbers on the rows picked (the
    bootstrap's resamples), without a model."""
    write_plots: Callable[[Pipeline, Outputs, pd.Series, Path], list[Path]]
    classes: Callable[[Any], list[Any] | None]
    """JSON-ready class labels of a fitted model, or None (no classes)."""
    probabilities: Callable[[Pipeline, pd.DataFrame], dict[str, np.ndarray]]
    """Extra output columns of batch predict: `probability_<label>`, or none."""
    score: Callable[[Any, Any], Scores]
    """(fitted estimator, transformed features) -> predictions (and probabilities)."""
    label_type: Any
    """The JSON type of one prediction in the HTTP API."""
    baseline: Callable[[], Any]
    """An unfitted trivial estimator (most frequent class, mean) to compare with."""
    diagnose: Callable[[Pipeline, Outputs, pd.Series, Path], Diagnosis] | None = None
    """(model, its test outputs, test target, root) -> extra evaluation, or none."""

    def compute_metrics(
        self, model: Pipeline, features: pd.DataFrame, target: pd.Series
    ) -> dict[str, float]:
        """The metrics DVC shows and MLflow logs of `model` on these rows."""
        return self.metrics_of(target, model.predict(features))


@cache
def current() -> Task:
    """The project's task (tasks/<TASK>.py)."""
    task: Task = import_module(f"{__name__}.{TASK}").TASK
    return task
