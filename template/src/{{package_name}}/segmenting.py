"""Metrics per group of held-out rows: `evaluate.segments` in params.yaml.

For each named column, the test rows are split by the column's value (a
missing value is its own group, "(missing)") and the task's metrics are
computed on each group, with its row count. Groups of fewer than
`MIN_ROWS` rows are reported with `too_small: true` and no metrics: their
numbers would be noise. A numeric column with more than `MAX_GROUPS` distinct
values is cut into quartiles instead (its groups are named by their range).
"""

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from .errors import ConfigError
from .tasks import current

MIN_ROWS = 10
MAX_GROUPS = 10
MISSING = "(missing)"


def groups(values: pd.Series) -> pd.Series:
    """The segment name of each row."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_GROUPS:
        binned = pd.qcut(values, 4, duplicates="drop")
        return binned.astype(str).where(values.notna(), MISSING)
    return values.astype(str).where(values.notna(), MISSING)


def segment_metrics(
    model: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    columns: tuple[str, ...],
    where: str = "params.yaml",
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per column, per value: {"rows": n, "too_small": bool, metric: value, ...}."""
    unknown = [c for c in columns if c not in features.columns]
    if unknown:
        raise ConfigError(
            f"{where}: evaluate.segments names {unknown}, not feature columns of "
            f"the test rows; choose from {[str(c) for c in features.columns]}"
        )
    task = current()
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for column in columns:
        names = groups(features[column])
        result[column] = {}
        for name in sorted(names.unique()):
            rows = (names == name).to_numpy()
            entry: dict[str, Any] = {"rows": int(rows.sum())}
            entry["too_small"] = bool(rows.sum() < MIN_ROWS)
            if not entry["too_small"]:
                entry.update(task.compute_metrics(model, features[rows], target[rows]))
            result[column][str(name)] = entry
    return result


def worst(
    segments: dict[str, dict[str, dict[str, Any]]], metric: str, greater_is_better: bool
) -> tuple[str, str, dict[str, Any]] | None:
    """(column, value, entry) of the judged segment that does worst on `metric`."""
    judged = [
        (column, value, entry)
        for column, values in segments.items()
        for value, entry in values.items()
        if not entry["too_small"]
    ]
    if not judged:
        return None
    pick = min if greater_is_better else max
    return pick(judged, key=lambda item: float(item[2][metric]))


def flat(segments: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """MLflow metric names: segment.<column>.<value>.<metric> (and .rows)."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. /")
    result = {}
    for column, values in segments.items():
        for value, entry in values.items():
            key = "".join(ch if ch in allowed else "_" for ch in f"{column}.{value}")
            for name, number in entry.items():
                if name != "too_small":
                    result[f"segment.{key}.{name}"] = float(number)
    return result
