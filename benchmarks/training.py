"""Benchmark LightGBM training on a Dask cluster, on data larger than a worker's memory.

    uv run python -m benchmarks.training [--workers 10] [--memory-limit 1GiB] [--factor 2]

A rendered project (classification demo data, `model.type: lightgbm`, 100 rounds)
runs its pipeline once; then its training split (data/prepared/train.parquet) is
replaced by a synthetic table shaped like the demo rows (rows drawn from them with
5% noise, each with its row's label) that takes at least `--factor` x one worker's
memory limit in memory (pandas, deep). It is written in row groups of 100,000 rows,
never whole in memory here. Measured, each in its own process:

- `train --scheduler` against `--workers` memory-limited `dask worker`s (1 thread
  each, harness.dask_cluster; cluster start-up not counted): wall time, peak RSS of
  the command (the client) and of the largest worker (its process group, sampled
  every 0.2 s from /proc), and the trained model's macro F1 on the project's test rows;
- with `--local`, the same `train` without a scheduler on this machine: wall time
  and peak RSS (what one machine needs for the same data).

This script reports; it does not fail.
"""

from __future__ import annotations

import argparse
import platform
import re
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.timing import run_timed
from harness.dask_cluster import DaskCluster, running_cluster
from harness.project import Project
from harness.servers import group_members

TARGET = "diagnosis"
GROUP = 100_000
UNITS = {"MiB": 2**20, "GiB": 2**30, "MB": 10**6, "GB": 10**9}

F1 = """
import joblib, pandas as pd
from sklearn.metrics import f1_score
model = joblib.load("models/model.joblib")
test = pd.read_parquet("data/prepared/test.parquet")
print(f1_score(test["diagnosis"], model.predict(test.drop(columns="diagnosis")), average="macro"))
"""


def size_bytes(text: str) -> int:
    found = re.fullmatch(r"([\d.]+)\s*(MiB|GiB|MB|GB)", text)
    if not found:
        raise SystemExit(f"--memory-limit {text}: write it as 1GiB, 512MiB, 2GB")
    return int(float(found[1]) * UNITS[found[2]])


def synthetic(project: Project, path: Path, target_bytes: int, seed: int = 0) -> tuple[int, int]:
    """Write demo-like labelled rows to `path` until they take `target_bytes` in
    memory (pandas, deep); return (rows, bytes in memory)."""
    demo = pd.read_csv(project.path / "data" / "raw" / "demo.csv")
    labels = demo[TARGET].to_numpy()
    features = demo.drop(columns=TARGET)
    values = features.to_numpy(dtype=float)
    spread = np.nanstd(values, axis=0) * 0.05
    rng = np.random.default_rng(seed)
    rows = memory = 0
    writer: pq.ParquetWriter | None = None
    while memory < target_bytes:
        picked = rng.integers(0, len(values), GROUP)
        block = values[picked] + rng.normal(size=(GROUP, values.shape[1])) * spread
        frame = pd.DataFrame(block, columns=features.columns)
        frame[TARGET] = labels[picked]
        memory += int(frame.memory_usage(deep=True, index=False).sum())
        rows += GROUP
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return rows, memory


class PeakRss:
    """The largest RSS (MB) any one worker's process group reached while running."""

    def __init__(self, cluster: DaskCluster) -> None:
        self.cluster = cluster
        self.peak = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.done.wait(0.2):
            for worker in self.cluster.workers:
                kb = 0
                for pid in group_members(worker.pid):
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    found = re.search(r"VmRSS:\s+(\d+) kB", status)
                    kb += int(found[1]) if found else 0
                self.peak = max(self.peak, kb / 1024)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def train(project: Project, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of `<package> train ARGS`."""
    return run_timed(project, project.package, "train", *args)


def f1(project: Project) -> float:
    return float(project.uv_run("python", "-c", F1).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--memory-limit", default="1GiB", help="of each worker")
    parser.add_argument("--factor", type=float, default=2.0, help="data / one worker's limit")
    parser.add_argument("--local", action="store_true", help="also train without a cluster")
    args = parser.parse_args()
    limit = size_bytes(args.memory_limit)
    with tempfile.TemporaryDirectory(prefix="bench-training-") as folder:
        base = Path(folder)
        project = Project.create(base / "project", base / "venv")
        params = project.read_yaml("params.yaml")
        params["model"]["type"] = "lightgbm"
        params["model"]["lightgbm"]["n_estimators"] = 100
        project.write_yaml("params.yaml", params)
        project.repro()
        train_path = project.path / "data" / "prepared" / "train.parquet"
        train_path.unlink()
        rows, memory = synthetic(project, train_path, int(args.factor * limit))
        lines = [
            f"training data: {rows:,} rows x 30 numeric columns + the label, "
            f"{memory / 2**20:,.0f} MB in memory ({memory / limit:.1f}x one worker's "
            f"{args.memory_limit}), {train_path.stat().st_size / 2**20:,.0f} MB Parquet; "
            "LightGBM, 100 rounds",
            "",
            "| run | seconds | peak RSS MB | test F1 (macro) |",
            "| --- | --- | --- | --- |",
        ]
        logs = base / "dask-logs"
        with (
            running_cluster(
                project, logs, workers=args.workers, memory_limit=args.memory_limit
            ) as cluster,
            PeakRss(cluster) as workers,
        ):
            seconds, rss, out = train(project, "--scheduler", cluster.address)
        assert out.startswith("trained on the Dask cluster"), out
        lines.append(
            f"| {args.workers} workers x 1 thread, {args.memory_limit} each (same machine) "
            f"| {seconds:.1f} | client {rss:.0f}, largest worker {workers.peak:.0f} "
            f"| {f1(project):.3f} |"
        )
        if args.local:
            seconds, rss, _ = train(project)
            lines.append(
                f"| this machine, no cluster | {seconds:.1f} | {rss:.0f} | {f1(project):.3f} |"
            )
        lines += ["", f"machine: {platform.machine()}, Python {platform.python_version()}"]
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
