"""Which columns the model relies on, and in which direction: evaluate's global view.

- Permutation importance on the held-out rows, per column of your data (a
  string column is shuffled as one column, not per one-hot input): how much
  the primary metric gets worse when that column's values are shuffled, with
  the spread over `REPEATS` shuffles. It works for every model family.
- SHAP direction (explain.py, tree and linear models): the mean size of each
  column's contribution, and whether higher values push the prediction up or
  down (the correlation of value and contribution).
- Partial dependence of the prediction on the `TOP` most important numeric
  columns (for a classifier: the probability of the second class, or of each
  class when there are more), averaged over at most PD_ROWS of the rows.

All three look at a seeded sample of at most MAX_ROWS held-out rows (sample()),
so that their cost stays flat however large the test split.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from ..core.errors import ProjectError
from ..modeling import plots
from . import drivers
from .explain import Explainer

REPEATS = 5
MAX_ROWS = 20_000
"""Test rows the shuffles use at most (a seeded sample of them when there are
more): REPEATS x columns predictions of every row of a 200,000-row test set took
minutes at 1,000,000 rows, and the ranking is settled long before."""
PD_ROWS = 5_000
"""Rows partial dependence averages over at most: each is scored at GRID values of
TOP columns (200,000 rows took 90 s and 2.5 GB; the average is settled long
before)."""
SAMPLED_ROWS = 200
"""Rows of the sample the SHAP summary explains with a permutation explainer
(HistGradientBoosting on categories, networks): it runs row by row."""
TOP = 3
GRID = 20
SHOWN = 15


def _metric(name: str) -> Callable[[Any, Any], float]:
    from sklearn import metrics

    functions: dict[str, Callable[[Any, Any], float]] = {
        "accuracy": metrics.accuracy_score,
        "f1_macro": lambda y, p: metrics.f1_score(y, p, average="macro"),
        "precision_macro": lambda y, p: metrics.precision_score(
            y, p, average="macro", zero_division=0
        ),
        "recall_macro": lambda y, p: metrics.recall_score(
            y, p, average="macro", zero_division=0
        ),
        "r2": metrics.r2_score,
        "rmse": lambda y, p: metrics.mean_squared_error(y, p) ** 0.5,
        "mae": metrics.mean_absolute_error,
    }
    return functions[name]


def sample(
    features: pd.DataFrame, target: pd.Series, rows: int, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    """The rows given, or a seeded sample of `rows` of them when there are more."""
    if len(features) <= rows:
        return features, target
    picked = np.random.default_rng(seed).choice(len(features), rows, replace=False)
    return features.iloc[picked], target.iloc[picked]


def permutation_importance(
    model: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    metric: str,
    greater_is_better: bool,
    seed: int,
) -> pd.DataFrame:
    """Per column: mean and standard deviation over REPEATS shuffles of the loss
    in `metric` (positive = the model needs the column), largest first, on the
    rows given or a seeded sample of MAX_ROWS of them.
    """
    score = _metric(metric)
    features, target = sample(features, target, MAX_ROWS, seed)
    truth = target.to_numpy()
    sign = 1.0 if greater_is_better else -1.0
    reference = score(truth, model.predict(features))
    rng = np.random.default_rng(seed)
    rows = len(features)
    records = []
    for column in features.columns:
        # All shuffles of one column in one call: far fewer predict() calls.
        stacked = pd.concat([features] * REPEATS, ignore_index=True)
        shuffled = np.concatenate(
            [features[column].to_numpy()[rng.permutation(rows)] for _ in range(REPEATS)]
        )
        stacked[column] = shuffled
        predicted = model.predict(stacked)
        losses = [
            sign * (reference - score(truth, predicted[r * rows : (r + 1) * rows]))
            for r in range(REPEATS)
        ]
        records.append(
            {
                "column": str(column),
                "importance": float(np.mean(losses)),
                "spread": float(np.std(losses)),
            }
        )
    frame = pd.DataFrame(records, columns=["column", "importance", "spread"])
    return frame.sort_values("importance", ascending=False, kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class Direction:
    """One column's SHAP summary."""

    column: str
    mean_abs: float
    correlation: float | None
    """Of the column's value and its contribution; None when not numeric."""
    toward: str | None = None
    """More than two classes: the class the correlation is with (drivers.py)."""


def directions(
    model: Pipeline, features: pd.DataFrame
) -> tuple[list[Direction], str, np.ndarray | None]:
    """SHAP summary per column, largest first; its units; the contributions
    (toward the second class for a binary classifier), or an empty list when
    the model type has no exact explanation.
    """
    try:
        explainer = Explainer(model)
        if explainer.sampled:  # permutation SHAP, row by row: a smaller sample
            if explainer.classes is not None and len(explainer.classes) > 2:
                return [], "", None  # drivers.by_class reads trees or coefficients
            features = features.head(SAMPLED_ROWS)
        explanation = explainer.explain(features)
    except ProjectError:
        return [], "", None
    values = explanation.values
    units = explanation.units
    classes = explainer.classes
    if classes is not None and len(classes) == 2:
        # Explained toward the predicted class; turn every row toward class 1.
        predicted = model.predict(features)
        flip = np.where(predicted == classes[1], 1.0, -1.0)
        values = values * flip[:, None]
        units = units.replace("the predicted class", f"'{classes[1]}'")
    elif classes is not None:
        per_class = drivers.by_class(explainer, features)
        values = np.abs(values)  # no common direction across many classes
    result = []
    for j, column in enumerate(explanation.columns):
        numbers = pd.to_numeric(features[column], errors="coerce")
        correlation, toward = None, None
        if classes is not None and len(classes) > 2:
            toward, correlation = drivers.toward(numbers, per_class[:, j], classes)
        else:
            usable = numbers.notna().to_numpy()
            # a text column has no numbers: no std of nothing (NumPy would warn)
            if (
                usable.sum() > 2
                and np.std(values[usable, j]) > 0
                and np.std(numbers[usable]) > 0
            ):
                correlation = float(
                    np.corrcoef(numbers[usable], values[usable, j])[0, 1]
                )
        result.append(
            Direction(column, float(np.abs(values[:, j]).mean()), correlation, toward)
        )
    order = sorted(range(len(result)), key=lambda j: -result[j].mean_abs)
    return [result[j] for j in order], units, values[:, order]


def write_plots(
    model: Pipeline,
    features: pd.DataFrame,
    importance: pd.DataFrame,
    shap_summary: tuple[list[Direction], str, np.ndarray | None],
    root: Path,
) -> list[Path]:
    """Permutation importance, SHAP summary and partial dependence images."""
    images = []
    shown = importance.head(SHOWN)
    plots.write_csv(importance, root, "permutation_importance.csv")
    figure = Figure(figsize=(7, 0.3 * len(shown) + 1.5))
    axis = figure.subplots()
    axis.barh(
        shown["column"][::-1], shown["importance"][::-1], xerr=shown["spread"][::-1]
    )
    axis.set_xlabel("loss in the primary metric when the column is shuffled")
    axis.set_title("Permutation importance (held-out rows)")
    images.append(plots.save(figure, root, "permutation_importance.png"))

    summary, units, values = shap_summary
    if values is not None and summary:
        count = min(SHOWN, len(summary))
        figure = Figure(figsize=(7, 0.35 * count + 1.5))
        axis = figure.subplots()
        for position, item in enumerate(summary[:count]):
            column = features[item.column].head(len(values))  # the rows explained
            numbers = pd.to_numeric(column, errors="coerce").to_numpy()
            span = (
                np.nanmax(numbers) - np.nanmin(numbers)
                if np.isfinite(numbers).any()
                else 0
            )
            colour = (
                (numbers - np.nanmin(numbers)) / span
                if span
                else np.zeros(len(numbers))
            )
            y = (
                count
                - 1
                - position
                + np.random.default_rng(0).uniform(-0.2, 0.2, len(numbers))
            )
            axis.scatter(values[:, position], y, c=colour, cmap="coolwarm", s=8)
        axis.set_yticks(range(count), [s.column for s in summary[:count]][::-1])
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_xlabel(
            f"contribution ({units}); colour: low (blue) to high (red) value"
        )
        axis.set_title("SHAP summary: which way each column pushes")
        images.append(plots.save(figure, root, "shap_summary.png"))
    numeric = [
        str(c)
        for c in importance["column"]
        if pd.api.types.is_numeric_dtype(features[c]) and features[c].notna().any()
    ]
    if numeric:  # `features` is a sample already (insight.gather): its first rows
        rows = features.iloc[:PD_ROWS]
        images.append(_partial_dependence(model, rows, numeric[:TOP], root))
    return images


def partial_dependence(
    model: Pipeline, features: pd.DataFrame, column: str, points: int = GRID
) -> tuple[np.ndarray, np.ndarray]:
    """(grid, average output per grid value): every row with `column` set to each
    of `points` quantiles of its values, scored in one call. The output is the
    prediction, or a classifier's class probabilities (the second class only
    when there are two), one row per class.
    """
    values = pd.to_numeric(features[column], errors="coerce").dropna()
    grid = np.unique(np.quantile(values, np.linspace(0, 1, points)))
    stacked = pd.concat([features] * len(grid), ignore_index=True)
    stacked[column] = np.repeat(grid, len(features))
    if hasattr(model, "predict_proba"):
        scores = np.asarray(model.predict_proba(stacked))
        scores = scores[:, 1:] if scores.shape[1] == 2 else scores
    else:
        scores = np.asarray(model.predict(stacked), dtype=float)[:, None]
    averages = scores.reshape(len(grid), len(features), -1).mean(axis=1)
    return grid, averages.T


def _partial_dependence(
    model: Pipeline, features: pd.DataFrame, columns: list[str], root: Path
) -> Path:
    figure = Figure(figsize=(4 * max(1, len(columns)), 3.5))
    axes = np.atleast_1d(figure.subplots(1, max(1, len(columns))))
    for axis, column in zip(axes, columns, strict=False):
        grid, averages = partial_dependence(model, features, column)
        for line in averages:
            axis.plot(grid, line)
        axis.set(xlabel=column, ylabel="average model output")
    figure.suptitle("Partial dependence: the prediction as one column varies")
    return plots.save(figure, root, "partial_dependence.png")
