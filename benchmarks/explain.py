"""Benchmark what explaining costs: the evaluate stage before and after, and
`predict --explain` on many rows.

    uv run python -m benchmarks.explain [--before REF] [--rows 10000] [--repeat 3]

Renders the template twice with default answers: at git ref `--before` (the
template without explanations) and as the working tree; installs each in its own
environment and runs `dvc repro`. Then, in turns, times `<package> evaluate` in
each project (median of `--repeat`, wall clock, the whole command as DVC runs
it). In the new project it also times `predict` on `--rows` rows (the held-out
rows repeated) without and with `--explain 5`. Prints a markdown table.
Timings are not tests: this script reports, it does not fail.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from harness.env import commit_all
from harness.project import Project, private_site_cache_dir
from harness.template import TEMPLATE, render


def old_project(path: Path, venv: Path, ref: str) -> Project:
    """The template at git ref `ref`, rendered, committed and installed."""
    render(path, TEMPLATE, vcs_ref=ref)
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text(encoding="utf-8"))
    project = Project(path=path, venv=venv, answers=answers)
    commit_all(path, "Render from copier-mlops", env=project.env)
    private_site_cache_dir(path)
    project.uv("sync", "--quiet")
    return project


def timed(project: Project, *args: str) -> float:
    began = time.perf_counter()
    project.uv_run(*args)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="restructure", help="git ref of the old template")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="explain-bench-"))
    print(f"rendering, installing and training in {work} ...", file=sys.stderr)
    after = Project.create(work / "after", work / "venv-after")
    before = old_project(work / "before", work / "venv-before", args.before)
    for project in (before, after):
        project.repro()

    stages: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for name, project in (("before", before), ("after", after)):
            stages[name].append(timed(project, project.package, "evaluate"))

    profile = statistics.median(timed(after, after.package, "profile") for _ in range(args.repeat))
    test = pd.read_parquet(after.path / "data/prepared/test.parquet")
    target = after.read_yaml("params.yaml")["data"]["target"]
    rows = test.drop(columns=target)
    batch = rows.sample(n=args.rows, replace=True, random_state=0)
    batch.to_csv(after.path / "batch.csv", index=False)
    package = after.package
    plain = timed(after, package, "predict", "--input", "batch.csv", "--output", "p.csv")
    explained = timed(
        after, package, "predict", "--input", "batch.csv", "--output", "e.csv", "--explain", "5"
    )

    b, a = statistics.median(stages["before"]), statistics.median(stages["after"])
    print("| measurement | seconds |")
    print("| --- | ---: |")
    print(f"| `evaluate` before ({args.before}), median of {args.repeat} | {b:.1f} |")
    print(f"| `evaluate` after (explanations, calibration), median of {args.repeat} | {a:.1f} |")
    print(f"| ratio after / before | {a / b:.2f}x |")
    print(f"| new stage `profile`, median of {args.repeat} | {profile:.1f} |")
    print(f"| `predict`, {args.rows} rows | {plain:.1f} |")
    print(f"| `predict --explain 5`, {args.rows} rows | {explained:.1f} |")


if __name__ == "__main__":
    main()
