"""Metrics per group of held-out rows: `evaluate.segments` in params.yaml.

For each named column, the test rows are split by the column's value (a
missing value is its own group, "(missing)") and the task's metrics are
computed on each group, with its row count. Groups of fewer than
`MIN_ROWS` rows are reported with `too_small: true` and no metrics: their
numbers would be noise. A numeric column with more than `MAX_GROUPS` distinct
values is cut into quartiles instead, named by their range ("18 to 36").
"""

from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ConfigError
from ..modeling.tasks import current

MIN_ROWS = 10
MAX_GROUPS = 10
MISSING = "(missing)"


def groups(values: pd.Series) -> pd.Series:
    """The segment name of each row; quartiles named by the smallest and largest
    value in them, as people write a range ("18 to 36"), in ascending order."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_GROUPS:
        binned = pd.qcut(values, 4, duplicates="drop")
        spans = values.groupby(binned, observed=True).agg(["min", "max"])
        names = [f"{low:g} to {high:g}" for low, high in spans.to_numpy()]
        labels = binned.cat.rename_categories(
            dict(zip(spans.index, names, strict=True))
        )
        named = labels.astype(object).where(values.notna(), MISSING)
        order = [*names, MISSING]
        return pd.Series(pd.Categorical(named, categories=order), index=values.index)
    return values.astype(str).where(values.notna(), MISSING)


def ordered(names: pd.Series) -> list[str]:
    """The segment names present, ranges in ascending order, else sorted."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        present = set(names)
        return [str(n) for n in names.cat.categories if n in present]
    return sorted(str(n) for n in names.unique())


def segment_metrics(
    features: pd.DataFrame,
    target: pd.Series,
    predicted: np.ndarray,
    columns: tuple[str, ...],
    where: str = "params.yaml",
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per column, per value: {"rows": n, "too_small": bool, metric: value, ...},
    from the model's predictions of the rows (`predicted`, in their order)."""
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
        for name in ordered(names):
            rows = (names == name).to_numpy()
            entry: dict[str, Any] = {"rows": int(rows.sum())}
            entry["too_small"] = bool(rows.sum() < MIN_ROWS)
            if not entry["too_small"]:
                entry.update(task.metrics_of(target[rows], predicted[rows]))
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
