"""Run a command of a rendered project's environment under GNU time."""

from __future__ import annotations

import re
import subprocess
import time

from harness.project import Project

TIME = "/usr/bin/time"


def run_timed(project: Project, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS of the largest process in MB, stdout) of the command
    `args` of the project's environment (`dvc repro`, `<package> predict ...`),
    run in the project; exits with the command's output if it fails."""
    venv = project.venv
    assert venv is not None
    env = {**project.env, "VIRTUAL_ENV": str(venv)}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    start = time.perf_counter()
    result = subprocess.run(
        [TIME, "-f", "RSS_KB=%M", str(venv / "bin" / args[0]), *args[1:]],
        cwd=project.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    rss = int(re.findall(r"RSS_KB=(\d+)", result.stderr)[-1]) / 1024
    return seconds, rss, result.stdout
