"""Benchmark the pipeline on a large synthetic table; print a markdown table.

    uv run python -m benchmarks.large [--rows 1000000 ...] [--trials 4] [--family F]
        [--task T] [--set evaluate.cv_folds=1 ...] [--no-bare]

`make bench-large` runs it at 100,000 and 1,000,000 rows (`--rows` repeats: one
table per row count, smallest first).

For each task, a table of `--rows` rows x 20 feature columns (15 numeric with 5%
missing values, 5 string columns of 3 to 50 values, some missing) is written to
a rendered project's data/raw/. Then, per stage:
- `dvc repro -s <stage>` (check, prepare, tune, profile, train, evaluate), wall-clock time and the
  peak RSS of the largest process (GNU time's %M);
- the same stage functions called bare, one after the other in one Python process
  (no DVC, no MLflow), each timed, with the process's peak RSS.
And tuning throughput: `tune` with `--trials` trials of the family, `tune.n_jobs`
1 and 2, in trials per minute (a fresh study each time; `--trials 0` skips
it). `--family` sets
`model.type` (default: the template's, lightgbm); `--family torch_mlp`
renders with `deep_learning=true torch_index=pypi` (the only PyTorch build this
machine reaches). `--task` measures one task; `--set dotted.key=value` (a YAML
value, repeatable) changes params.yaml before the first stage, the same for every
family (`evaluate.cv_folds=1`, `model.torch_mlp.max_epochs=10`); `--no-bare`
skips the bare run (it trains and evaluates a second time). After the table, one
line per task gives the test metrics of reports/metrics.json and the epochs or
boosting rounds run (`early_stopping`).

Targets: repro / bare <= 1.25 per pipeline, peak RSS <= 3x the table's in-memory
size (pandas, deep). Timings are not tests: this script reports, it does not fail.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from benchmarks.timing import run_timed
from harness.project import Project

PACKAGE = "my_ml_project"
STAGES = ("check", "prepare", "tune", "profile", "train", "evaluate")

BARE = f"""
import json, resource, sys, time
from pathlib import Path
from {PACKAGE}.core import paths
from {PACKAGE}.data import profile
from {PACKAGE}.training.check import check
from {PACKAGE}.reporting import evaluate
from {PACKAGE}.config import load_config
from {PACKAGE}.data.tables import prepare
from {PACKAGE}.training.tune import tune
from {PACKAGE}.training.train import train
from {PACKAGE}.versioning.registry import Promotion
root = Path.cwd()
cfg = load_config(root / paths.PARAMS)
times = {{}}
start = time.perf_counter(); check(root / paths.PARAMS, root)
times["check"] = time.perf_counter() - start
start = time.perf_counter(); prepare(cfg, root)
times["prepare"] = time.perf_counter() - start
start = time.perf_counter(); tune(cfg, root); times["tune"] = time.perf_counter() - start
start = time.perf_counter(); profile.run(cfg, root)
times["profile"] = time.perf_counter() - start
start = time.perf_counter(); train(cfg, root); times["train"] = time.perf_counter() - start
# evaluate.evaluate() without MLflow (no run, no registry): measure() and the card.
start = time.perf_counter()
measured = evaluate.measure(cfg, root)
evaluate.write_card(cfg, root, measured, "bare", Promotion("bare", "1", True, "bare"))
times["evaluate"] = time.perf_counter() - start
times["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(times))
"""


def table(rows: int, task: str, seed: int = 0) -> pd.DataFrame:
    """15 numeric and 5 string columns with missing values, and a target."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, 15))
    frame = pd.DataFrame(numbers, columns=[f"x{i}" for i in range(15)])
    for i, size in enumerate((3, 5, 10, 20, 50)):
        codes = rng.integers(0, size, rows)
        frame[f"s{i}"] = pd.Series([f"v{c}" for c in range(size)]).to_numpy()[codes]
    signal = numbers[:, 0] + 0.5 * numbers[:, 1] - numbers[:, 2] * numbers[:, 3]
    signal += (frame["s0"] == "v1").to_numpy() * 1.5
    noisy = signal + rng.normal(scale=0.5, size=rows)
    for column in frame.columns:
        frame.loc[rng.random(rows) < 0.05, column] = np.nan
    frame["target"] = np.where(noisy > 0, "yes", "no") if task == "classification" else noisy
    return frame


def set_params(project: Project, **changes: object) -> None:
    params = yaml.safe_load((project.path / "params.yaml").read_text())
    for dotted, value in changes.items():
        section = params
        *parents, key = dotted.split(".")
        for part in parents:
            if not isinstance(section.get(part), dict):
                raise SystemExit(
                    f"--set {dotted}: params.yaml has no section {part!r} in this render "
                    f"(model.torch_mlp exists only with --family torch_mlp)"
                )
            section = section[part]
        section[key] = value
    (project.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def answers(family: str) -> dict[str, object]:
    """The render's answers a family needs: torch_mlp exists only with deep_learning."""
    if family == "torch_mlp":
        return {"deep_learning": True, "torch_index": "pypi"}
    return {}


def overrides(pairs: list[str]) -> dict[str, object]:
    """`--set a.b=value` pairs as params changes, each value read as YAML (1, 0.5, true)."""
    changes: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {pair}: expected dotted.key=value, e.g. evaluate.cv_folds=1")
        changes[key] = yaml.safe_load(value)
    return changes


def outcome(project: Project, task: str, family: str, rows: int) -> str:
    """One markdown row: the test metrics and early stopping of reports/metrics.json."""
    report = project.read_json("reports/metrics.json")
    scores = ", ".join(
        f"{name} {value:.4f}"
        for name, value in report.items()
        if isinstance(value, float) and name != "test_rows"
    )
    stopping = report.get("early_stopping") or {}
    return (
        f"| {rows:,} | {task} | {family} | {scores} | {report['test_rows']:,} | "
        f"{stopping.get('rounds', '')} | {stopping.get('best_iteration', '')} |"
    )


def measure(
    task: str,
    rows: int,
    trials: int,
    family: str,
    base: Path,
    venv: Path,
    changes: dict[str, object],
    bare_run: bool = True,
) -> tuple[list[str], str]:
    project = Project.create(base / f"{task}-{rows}", venv, task=task, **answers(family))
    data = table(rows, task)
    memory_mb = data.memory_usage(deep=True).sum() / 2**20
    (project.path / "data/raw").mkdir(parents=True, exist_ok=True)
    data.to_csv(project.path / "data/raw/big.csv", index=False)
    set_params(
        project,
        **{"data.path": "data/raw/big.csv", "data.target": "target", "model.type": family},
        **changes,
    )
    lines = []
    repro: dict[str, tuple[float, float]] = {}
    for stage in STAGES:
        repro[stage] = run_timed(project, "dvc", "repro", "-s", stage)[:2]
        print(f"# {task} dvc repro -s {stage}: {repro[stage]}", file=sys.stderr, flush=True)
    result = outcome(project, task, family, rows)
    print(f"# {task} {result}", file=sys.stderr, flush=True)
    bare = bare_times(project, venv) if bare_run else None
    total_repro = sum(seconds for seconds, _ in repro.values())
    peak = max(rss for _, rss in repro.values())
    for stage in STAGES:
        seconds, rss = repro[stage]
        share = f"{rss / memory_mb:.1f}x"
        if bare is None:
            lines.append(
                f"| {rows:,} | {task} | {stage} | {seconds:.1f} | | | {rss:.0f} | {share} |"
            )
        else:
            lines.append(
                f"| {rows:,} | {task} | {stage} | {seconds:.1f} | {bare[stage]:.1f} | "
                f"{seconds / max(bare[stage], 1e-9):.2f} | {rss:.0f} | {share} |"
            )
    if bare is None:
        lines.append(
            f"| {rows:,} | {task} | **all** | {total_repro:.1f} | | | {peak:.0f} "
            f"(data {memory_mb:.0f} MB) | {peak / memory_mb:.1f}x |"
        )
    else:
        total_bare = sum(bare[stage] for stage in STAGES)
        lines.append(
            f"| {rows:,} | {task} | **all** | {total_repro:.1f} | {total_bare:.1f} | "
            f"{total_repro / total_bare:.2f} | {peak:.0f} (bare {bare['rss_mb']:.0f}; "
            f"data {memory_mb:.0f} MB) | {peak / memory_mb:.1f}x |"
        )
    for jobs in (1, 2) if trials else ():  # --trials 0: no throughput rows
        shutil.rmtree(project.path / "tuning", ignore_errors=True)
        set_params(project, **{"tune.n_trials": trials, "tune.n_jobs": jobs})
        seconds, _, _ = run_timed(project, PACKAGE, "tune")
        lines.append(
            f"| {rows:,} | {task} | tune {trials} trials, n_jobs {jobs} | {seconds:.1f} "
            f"| | | {trials / seconds * 60:.2f} trials/min | |"
        )
    return lines, result


def bare_times(project: Project, venv: Path) -> dict[str, float]:
    """The stage functions called one after the other in one process (BARE)."""
    env = {**project.env, "VIRTUAL_ENV": str(venv)}
    bare: dict[str, float] = json.loads(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", BARE],
            cwd=project.path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
    )
    print(f"# bare: {bare}", file=sys.stderr, flush=True)
    return bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="repeatable")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--family", default="lightgbm", help="model.type")
    parser.add_argument("--task", choices=("classification", "regression"), action="append")
    parser.add_argument("--set", dest="changes", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-bare", dest="bare", action="store_false")
    args = parser.parse_args()
    changes = overrides(args.changes)
    with tempfile.TemporaryDirectory(prefix="bench-large-") as folder:
        base = Path(folder)
        venv = base / "venv"
        settings = ", ".join(f"{k}={v}" for k, v in changes.items()) or "template defaults"
        counts = sorted(args.rows or [1_000_000])
        sizes = ", ".join(f"{rows:,}" for rows in counts)
        print(f"{sizes} rows x 20 columns, model.type {args.family}; {settings}\n")
        print("| rows | task | stage | dvc repro s | bare s | ratio | peak RSS MB | peak / data |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        results = []
        for rows in counts:
            for task in args.task or ("classification", "regression"):
                lines, result = measure(
                    task, rows, args.trials, args.family, base, venv, changes, args.bare
                )
                results.append(result)
                for line in lines:
                    print(line, flush=True)
        print("\n| rows | task | family | test metrics | test rows | rounds run | best |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for result in results:
            print(result, flush=True)


if __name__ == "__main__":
    main()
