"""A real Dask cluster on 127.0.0.1 for tests and benchmarks: one scheduler, N workers.

Every process is started from a rendered project's own environment
(`.venv/bin/dask`, the `dask scheduler` and `dask worker` commands a user runs),
so the workers can import the project's package and unpickle its model. Each
process runs in its own session (process group), as harness/servers.py does it:
`stop` kills the groups and returns what is left (nothing, when clean), and
`kill_worker` takes one worker (its nanny and the worker process) away with
SIGKILL, the way a machine is lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.project import Project
from harness.servers import HOST, Server, free_port, group_members

WORKER_EVENT = re.compile(r"(?P<event>Register|Remove) worker addr: \S+ name: (?P<name>[\w-]+)")
READY = 90.0
"""Seconds for the scheduler to answer and the workers to register (imports are slow)."""


@dataclass
class DaskCluster:
    """A scheduler and its workers; `address` is what DASK_SCHEDULER_ADDRESS takes."""

    scheduler: Server
    address: str
    dashboard: str
    workers: list[Server] = field(default_factory=list)

    def ready(self) -> bool:
        """Whether the scheduler answers on its HTTP port (`/health`)."""
        return httpx.get(f"{self.dashboard}/health", timeout=5).text == "ok"

    def worker_names(self) -> list[str]:
        """Names of the workers registered with the scheduler now, as its log tells
        (its JSON routes fail once workers report metrics keyed by tuples)."""
        names: set[str] = set()
        for line in self.scheduler.log.read_text(errors="replace").splitlines():
            found = WORKER_EVENT.search(line)
            if found:
                change = names.add if found["event"] == "Register" else names.discard
                change(found["name"])
        return sorted(names)

    def wait_for_workers(self, count: int, timeout: float = READY) -> None:
        """Until exactly `count` workers are registered; fail with the logs if never."""
        self.scheduler.wait_until(lambda: len(self.worker_names()) == count, timeout)

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker `index` and its nanny (the whole process group), and wait
        until none of its processes is left."""
        worker = self.workers[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while group_members(worker.pid) and time.monotonic() < deadline:
            worker.process.poll()
            time.sleep(0.1)
        worker.process.wait(timeout=5)
        worker.stopped = True
        assert not group_members(worker.pid), f"worker {index} survived SIGKILL"

    def stop(self) -> list[int]:
        """Stop the workers, then the scheduler; return the PIDs left (empty: clean)."""
        left: list[int] = []
        for worker in self.workers:
            left += worker.stop(timeout=15)
        left += self.scheduler.stop(timeout=15)
        return left

    def logs(self) -> str:
        """The tail of every process's log, for a failing test's message."""
        return "\n".join(
            f"--- {server.name}\n{server.tail()}" for server in (self.scheduler, *self.workers)
        )


def dask_bin(project: Project) -> Path:
    """The `dask` command of the project's environment."""
    venv = project.venv if project.venv is not None else project.path / ".venv"
    return venv / "bin" / "dask"


def start_cluster(
    project: Project,
    logs: Path,
    *,
    workers: int = 2,
    memory_limit: str = "1GiB",
    threads: int = 1,
    env: dict[str, str] | None = None,
) -> DaskCluster:
    """`dask scheduler` and `workers` memory-limited `dask worker`s on free ports.

    Each worker is one process (`--nworkers 1`) with `threads` threads and
    `memory_limit`; returns once every worker is registered with the scheduler.
    `env` adds to every process's environment (Dask settings such as
    DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES). On failure everything started
    so far is stopped.
    """
    logs.mkdir(parents=True, exist_ok=True)
    dask = str(dask_bin(project))
    env = {**project.env, "PYTHONUNBUFFERED": "1", **(env or {})}
    port, dashboard = free_port(), free_port()
    address = f"tcp://{HOST}:{port}"
    scheduler = Server.start(
        "dask-scheduler",
        [
            dask,
            "scheduler",
            "--host",
            HOST,
            "--port",
            str(port),
            "--dashboard-address",
            f"{HOST}:{dashboard}",
        ],
        logs / "scheduler.log",
        env=env,
        cwd=project.path,
        url=address,
    )
    cluster = DaskCluster(scheduler, address, f"http://{HOST}:{dashboard}")
    try:
        cluster.scheduler.wait_until(cluster.ready, READY)
        for index in range(workers):
            scratch = logs / f"worker-{index}"
            scratch.mkdir(exist_ok=True)
            cluster.workers.append(
                Server.start(
                    f"dask-worker-{index}",
                    [
                        dask,
                        "worker",
                        address,
                        "--name",
                        f"worker-{index}",
                        "--host",
                        HOST,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        str(threads),
                        "--memory-limit",
                        memory_limit,
                        "--dashboard-address",
                        f"{HOST}:0",
                        "--local-directory",
                        str(scratch),
                    ],
                    logs / f"worker-{index}.log",
                    env=env,
                    cwd=project.path,
                )
            )
        cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running_cluster(project: Project, logs: Path, **options: Any) -> Iterator[DaskCluster]:
    """start_cluster, then stop it on exit and assert that no process is left."""
    cluster = start_cluster(project, logs, **options)
    try:
        yield cluster
    finally:
        left = cluster.stop()
        assert not left, f"Dask processes left after stop: {left}\n{cluster.logs()}"
