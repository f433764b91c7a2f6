"""How sure a number is: a baseline, cross-validation and bootstrap intervals.

- `baseline`: a trivial model (the task's: most frequent class, or the mean)
  fitted on the training rows and scored on the same test rows as the model.
- `cross_validate`: the primary metric on k folds of the TRAINING rows
  (stratified for classification), refitting the pipeline on each; `tune` scores
  trials with it and evaluate reports its mean and standard deviation.
- `bootstrap`: percentile confidence intervals of every test metric, from the
  model's predictions on test rows drawn with replacement (no refitting).
- `sample`: above `evaluate.sample_rows` rows, both run on a seeded sample, so
  that their cost stops growing with the table.
"""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from .. import TASK
from ..config import Config
from ..modeling.tasks import current
from .train import build, settle, split

CONFIDENCE = 0.95


def baseline(
    labels: pd.Series | pd.DataFrame, test: pd.DataFrame, target: str
) -> dict[str, float]:
    """The task's trivial model, fitted on the training rows' target `labels`
    (all it looks at; given the training rows, their `target` column), on the
    test rows."""
    if isinstance(labels, pd.DataFrame):
        labels = labels[target]
    task = current()
    if TASK == "classification":  # fitted on one row per class, weighted by its
        # count: the same model, without a Python object per training row
        counts = labels.value_counts()
        model = task.baseline().fit(
            np.zeros((len(counts), 1)), counts.index, sample_weight=counts.to_numpy()
        )
    else:
        model = task.baseline().fit(np.zeros((len(labels), 1)), labels)
    return task.compute_metrics(model, test.drop(columns=target), test[target])


def drawn(count: int, limit: int | None, seed: int) -> np.ndarray | None:
    """The positions, in order, of at most `limit` of `count` rows drawn without
    replacement with `seed` (the rows DataFrame.sample draws); None when there
    are no more (or no limit): all of them."""
    if limit is None or count <= limit:
        return None
    return np.sort(np.random.RandomState(seed).choice(count, size=limit, replace=False))


def sample(rows: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    """At most `limit` of the rows (drawn()), in their order; all of them when
    there are no more (or no limit)."""
    where = drawn(len(rows), limit, seed)
    return rows if where is None else rows.iloc[where]


def folds(target: pd.Series, k: int, seed: int) -> Iterator[tuple[Any, Any]]:
    """k (train, validation) index pairs; stratified for classification."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if TASK == "classification":
        smallest = int(target.value_counts().min())
        splitter: Any = StratifiedKFold(
            n_splits=min(k, max(smallest, 2)), shuffle=True, random_state=seed
        )
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    yield from splitter.split(np.zeros(len(target)), target)


def cross_validate(
    train: pd.DataFrame,
    cfg: Config,
    values: dict[str, Any],
    report: Callable[[int, float], None] | None = None,
) -> list[float]:
    """The primary metric of each fold; `report(fold, running mean)` after each.

    `report` may raise to stop early (the tuner's pruner does).
    """
    features, target, kinds = split(train, cfg)
    metric = cfg.evaluate.primary_metric
    scores: list[float] = []
    for fold, (fit_rows, held_rows) in enumerate(
        folds(target, cfg.evaluate.cv_folds, cfg.data.seed)
    ):
        model = build(kinds, cfg, values)
        settle(model.fit(features.iloc[fit_rows], target.iloc[fit_rows]))
        held = current().compute_metrics(
            model, features.iloc[held_rows], target.iloc[held_rows]
        )
        scores.append(held[metric])
        if report is not None:
            report(fold, float(np.mean(scores)))
    return scores


def bootstrap(
    target: pd.Series, predictions: np.ndarray, resamples: int, seed: int
) -> dict[str, tuple[float, float]]:
    """(low, high) of each metric's 95% percentile interval over resampled rows,
    from the model's `predictions` of the rows of `target`."""
    if resamples == 0:
        return {}
    metrics = current().resampler(target.to_numpy(), np.asarray(predictions))
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(resamples):
        scores = metrics(rng.integers(0, len(target), len(target)))
        for name, value in scores.items():
            samples.setdefault(name, []).append(value)
    tail = (1 - CONFIDENCE) / 2 * 100
    return {
        name: (
            float(np.percentile(values, tail)),
            float(np.percentile(values, 100 - tail)),
        )
        for name, values in samples.items()
    }
