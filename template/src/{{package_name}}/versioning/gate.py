"""The champion gate: should a model replace the champion? No MLflow here.

The first model on data the champion was not trained on (lineage.py) becomes the
champion. On the same data both are scored on the test rows neither was trained
on, and the new model wins only when strictly better on `evaluate.primary_metric`
and at least `evaluate.min_promote_rows` such rows remain. registry.py applies
the verdict in MLflow.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..config import Config
from .lineage import Lineage

CHAMPION = "champion"
FIRST = "first model on this data"


@dataclass(frozen=True)
class Entry:
    """A registered version (or the model being registered)."""

    version: str
    run_id: str
    lineage: Lineage | None


class Judge(Protocol):
    """The test rows models are compared on (judging.py)."""

    lineage: Lineage

    @property
    def rows(self) -> int:
        """How many test rows there are."""

    def score(self, entry: Entry, keep: np.ndarray | None) -> float:
        """The entry's primary metric on the kept test rows (all if None)."""

    def unseen(self, run_id: str) -> np.ndarray | None:
        """Test rows that run did not train on; None if it recorded no rows."""


def decide(
    metric: str,
    score: float,
    champion: tuple[str, float | None] | None,
    greater_is_better: bool,
    rows: str = "",
) -> tuple[bool, str]:
    """Whether `score` should become the champion, and why.

    `champion` is (version, its score on `metric`) or None when there is none yet.
    Only a strictly better score wins: a tie keeps the current champion.
    """
    if champion is None:
        return True, f"{FIRST} (no {CHAMPION} yet)"
    version, best = champion
    if best is None:
        return True, f"{CHAMPION} version {version} has no {metric} metric"
    direction = "higher" if greater_is_better else "lower"
    beats = score > best if greater_is_better else score < best
    verdict = "beats" if beats else "does not beat"
    return beats, (
        f"{metric} {score:.6g} {verdict} {CHAMPION} version {version}'s {best:.6g}"
        f"{rows} ({direction} is better)"
    )


@dataclass(frozen=True)
class Settings:
    """The gate's settings from params.yaml (`evaluate`)."""

    metric: str
    greater_is_better: bool
    min_rows: int

    @classmethod
    def of(cls, cfg: Config) -> "Settings":
        """The gate's settings in `cfg`."""
        return cls(
            cfg.evaluate.primary_metric,
            cfg.evaluate.greater_is_better,
            cfg.evaluate.min_promote_rows,
        )


def _first(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"


@dataclass(frozen=True)
class Verdict:
    """The gate's decision, why, and the scores it compared."""

    promoted: bool
    reason: str
    best: float | None = None
    """The champion's score on the compared rows."""
    score: float | None = None
    """The candidate's score on the same rows."""


def _same_rows(
    candidate: Entry, champion: Entry, judge: Judge, settings: Settings
) -> Verdict:
    """Both models on the test rows neither was trained on."""
    seen_by_champion = judge.unseen(champion.run_id)
    seen = (seen_by_champion, judge.unseen(candidate.run_id))
    masks = [mask for mask in seen if mask is not None]
    keep = np.logical_and.reduce(masks) if masks else None
    rows = judge.rows if keep is None else int(keep.sum())
    if rows < settings.min_rows:
        what = (
            f"the test set has {rows} rows"
            if rows == judge.rows
            else f"only {rows} of the {judge.rows} test rows were used to train "
            "neither model"
        )
        return Verdict(
            False,
            f"{what}, fewer than evaluate.min_promote_rows ({settings.min_rows}): "
            "too few to compare the two",
        )
    where = f" on the {rows} test rows neither was trained on"
    if seen_by_champion is None:
        where = (
            f" on {rows} test rows ({CHAMPION} version {champion.version} recorded "
            "no training rows: it may have trained on some of them)"
        )
    try:
        best = judge.score(champion, keep)
    except Exception as exc:  # any failure means "cannot compare"
        return Verdict(
            False,
            f"cannot re-score {CHAMPION} version {champion.version} on the current "
            f"test rows ({_first(exc)}); if the new model should replace it, "
            f"`promote --version {candidate.version} --force`",
        )
    score = judge.score(candidate, keep)
    promoted, reason = decide(
        settings.metric,
        score,
        (champion.version, best),
        settings.greater_is_better,
        where,
    )
    return Verdict(promoted, reason, best, score)


def gate(
    candidate: Entry, champion: Entry | None, judge: Judge, settings: Settings
) -> Verdict:
    """Whether `candidate` should become the champion instead of `champion`."""
    if champion is None:
        return Verdict(True, f"{FIRST} (no {CHAMPION} yet)")
    if candidate.version == champion.version:
        return Verdict(False, f"version {candidate.version} is the {CHAMPION} already")
    if candidate.lineage is not None and champion.lineage is not None:
        differs = candidate.lineage.differs(champion.lineage)
        if differs:
            return Verdict(
                True, f"{FIRST}: {differs} than {CHAMPION} version {champion.version}"
            )
        if judge.lineage.differs(candidate.lineage):
            return Verdict(
                False,
                f"the prepared test rows are not of version {candidate.version}'s "
                f"data ({judge.lineage.differs(candidate.lineage)}); `dvc repro` "
                "on its data first",
            )
    return _same_rows(candidate, champion, judge, settings)
