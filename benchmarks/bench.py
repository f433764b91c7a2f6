"""Benchmark the template and the project it renders; print a markdown table.

    uv run python -m benchmarks.bench [--repeat N]   (from the repository root)

Measures, on this machine:
- render: `copier copy --defaults` of the working tree (median of N);
- first green: render + `uv sync` (warm uv cache, new environment) + `dvc repro` +
  the generated tests (`pytest`), one wall-clock run;
- `dvc repro --force` from clean vs the same stage functions called bare in one
  Python process (no DVC, no MLflow), median of N each;
- no-op `dvc repro` (everything up to date), median of N;
- MLflow alone: one process that opens a new SQLite store and logs one param to one
  run, as the evaluate stage must at least do (median of N). Added to the bare run,
  it bounds repro / bare from below, whatever DVC and the stages cost.

Targets (2 cores): repro / bare <= 2.0, no-op repro <= 2 s, first green <= 40 s.
Timings are not tests: this script reports, it does not fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.env import clean_env
from harness.project import Project
from harness.template import render

PACKAGE = "my_ml_project"

# The stage functions, called directly: what the pipeline costs without DVC and MLflow.
BARE = f"""
from pathlib import Path
from {PACKAGE}.core import paths
from {PACKAGE}.config import load_config
from {PACKAGE}.data.demo import write_demo
from {PACKAGE}.data.tables import prepare
from {PACKAGE}.training.train import train
from {PACKAGE}.training.tune import tune
from {PACKAGE}.reporting.evaluate import certainty
from {PACKAGE}.versioning.registry import Promotion
from {PACKAGE}.reporting import model_card
from {PACKAGE}.modeling.tasks import current
import json, pandas as pd
root = Path.cwd()
cfg = load_config(root / paths.PARAMS)
write_demo(root / paths.DEMO_DATA)
prepared = prepare(cfg, root)
tune(cfg, root)
model = train(cfg, root)
test = prepared.test
features, target = test.drop(columns=cfg.data.target), test[cfg.data.target]
scores = current().compute_metrics(model, features, target)
facts = certainty(cfg, root, model, test)
images = current().write_plots(model, features, target, root)
card = model_card.render(root / paths.CARD_TEMPLATE, cfg=cfg, model=model, run_id="bare",
    experiment="bare", metrics=scores, data=prepared.summary, images=images,
    certainty=facts, promotion=Promotion("bare", "1", True, "bare"))
model_card.write(root, card)
"""

# The least a pipeline that tracks with MLflow adds: one run in a new SQLite store.
MLFLOW_FLOOR = """
import gc, mlflow
mlflow.set_tracking_uri("sqlite:///floor.db")
with mlflow.start_run():
    mlflow.log_param("n_estimators", 100)
gc.freeze()  # exit as quickly as the project's CLI does
"""


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(
    repeat: int, action: Callable[[], object], before: Callable[[], object] | None = None
) -> float:
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        samples.append(timed(action))
    return statistics.median(samples)


def remove_outputs(project: Path) -> None:
    for folder in ("data", "models", "reports", "mlruns"):
        shutil.rmtree(project / folder, ignore_errors=True)
    for name in ("mlflow.db", "MODEL_CARD.md"):
        (project / name).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="samples per median (default 3)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="copier-mlops-bench-"))
    try:
        # Warm the uv cache and the file system once; not measured.
        Project.create(work / "warm")

        render_s = median_of(args.repeat, lambda: render(Path(tempfile.mkdtemp(dir=work)) / "p"))

        # Render, git init and commit, `uv sync` into the project's own .venv, then
        # `uv run --frozen` (which checks the environment is in sync) for each step.
        started = time.perf_counter()
        project = Project.create(work / "first-green" / "my-ml-project")
        project.run("uv", "run", "--frozen", "dvc", "repro")
        project.run("uv", "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider")
        first_green_s = time.perf_counter() - started

        def repro(*flags: str) -> None:
            project.run("uv", "run", "--frozen", "dvc", "repro", *flags)

        def bare() -> None:
            project.run("uv", "run", "--frozen", "python", "-c", BARE)

        def clean() -> None:
            remove_outputs(project.path)

        repro_s = median_of(args.repeat, lambda: repro("--force"), before=clean)
        bare_s = median_of(args.repeat, bare, before=clean)
        clean()
        repro()
        noop_s = median_of(args.repeat, repro)
        floor = work / "mlflow-floor"
        floor.mkdir()

        def new_store() -> None:
            shutil.rmtree(floor)
            floor.mkdir()

        def mlflow_alone() -> None:
            python = project.path / ".venv" / "bin" / "python"
            command = [str(python), "-c", MLFLOW_FLOOR]
            subprocess.run(command, cwd=floor, env=clean_env(), check=True, capture_output=True)

        floor_s = median_of(args.repeat, mlflow_alone, before=new_store)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = repro_s / bare_s
    rows = [
        ("render (`copier copy --defaults`)", f"{render_s:.2f} s", "", ""),
        (
            "first green: render + warm `uv sync` + `dvc repro` + tests",
            f"{first_green_s:.1f} s",
            "<= 40 s",
            first_green_s <= 40,
        ),
        ("`dvc repro --force` from clean", f"{repro_s:.1f} s", "", ""),
        ("same stage functions, bare (no DVC, no MLflow)", f"{bare_s:.1f} s", "", ""),
        ("repro / bare", f"{ratio:.2f}", "<= 2.0", ratio <= 2.0),
        ("no-op `dvc repro`", f"{noop_s:.2f} s", "<= 2 s", noop_s <= 2.0),
        ("MLflow alone: one run in a new SQLite store", f"{floor_s:.1f} s", "", ""),
        (
            "lower bound of repro / bare: (bare + MLflow alone) / bare",
            f"{(bare_s + floor_s) / bare_s:.2f}",
            "",
            "",
        ),
    ]
    machine = f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    print(f"{machine}; median of {args.repeat} where repeated.\n")
    print("| measure | result | target | met |")
    print("| --- | --- | --- | --- |")
    for name, value, target, met in rows:
        verdict = "" if target == "" else ("yes" if met else "no")
        print(f"| {name} | {value} | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
