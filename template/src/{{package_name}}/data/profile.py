"""Stage `profile`: the training data at a glance, for people.

For each feature column of the training rows: its kind, the share of missing
cells, its range (numbers) or most common values (text), and how it relates to
the target: Spearman's correlation with the target when both are numbers (a
two-class target counts as 0/1), otherwise the correlation ratio (0 = the
target does not vary with the column, 1 = the column decides it). For a target
of more than two classes: the correlation ratio of a number column across
the classes (how much of its spread lies between the classes), Cramér's V of a
text column (scipy.stats.contingency.association; 0 = unrelated, 1 = the
column decides the class). Also the
target's balance. Written to reports/profile.json and two images under
reports/profile/; the model card shows a compact table and evaluate
logs all of it to MLflow.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import TASK
from ..config import Config
from ..core import parquet, paths, progress
from ..core.files import atomic_path, write_json
from ..modeling.features import DATETIME, STRING, as_datetimes, detect_kinds

TOP_VALUES = 3
GRID = 6


def _relation(values: pd.Series, target: pd.Series) -> tuple[str, float | None]:
    if pd.api.types.is_datetime64_any_dtype(values):
        values = as_datetimes(values)
    numbers = pd.to_numeric(values, errors="coerce")
    usable = target.notna()
    if target.nunique() == 2 and not pd.api.types.is_numeric_dtype(target):
        goal = (target == sorted(target.dropna().unique(), key=str)[1]).astype(float)
    else:
        goal = pd.to_numeric(target, errors="coerce")
    if TASK == "classification" and target.nunique() > 2:
        return _class_relation(values, numbers, target.astype(str).where(usable))
    if numbers.notna().sum() > 2 and goal.notna().all() and numbers.nunique() > 1:
        both = usable & numbers.notna()
        rho = numbers[both].rank().corr(goal[both].rank())
        value = float(rho)
        return "spearman", None if np.isnan(value) else value
    if goal.notna().all() and goal.nunique() > 1:  # text column: correlation ratio
        groups = goal.groupby(values.fillna("(missing)").astype(str))
        between = (groups.count() * (groups.mean() - goal.mean()) ** 2).sum()
        total = ((goal - goal.mean()) ** 2).sum()
        return "correlation_ratio", float(np.sqrt(between / total)) if total else None
    return "none", None


def _ratio(numbers: pd.Series, groups: pd.Series) -> float | None:
    """The correlation ratio: sqrt(spread between the groups / total spread)."""
    grouped = numbers.groupby(groups)
    between = (grouped.count() * (grouped.mean() - numbers.mean()) ** 2).sum()
    total = ((numbers - numbers.mean()) ** 2).sum()
    return float(np.sqrt(between / total)) if total else None


def _class_relation(
    values: pd.Series, numbers: pd.Series, labels: pd.Series
) -> tuple[str, float | None]:
    """How a column relates to a target of several text classes."""
    if numbers.notna().sum() > 2 and numbers.nunique() > 1:
        both = numbers.notna() & labels.notna()
        return "correlation_ratio", _ratio(numbers[both], labels[both])
    from scipy.stats.contingency import association

    table = pd.crosstab(values.fillna("(missing)").astype(str), labels)
    if min(table.shape) < 2:
        return "cramers_v", None
    return "cramers_v", float(association(table.to_numpy(), method="cramer"))


def profile(frame: pd.DataFrame, target: str) -> dict[str, Any]:
    """The profile of the training rows (see the module doc)."""
    goal = frame[target]
    features = frame.drop(columns=target)
    kinds = detect_kinds(features, "training rows")
    columns = []
    for name, kind in kinds.items():
        values = features[name]
        entry: dict[str, Any] = {
            "column": name,
            "kind": kind,
            "missing_share": float(values.isna().mean()),
        }
        numbers = pd.to_numeric(values, errors="coerce")
        if kind == DATETIME:
            stamps = as_datetimes(values).dropna()
            first, last = (stamps.min(), stamps.max()) if len(stamps) else ("-", "-")
            entry["range"] = f"{first} to {last}"
        elif kind == STRING or numbers.notna().sum() == 0:
            counts = values.astype(str).where(values.notna()).value_counts()
            entry["top_values"] = {
                str(k): int(v) for k, v in counts.head(TOP_VALUES).items()
            }
            entry["distinct"] = int(values.nunique())
        else:
            entry["min"] = float(numbers.min())
            entry["median"] = float(numbers.median())
            entry["max"] = float(numbers.max())
        entry["relation"], entry["relation_value"] = _relation(values, goal)
        columns.append(entry)
    if pd.api.types.is_numeric_dtype(goal) and goal.nunique() > 20:
        balance: dict[str, Any] = {
            "min": float(goal.min()),
            "median": float(goal.median()),
            "max": float(goal.max()),
        }
    else:
        shares = goal.astype(str).value_counts(normalize=True)
        names = [str(k) for k in shares.index]
        balance = {"shares": dict(zip(names, map(float, shares), strict=True))}
    return {
        "rows": len(frame),
        "target": target,
        "balance": balance,
        "columns": columns,
    }


def write_figures(
    frame: pd.DataFrame, result: dict[str, Any], root: Path
) -> list[Path]:
    """Distributions of the columns most related to the target, and its balance."""
    goal = frame[result["target"]]
    ranked = sorted(result["columns"], key=lambda c: -abs(c["relation_value"] or 0.0))[
        : GRID * 3
    ]
    rows = max(1, (len(ranked) + 2) // 3)
    figure = Figure(figsize=(12, 2.6 * rows))
    axes = np.atleast_1d(figure.subplots(rows, 3)).ravel()
    classes = (
        None if "shares" not in result["balance"] else list(result["balance"]["shares"])
    )
    for axis, entry in zip(axes, ranked, strict=False):
        values = frame[entry["column"]]
        if "min" in entry:
            numbers = pd.to_numeric(values, errors="coerce")
            if classes and len(classes) <= 5:
                for label in classes:
                    part = numbers[goal.astype(str) == label].dropna()
                    axis.hist(part, bins=20, alpha=0.5, label=label)
            else:
                axis.hist(numbers.dropna(), bins=20)
        else:
            counts = values.astype(str).value_counts().head(8)
            axis.barh(list(counts.index)[::-1], list(counts.to_numpy())[::-1])
        axis.set_title(
            f"{entry['column']} ({round(entry['missing_share'] * 100)}% missing)",
            fontsize=9,
        )
    for axis in axes[len(ranked) :]:
        axis.set_visible(False)
    if classes and len(classes) <= 5:
        axes[0].legend(fontsize=8)
    images = [_save(figure, root, "distributions.png")]

    figure = Figure(figsize=(5, 3.5))
    axis = figure.subplots()
    if classes:
        shares = result["balance"]["shares"]
        axis.bar(list(shares), list(shares.values()))
        axis.set_ylabel("share of rows")
    else:
        axis.hist(pd.to_numeric(goal, errors="coerce").dropna(), bins=30)
        axis.set_ylabel("rows")
    axis.set_title(f"Target: {result['target']}")
    images.append(_save(figure, root, "target.png"))
    return images


def _save(figure: Figure, root: Path, name: str) -> Path:
    path = paths.PROFILE_FIGURES / name
    figure.tight_layout()
    with atomic_path(root / path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    return path


def run(cfg: Config, root: Path) -> dict[str, Any]:
    """Profile data/prepared/train.parquet into reports/."""
    frame = parquet.read(root / paths.TRAIN)
    progress.step(f"profiling {len(frame)} training rows, {frame.shape[1]} columns")
    result = profile(frame, cfg.data.target)
    progress.step("drawing the figures")
    result["images"] = [p.as_posix() for p in write_figures(frame, result, root)]
    write_json(root / paths.PROFILE, result)
    return result
