"""Progress of long work, on stderr: one line per step, and the stage's wall time.

Lines, never carriage-return bars, so a CI log holds one line per step whatever
the terminal. stdout keeps each command's result (what `dvc repro` shows after the
stage name); progress goes to stderr, where a script can drop it.
"""

import os
import sys
import time

STARTED = time.monotonic()
"""When the command started (this module is imported with the command line)."""


def elapsed() -> float:
    """Seconds since the command started."""
    return time.monotonic() - STARTED


def no_bars() -> None:
    """No progress bars from MLflow (artifact downloads) when stderr is not a
    terminal: their carriage returns fill CI logs. Applied by tracking.use_store."""
    if not sys.stderr.isatty():
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def step(what: str) -> None:
    """Say which step the command is on."""
    print(f"  {what} ({elapsed():.1f} s)", file=sys.stderr, flush=True)


class Throttled:
    """Step lines at most every `seconds`: work that finishes sooner says nothing
    (a small `predict` prints its result, or its one-line error, alone)."""

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self.last = time.monotonic()

    def step(self, what: str) -> None:
        """Say `what` if `seconds` have passed since the last line (or the start)."""
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            step(what)


def done() -> None:
    """The last line of every command: how long it took."""
    print(f"done in {elapsed():.1f} s", file=sys.stderr, flush=True)


def trial(number: int, total: int, value: float | None, best: float | None) -> None:
    """One line per finished tuning trial: n/N, its value, the best so far."""
    shown = "failed or pruned" if value is None else f"{value:.4g}"
    best_text = "none yet" if best is None else f"{best:.4g}"
    print(
        f"  trial {number}/{total}: {shown}, best {best_text} ({elapsed():.1f} s)",
        file=sys.stderr,
        flush=True,
    )
