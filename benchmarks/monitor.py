"""Benchmark: `<package> monitor` on a large batch; time and peak memory.

    uv run python -m benchmarks.monitor [--rows 1000000]   (from the repository root)

Renders the template with default answers (classification, 30 numeric features,
100-tree random forest) into a temporary folder, installs it, runs `dvc repro`,
then draws `--rows` rows from the training rows (with replacement, seed 0) into a
Parquet file and a CSV file. For each, one run of

    <package> monitor --input BATCH --no-mlflow

under /usr/bin/time: wall-clock seconds and the peak resident memory of the
process. The model scores every row (the batch has no `prediction` column), so the
time includes predicting. One run each: numbers move with machine load. Prints a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from harness.project import Project

MAKE_BATCH = """
import sys
import pandas as pd
rows = int(sys.argv[1])
train = pd.read_parquet("data/prepared/train.parquet").drop(columns="diagnosis")
batch = train.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
batch.to_parquet("batch.parquet", index=False)
batch.to_csv("batch.csv", index=False)
"""


def measure(project: Project, batch: str) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit status) of one `monitor` run on `batch`."""
    python = project.uv_run("python", "-c", "import sys; print(sys.executable)", capture=True)
    binary = Path(python.stdout.strip()).parent / project.package
    result = project.run(
        "/usr/bin/time",
        "-f",
        "%e %M",
        binary,
        "monitor",
        "--input",
        batch,
        "--no-mlflow",
        check=False,
        capture=True,
    )
    if result.returncode not in (0, 3):
        raise SystemExit(f"monitor failed:\n{result.stdout}\n{result.stderr}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        project = Project.create(Path(tmp) / "project", Path(tmp) / "venv")
        project.repro()
        project.uv_run("python", "-c", MAKE_BATCH, str(args.rows))
        sizes = {
            name: (project.path / name).stat().st_size / 2**20
            for name in ("batch.parquet", "batch.csv")
        }
        rows = []
        for name in ("batch.parquet", "batch.csv"):
            seconds, mib, status = measure(project, name)
            report = json.loads((project.path / "reports/monitor/drift.json").read_text())
            assert report["rows"] == args.rows, report["rows"]
            rows.append((name, sizes[name], seconds, mib, status, report["flagged"]))
    bytecode = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "unset"
    print(
        f"rows: {args.rows:,}; load average before: {load[0]:.2f}; "
        f"PYTHONDONTWRITEBYTECODE {bytecode}; Python {sys.version.split()[0]}"
    )
    print()
    print("| input | size | wall time | peak memory | exit | flagged |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, size, seconds, mib, status, flagged in rows:
        print(
            f"| {name} | {size:.0f} MiB | {seconds:.1f} s | {mib:.0f} MiB | {status} "
            f"| {', '.join(flagged) or 'none'} |"
        )


if __name__ == "__main__":
    main()
