"""Where the suite's time goes: every `subprocess.run` of the test processes, timed.

`SUBTRACE_LOG=/tmp/sub.log make test` makes tests/conftest.py install this in each
worker: one line per `subprocess.run` (the test's node id, the seconds, the command)
is appended to the file. Then

    uv run python -m tests.tools.subtrace /tmp/sub.log

prints the seconds by kind of command (a `dvc repro`, an image build, the generated
project's own pytest, ...) and the tests that spent the most. Servers started with
`Popen` are not counted; a test's own Python work is its time minus these.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# The first of these found in a command names its kind; otherwise its first two words.
KINDS = (
    "dvc repro",
    "dvc exp run",
    "buildah bud",
    "docker build",
    "pytest",
    "mypy",
    "poe",
    "uv lock",
    "uv sync",
    "copier",
    " predict ",
    "python -c",
)


def install(log: Path) -> None:
    """Time every later `subprocess.run` of this process into `log`."""
    run = subprocess.run

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return run(*args, **kwargs)
        finally:
            command = args[0] if args else kwargs.get("args")
            if isinstance(command, list | tuple):
                command = " ".join(str(part) for part in command)
            test = os.environ.get("PYTEST_CURRENT_TEST", "-").split(" ")[0]
            line = f"{test}\t{time.monotonic() - started:.2f}\t{' '.join(str(command).split())}"
            with log.open("a", encoding="utf-8") as out:
                out.write(line[:500] + "\n")

    subprocess.run = timed  # type: ignore[assignment]


def kind(command: str) -> str:
    for name in KINDS:
        if name in f" {command} ":
            return name.strip()
    return " ".join(command.split()[:2])


def summary(lines: Iterable[str], top: int = 15) -> str:
    """The seconds by kind of command and by test, largest first, as text."""
    by_kind: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    by_test: Counter[str] = Counter()
    for line in lines:
        test, seconds, command = line.rstrip("\n").split("\t", 2)
        named = kind(command)
        by_kind[named] += float(seconds)
        calls[named] += 1
        by_test[test] += float(seconds)
    out = ["seconds  calls  kind of command"]
    out += [f"{s:7.1f}  {calls[k]:5d}  {k}" for k, s in by_kind.most_common(top)]
    out += [f"{sum(by_kind.values()):7.1f}  {sum(calls.values()):5d}  in all", ""]
    out += ["seconds  test"]
    out += [f"{s:7.1f}  {t}" for t, s in by_test.most_common(top)]
    return "\n".join(out)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()))
