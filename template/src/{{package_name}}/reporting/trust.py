"""Why a number can be trusted: how many rows it rests on, and how wide it may be.

- A proportion of the test rows (accuracy: the share predicted right) gets the
  Wilson score interval (scipy.stats.binomtest): unlike a bootstrap over the
  same rows it stays honest at small n and at the edges (36 rows all right give
  0.90 to 1.00, not 1.00 to 1.00).
- Every other metric keeps the bootstrap percentile interval (uncertainty.py):
  the test rows drawn again with replacement, the model not refitted, so it says
  how the number would move with other test rows of the same kind, not with
  other training rows; at few rows or a score at its limit it is too narrow.
- Below ROUGH_ROWS test rows the card calls every estimate rough.
- The card's opening also warns, before any number, about what makes the
  numbers look better than they are: columns that alone decide the target
  (leakage.py) and rows left out for having no target.
"""

from typing import Any

from ..core.artifacts import DataSummary

CONFIDENCE = 0.95
ROUGH_ROWS = 100
"""Fewer test rows than this: the card says every estimate is rough."""
PROPORTIONS = ("accuracy",)
"""Metrics that are a share of the test rows (successes / rows)."""


def wilson(successes: int, rows: int) -> tuple[float, float]:
    """The 95% Wilson score interval of successes / rows."""
    from scipy.stats import binomtest

    interval = binomtest(successes, rows).proportion_ci(CONFIDENCE, method="wilson")
    return float(interval.low), float(interval.high)


def proportion_intervals(
    scores: dict[str, float], rows: int
) -> dict[str, dict[str, float]]:
    """Wilson intervals of the metrics in PROPORTIONS (as metrics.json holds `ci`)."""
    found = {}
    for name in PROPORTIONS:
        if name in scores and rows > 0:
            low, high = wilson(round(scores[name] * rows), rows)
            found[name] = {"low": low, "high": high}
    return found


def rows_used(used: int | None, rows: int, kind: str, note: str = "") -> str:
    """'the 800 training rows', or, when evaluate.sample_rows drew fewer, 'a seeded
    100-row sample of the 800 training rows (evaluate.sample_rows)'."""
    if used is None or not 0 < used < rows:
        return f"the {rows} {kind} rows"
    return (
        f"a seeded {used}-row sample of the {rows} {kind} rows "
        f"(evaluate.sample_rows{note})"
    )


def method(name: str, rows: int, resamples: int, sampled: int | None = None) -> str:
    """How the interval of metric `name` was computed, in words; `sampled`: the
    test rows the bootstrap drew from (evaluate.sample_rows), if fewer."""
    if name in PROPORTIONS:
        return f"Wilson score interval on {rows} held-out rows"
    drawn = rows_used(sampled, rows, "held-out", "; a little wider than on every row")
    return (
        f"bootstrap: {resamples} resamples of {drawn}, the model "
        "not refitted, so it leaves out how other training rows would change it"
    )


def rough(rows: int) -> str:
    """' (rough: ...)' below ROUGH_ROWS test rows, else ''."""
    if rows >= ROUGH_ROWS:
        return ""
    return (
        f"; a rough estimate: {rows} held-out rows is fewer than {ROUGH_ROWS}, so "
        "another draw of test rows could move it a lot"
    )


def warnings(data: DataSummary) -> list[str]:
    """The card's first lines: what makes the numbers look better than they are."""
    lines = []
    for leak in data.leaks:
        lines.append(
            f"- **Warning, likely leakage:** column `{leak['column']}` alone "
            f"predicts `{data.target}` ({leak['measure']} {leak['score']:.2f} "
            "from that column only, cross-validated on the training rows). It is "
            "likely the target in disguise, recorded after the outcome, or an id "
            "that orders the rows by label, and every number below overstates the "
            f"model. Add `{leak['column']}` to `data.drop` in params.yaml unless "
            "it is truly known before each prediction."
        )
    if data.unlabelled:
        total = data.rows + data.unlabelled
        lines.append(
            f"- **Rows without a target:** {data.unlabelled} of the {total} rows "
            f"of `{data.path}` have no `{data.target}` and are left out of "
            "training and testing; the numbers below say nothing about rows like "
            "them."
        )
    return lines


def rests_on(
    data: DataSummary, resamples: int, metrics: Any, sampled: Any = None
) -> str:
    """The line saying how many rows each number rests on, and how; `sampled`
    is metrics.json's cv and bootstrap rows ({"cv": ..., "bootstrap": ...})."""
    sampled = sampled or {}
    boot = sampled.get("bootstrap")
    names = [name for name in metrics if name in PROPORTIONS]
    other = [name for name in metrics if name not in PROPORTIONS]
    parts = []
    if names:
        parts.append(
            ", ".join(names) + f": {method(names[0], data.test_rows, resamples)}"
        )
    if other and resamples:
        parts.append(
            ", ".join(other) + f": {method(other[0], data.test_rows, resamples, boot)}"
        )
    how = "; ".join(parts) if parts else "no intervals in this run"
    folds = rows_used(sampled.get("cv"), data.train_rows, "training")
    return (
        f"- **What the numbers rest on:** every test number on the "
        f"{data.test_rows} held-out rows the model never saw; cross-validation "
        f"on {folds}. Intervals (95%): {how}{rough(data.test_rows)}."
    )
