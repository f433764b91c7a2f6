"""tests/tools/subtrace.py: the timing of every subprocess.run, and its summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import subtrace


def test_every_run_is_logged_with_its_test_and_summed_by_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    log = tmp_path / "sub.log"
    monkeypatch.setattr(subprocess, "run", subprocess.run)  # undone after the test
    subtrace.install(log)
    subprocess.run([sys.executable, "-c", "import time; time.sleep(0.3)"], check=True)
    subprocess.run("true", shell=True, check=True)
    (first, second) = log.read_text().splitlines()
    test, seconds, command = first.split("\t")
    assert test == request.node.nodeid  # with xdist's @group suffix under make test
    assert 0.3 <= float(seconds) < 10
    assert command == f"{sys.executable} -c import time; time.sleep(0.3)"
    assert second.split("\t")[2] == "true"

    lines = [
        "t1\t20.00\tuv run --frozen --no-sync dvc repro",
        "t2\t5.50\tuv run --frozen --no-sync dvc repro",
        "t2\t1.25\tgit add -A",
        "t1\t3.00\tbash -eo pipefail -c uv run --frozen poe types",
    ]
    text = subtrace.summary(lines).splitlines()
    assert text[1:4] == [
        "   25.5      2  dvc repro",
        "    3.0      1  poe",
        "    1.2      1  git add",
    ]
    assert text[4] == "   29.8      4  in all"
    assert text[6:] == ["seconds  test", "   23.0  t1", "    6.8  t2"]
