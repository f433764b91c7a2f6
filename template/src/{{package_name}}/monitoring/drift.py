"""Drift statistics: how far a batch of rows has moved from the training profile.

Every column gets the population stability index (PSI) and a test suited to its
kind, both from the profile in models/reference.json:

- numbers and dates: PSI over the training deciles, and the two-sample
  Kolmogorov-Smirnov test against the kept training sample;
- strings: PSI over the training categories (unseen ones pooled), and the
  chi-squared test of the two tables of counts.

A column drifts when its PSI reaches monitor.psi AND its test has a p-value below
monitor.p_value divided by the number of columns tested (Bonferroni: on rows drawn
like the training rows, the chance that any column is flagged stays below
monitor.p_value). The test alone flags tiny shifts in a large batch, PSI alone
flags noise in a small one. Its missing share drifts when it moves by more than
monitor.missing_share. The model's predictions are compared the same way.
TESTS is the table of tests by kind: a new kind of column is one entry.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..config import MonitorConfig
from ..modeling.features import DATETIME, NUMBER, STRING
from .reference import ColumnProfile, as_values, bin_shares

EPSILON = 1e-4
"""Shares are floored at this before PSI's logarithm (an empty bin is not infinite)."""
UNSEEN = "(unseen)"


@dataclass(frozen=True)
class ColumnDrift:
    """The drift figures of one column."""

    kind: str
    rows: int
    test: str
    psi: float | None
    p_value: float | None
    statistic: float | None
    missing_share: float
    reference_missing_share: float
    drifted: bool
    missing_drifted: bool

    @property
    def flagged(self) -> bool:
        """Whether a threshold is crossed."""
        return self.drifted or self.missing_drifted

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON."""
        return {**asdict(self), "flagged": self.flagged}


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two arrays of shares (same bins)."""
    e = np.clip(expected, EPSILON, None)
    a = np.clip(actual, EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_test(
    values: pd.Series, profile: ColumnProfile
) -> tuple[float, float, float]:
    """PSI, KS statistic and p-value of numbers against the training profile."""
    numbers = values.to_numpy(dtype=float)
    edges = profile.edges or []
    shares = np.asarray(profile.shares or [1.0])
    result = stats.ks_2samp(numbers, np.asarray(profile.sample), method="asymp")
    index = psi(shares, bin_shares(numbers, edges))
    return index, float(result.statistic), float(result.pvalue)


def categorical_test(
    values: pd.Series, profile: ColumnProfile
) -> tuple[float, float, float]:
    """PSI, chi-squared statistic and p-value of categories against the profile."""
    expected_shares = profile.categories or {}
    known = list(expected_shares)
    counts = values.value_counts()
    seen = np.array([counts.get(c, 0) for c in known], dtype=float)
    unseen = float(len(values) - seen.sum())
    observed = np.append(seen, unseen)
    expected = np.append([expected_shares[c] for c in known], 0.0)
    index = psi(expected, observed / max(len(values), 1))
    table = np.vstack([expected * profile.rows * (1 - profile.missing_share), observed])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return index, 0.0, 1.0
    result = stats.chi2_contingency(table)
    return index, float(result.statistic), float(result.pvalue)


Test = Callable[[pd.Series, ColumnProfile], tuple[float, float, float]]
TESTS: dict[str, tuple[str, Test]] = {
    NUMBER: ("kolmogorov-smirnov", numeric_test),
    DATETIME: ("kolmogorov-smirnov", numeric_test),
    STRING: ("chi-squared", categorical_test),
}


def compare(
    values: pd.Series, profile: ColumnProfile, cfg: MonitorConfig, tests: int = 1
) -> ColumnDrift:
    """The drift figures of one column of the batch (conformed values), one of
    `tests` columns tested together.
    """
    rows = len(values)
    missing_share = float(values.isna().mean()) if rows else 0.0
    present = as_values(values, profile.kind)
    name, test = TESTS[profile.kind]
    figures: tuple[float | None, float | None, float | None] = (None, None, None)
    usable = profile.categories if profile.kind == STRING else profile.sample
    if len(present) and usable:
        figures = test(present, profile)
    index, statistic, p_value = figures
    drifted = (
        index is not None
        and p_value is not None
        and index >= cfg.psi
        and p_value < cfg.p_value / tests
    )
    missing_drifted = abs(missing_share - profile.missing_share) > cfg.missing_share
    return ColumnDrift(
        kind=profile.kind,
        rows=rows,
        test=name,
        psi=index,
        p_value=p_value,
        statistic=statistic,
        missing_share=missing_share,
        reference_missing_share=profile.missing_share,
        drifted=drifted,
        missing_drifted=missing_drifted,
    )
