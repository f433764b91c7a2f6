"""Benchmark: the generated project's `serve` vs `mlflow models serve`, same model.

    uv run python -m benchmarks.serving [--requests 500] [--clients 1,16]   (from the repo root)

Renders the template with default answers into a temporary folder, installs it,
runs `dvc repro` (which logs the model to the project's MLflow store), then serves
that one model twice, one server at a time, on 127.0.0.1:

- ours:   `<package> serve` (FastAPI + uvicorn, models/model.joblib)
- MLflow: `mlflow models serve -m <the logged model> --env-manager local -w 1`

Each server gets the same load from the same client (httpx, keep-alive, one record
per request, the held-out rows in turn): a warm-up, then `--requests` requests from
N concurrent clients, for each N in `--clients`. Both servers must answer every
request with 200 and the same predicted labels. Our server's `POST /explain`
(top 5 columns) is also measured for one record per request from one client (at
most 200 requests). Prints a markdown table of requests/s and p50/p99 latency.
One run each: numbers move with machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from harness.project import Project
from harness.servers import Server, free_port


@dataclass
class Result:
    server: str
    clients: int
    requests: int
    seconds: float
    latencies: list[float]
    labels: list[Any]

    def row(self) -> str:
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = self.requests / self.seconds
        return (
            f"| {self.server} | {self.clients} | {self.requests} | {rate:.1f} "
            f"| {p50:.1f} | {p99:.1f} |"
        )


def start(project: Project, args: list[str], url: str, health: str, log: Path) -> Server:
    """Start a server in its own process group and wait until `health` answers 200."""
    server = Server.start(
        args[0],
        ["uv", "run", "--frozen", "--no-sync", *args],
        log,
        env={**project.env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        cwd=project.path,
        url=url,
    )
    try:
        server.wait_http(health, timeout=180)
    except RuntimeError as exc:
        stop(server)
        raise SystemExit(str(exc)) from exc
    return server


def stop(server: Server) -> None:
    """Stop the server's whole process group (`mlflow models serve` runs its uvicorn
    workers as children that can outlive the leader); say so if any had to be killed.
    """
    left = server.stop(timeout=30)
    if left:
        print(f"{server.name}: processes {left} outlived SIGTERM and SIGKILL", file=sys.stderr)


async def load(
    url: str, bodies: list[dict[str, Any]], clients: int, requests: int
) -> tuple[float, list[float], list[Any]]:
    """Send `requests` POSTs from `clients` concurrent clients; time each one."""
    latencies: list[float] = [0.0] * requests
    labels: list[Any] = [None] * requests
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        for body in bodies[:20]:  # warm-up: connections, caches, lazy imports
            (await client.post(url, json=body)).raise_for_status()
        jobs = iter(range(requests))

        async def worker() -> None:
            for i in jobs:
                began = time.perf_counter()
                response = await client.post(url, json=bodies[i % len(bodies)])
                latencies[i] = time.perf_counter() - began
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text}")
                answer = response.json()
                labels[i] = (
                    answer["predictions"][0]
                    if "predictions" in answer
                    else answer["explanations"][0]["prediction"]
                )

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - began, latencies, labels


def ours_labels(results: list[Result]) -> list[Any]:
    """The labels of our server at one client."""
    return next(r.labels for r in results if r.server.startswith("ours") and r.clients == 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="per server and load level")
    parser.add_argument("--clients", default="1,16", help="concurrent clients, comma-separated")
    parser.add_argument("--keep", type=Path, help="render here and keep it (default: temp)")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]

    work = args.keep or Path(tempfile.mkdtemp(prefix="serving-bench-"))
    print(f"rendering, installing and training in {work} ...", file=sys.stderr)
    project = Project.create(work / "project", work / "venv")
    project.repro()
    run = project.last_mlflow_run()
    model_uri = run["models"][0]["artifact_location"]

    rows = pd.read_parquet(project.path / "data/prepared/test.parquet").drop(columns="diagnosis")
    records = rows.to_dict(orient="records")
    servers = {
        "ours (`serve`)": (
            [project.package, "serve"],
            "/health",
            "/predict",
            [{"records": [r]} for r in records],
        ),
        "`mlflow models serve`": (
            ["mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local", "-w", "1"],
            "/ping",
            "/invocations",
            [{"dataframe_records": [r]} for r in records],
        ),
    }
    results: list[Result] = []
    explained: Result | None = None
    for name, (command, health, path, bodies) in servers.items():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        flags = ["--host", "127.0.0.1", "--port", str(port)]
        if command[0] == "mlflow":
            flags = ["-h", "127.0.0.1", "-p", str(port)]
        print(f"starting {name} ...", file=sys.stderr)
        server = start(project, command + flags, base, health, work / f"{port}.log")
        try:
            for clients in levels:
                seconds, latencies, labels = asyncio.run(
                    load(base + path, bodies, clients, args.requests)
                )
                results.append(Result(name, clients, args.requests, seconds, latencies, labels))
            if path == "/predict":  # our /explain: one record per request, one client
                count = min(args.requests, 200)
                seconds, latencies, labels = asyncio.run(
                    load(base + "/explain?top=5", bodies, 1, count)
                )
                explained = Result("ours `/explain`", 1, count, seconds, latencies, labels)
        finally:
            stop(server)

    if explained is None:
        raise SystemExit("our server was not measured")
    if explained.labels != ours_labels(results)[: explained.requests]:
        raise SystemExit("/explain and /predict disagree")
    ours = [r for r in results if r.server.startswith("ours")]
    theirs = [r for r in results if not r.server.startswith("ours")]
    for a, b in zip(ours, theirs, strict=True):
        if a.labels != b.labels:
            raise SystemExit(f"the servers disagree at {a.clients} clients")

    print("| server | clients | requests | requests/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for result in sorted(results, key=lambda r: (r.clients, r.server)):
        print(result.row())
    print(explained.row())
    print()
    for a, b in zip(ours, theirs, strict=True):
        ratio = (a.requests / a.seconds) / (b.requests / b.seconds)
        print(f"- {a.clients} client(s): ours serves {ratio:.1f}x MLflow's requests/s")
    print(f"- one record per request; {os.cpu_count()} CPUs; same labels from both servers")


if __name__ == "__main__":
    main()
