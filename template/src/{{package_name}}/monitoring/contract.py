"""Soft findings: rows that fit the data contract but not the training profile.

Hard errors (a missing column, a value of the wrong type) stop `predict` and get
a 422 from the server, as features.conform decides. Soft findings are counted per
column and reported, never silently dropped:

- out_of_range: a number or date outside the training rows' range;
- unseen_category: a string the training rows never held;
- missing_share: a column's share of missing values above the training share by
  more than monitor.missing_share (every missing cell of that column counts).

`monitor.on_soft_finding` in params.yaml decides what happens then: `warn` (the
default) scores the rows and reports the counts, `reject` refuses the whole input.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import MonitorConfig
from ..core.errors import DataError
from ..modeling.features import DATETIME, STRING
from .reference import Reference

KINDS = ("out_of_range", "unseen_category", "missing_share")


@dataclass
class Findings:
    """Counts of soft findings: column -> finding -> rows."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, column: str, kind: str, rows: int) -> None:
        """Count `rows` findings of `kind` in `column` (zero counts are not kept)."""
        if rows > 0:
            by_kind = self.counts.setdefault(column, {})
            by_kind[kind] = by_kind.get(kind, 0) + rows

    @property
    def total(self) -> int:
        """How many findings in all."""
        return sum(n for by_kind in self.counts.values() for n in by_kind.values())

    def summary(self) -> str:
        """One line: "2 soft findings: 'age' out_of_range 1, 'city' ..."."""
        if not self.counts:
            return "no soft findings: every value is within the training profile"
        parts = [
            f"'{column}' {kind} {rows}"
            for column, by_kind in self.counts.items()
            for kind, rows in by_kind.items()
        ]
        noun = "finding" if self.total == 1 else "findings"
        return f"{self.total} soft {noun}: " + ", ".join(parts)


SMALL = 1000
"""Up to this many rows, unseen categories are looked up one by one (faster)."""


def numbers_of(values: pd.Series, kind: str) -> np.ndarray:
    """Conformed numbers or dates as floats (dates as days since 1970); NaN if empty."""
    if kind == DATETIME:
        days = (values - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)
        return np.asarray(days, dtype=float)
    return np.asarray(values, dtype=float)


def unseen(cells: np.ndarray, known: dict[str, float]) -> int:
    """How many of the present `cells` are not among the `known` categories."""
    if len(cells) <= SMALL:
        return sum(1 for cell in cells if str(cell) not in known)
    return int((~pd.Series(cells).astype(str).isin(list(known))).sum())


@dataclass
class Tally:
    """Raw counts of scored rows, to add up over batches before judging them:
    column -> finding -> rows, with `missing` (empty cells) in place of
    missing_share, which is only judged on the whole input.
    """

    rows: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, other: "Tally") -> "Tally":
        """Add `other`'s counts to these (in place); return self."""
        self.rows += other.rows
        for column, by_kind in other.counts.items():
            mine = self.counts.setdefault(column, {})
            for kind, rows in by_kind.items():
                mine[kind] = mine.get(kind, 0) + rows
        return self


def tally(frame: pd.DataFrame, reference: Reference) -> Tally:
    """The raw counts of conformed feature rows against the training profile."""
    result = Tally(rows=len(frame))
    for name, column in reference.columns.items():
        if name not in frame.columns or result.rows == 0:
            continue
        counts = result.counts.setdefault(name, {})
        if column.kind == STRING:
            cells = frame[name].to_numpy(dtype=object)
            empty = pd.isna(cells)
            if column.categories is not None and column.complete:
                counts["unseen_category"] = unseen(cells[~empty], column.categories)
        else:
            numbers = numbers_of(frame[name], column.kind)
            empty = np.isnan(numbers)
            if column.minimum is not None and column.maximum is not None:
                with np.errstate(invalid="ignore"):
                    outside = (numbers < column.minimum) | (numbers > column.maximum)
                counts["out_of_range"] = int(np.count_nonzero(outside))
        counts["missing"] = int(np.count_nonzero(empty))
    return result


def judge(counts: Tally, reference: Reference, cfg: MonitorConfig) -> Findings:
    """The soft findings of a whole input from its (added up) raw counts."""
    findings = Findings()
    for name, column in reference.columns.items():
        by_kind = counts.counts.get(name)
        if by_kind is None or counts.rows == 0:
            continue
        for kind in KINDS[:2]:
            findings.add(name, kind, by_kind.get(kind, 0))
        missing = by_kind.get("missing", 0)
        if missing / counts.rows > column.missing_share + cfg.missing_share:
            findings.add(name, "missing_share", missing)
    return findings


def check(frame: pd.DataFrame, reference: Reference, cfg: MonitorConfig) -> Findings:
    """The soft findings of conformed feature rows against the training profile."""
    return judge(tally(frame, reference), reference, cfg)


def enforce(findings: Findings, cfg: MonitorConfig, where: str) -> None:
    """Refuse the input when monitor.on_soft_finding is `reject` and it has findings."""
    if cfg.on_soft_finding == "reject" and findings.total:
        raise DataError(
            f"{where}: refused, {findings.summary()}; fix those values, or set "
            "monitor.on_soft_finding to warn in params.yaml to score them anyway"
        )
