"""Benchmark batch scoring at any size: local streaming vs a 2-worker Dask cluster.

    uv run python -m benchmarks.scaling [--rows 5000000] [--parts 20] [--batch-rows 50000]

A rendered project (default answers, `model.type` as --model) trains on its demo
data; then a synthetic table shaped like the demo features (rows drawn from the
demo rows plus 5% noise) is written as `--parts` Parquet parts, a part at a time
(never the whole table in memory). Measured, each in its own process:

- rows/s of `predict --input parts` streaming locally, and of the same command
  with `--scheduler` on a local cluster (`dask scheduler` + 2 `dask worker`, 1
  thread and --memory-limit 2GiB each, harness.dask_cluster; cluster start-up
  not counted); outputs compared part by part;
- peak RSS (GNU time's %M) of local streaming `predict` on ONE Parquet file at
  least 4x larger (pandas, in memory) than the memory budget, the budget being
  BASE + 16 x one batch in memory, where BASE is the peak RSS of the same
  command on a 1,000-row file (interpreter, libraries, model). It must stay under.

This script reports; it does not fail.
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.timing import run_timed
from harness.dask_cluster import running_cluster
from harness.project import Project

TARGET = "diagnosis"
COPIES = 24
"""The budget allows this many in-memory copies of one batch (a first run with 16
went over: reading, conforming, the model's transforms and the output table each
hold a copy or two, and the allocator keeps some)."""


def synthetic(project: Project, path: Path, rows: int, seed: int, group: int = 100_000) -> int:
    """Write `rows` demo-like feature rows to the Parquet file `path` in row
    groups of `group`; return the bytes those rows take in memory (pandas)."""
    demo = pd.read_csv(project.path / "data" / "raw" / "demo.csv").drop(columns=TARGET)
    values = demo.to_numpy(dtype=float)
    spread = np.nanstd(values, axis=0) * 0.05
    rng = np.random.default_rng(seed)
    memory = 0
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, group):
        count = min(group, rows - start)
        block = values[rng.integers(0, len(values), count)]
        block = block + rng.normal(size=block.shape) * spread
        frame = pd.DataFrame(block, columns=demo.columns)
        memory += int(frame.memory_usage(deep=True).sum())
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return memory


def predict(project: Project, *args: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `<package> predict ARGS`."""
    return run_timed(project, project.package, "predict", *args)[:2]


def same_parts(first: Path, second: Path) -> bool:
    names = sorted(p.name for p in first.iterdir())
    if names != sorted(p.name for p in second.iterdir()):
        return False
    return all(pd.read_parquet(first / n).equals(pd.read_parquet(second / n)) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--parts", type=int, default=20)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--model", default="hist_gradient_boosting")
    parser.add_argument("--copies", type=int, default=COPIES, help="batches in the budget")
    parser.add_argument(
        "--memory-only", action="store_true", help="skip the rows/s runs (no cluster)"
    )
    args = parser.parse_args()
    batch = str(args.batch_rows)
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as folder:
        base = Path(folder)
        project = Project.create(base / "project", base / "venv")
        params = project.read_yaml("params.yaml")
        params["model"]["type"] = args.model
        project.write_yaml("params.yaml", params)
        project.repro()
        lines: list[str] = []
        if not args.memory_only:
            parts = project.path / "parts"
            parts.mkdir()
            size = math.ceil(args.rows / args.parts)
            memory = 0
            for index in range(args.parts):
                rows = min(size, args.rows - index * size)
                memory += synthetic(project, parts / f"in-{index:03d}.parquet", rows, seed=index)
            lines += [
                f"{args.rows:,} rows x 30 numeric columns in {args.parts} Parquet parts "
                f"({memory / 2**20:,.0f} MB in memory), model {args.model}, "
                f"--batch-rows {args.batch_rows:,}",
                "",
                "| run | seconds | rows/s | peak RSS MB (command) |",
                "| --- | --- | --- | --- |",
            ]
            seconds, rss = predict(
                project, "--input", "parts", "--output", "local", "--batch-rows", batch
            )
            lines.append(
                f"| local streaming | {seconds:.1f} | {args.rows / seconds:,.0f} | {rss:.0f} |"
            )
            logs = base / "dask-logs"
            with running_cluster(project, logs, workers=2, memory_limit="2GiB") as cluster:
                seconds, rss = predict(
                    project,
                    *("--input", "parts", "--output", "remote", "--batch-rows", batch),
                    *("--scheduler", cluster.address),
                )
            lines.append(
                f"| 2-worker cluster (same machine) | {seconds:.1f} | {args.rows / seconds:,.0f} | "
                f"{rss:.0f} (client only) |"
            )
            equal = same_parts(project.path / "local", project.path / "remote")
            lines.append(f"| outputs equal part by part | {equal} | | |")

        small = project.path / "small.parquet"
        row_bytes = synthetic(project, small, 1_000, seed=99) / 1_000
        _, baseline = predict(
            project, "--input", str(small), "--output", "small-out.parquet", "--batch-rows", batch
        )
        budget = baseline + args.copies * args.batch_rows * row_bytes / 2**20
        big_rows = math.ceil(4 * budget * 2**20 / row_bytes)
        big = project.path / "big.parquet"
        big_memory = synthetic(project, big, big_rows, seed=100)
        seconds, rss = predict(
            project, "--input", str(big), "--output", "big-out.parquet", "--batch-rows", batch
        )
        lines += [
            "",
            "| memory check | value |",
            "| --- | --- |",
            f"| base RSS (1,000-row file) | {baseline:.0f} MB |",
            f"| budget: base + {args.copies} x one batch ({args.batch_rows:,} rows) "
            f"| {budget:.0f} MB |",
            f"| big file | {big_rows:,} rows, {big_memory / 2**20:,.0f} MB in memory "
            f"({big_memory / 2**20 / budget:.1f}x the budget), "
            f"{big.stat().st_size / 2**20:,.0f} MB on disk |",
            f"| peak RSS streaming it | {rss:.0f} MB "
            f"({'under' if rss < budget else 'OVER'} the budget), "
            f"{seconds:.1f} s, {big_rows / seconds:,.0f} rows/s |",
            "",
            f"machine: {platform.machine()}, Python {platform.python_version()}",
        ]
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
