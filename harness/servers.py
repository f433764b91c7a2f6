"""Real servers on 127.0.0.1 for tests and benchmarks: PostgreSQL, S3, MLflow, any command.

Each server runs in its own session (process group), is started by the test that
needs it, and is stopped by killing that group; `Server.stop` then checks that no
process of the group is left. Nothing here talks to anything but loopback.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent  # the template's dev environment: mlflow, moto_server
# moto accepts any credentials; distinctive values, so a test can grep for leaks.
S3_KEY_ID = "mlops-test-key-id"
S3_SECRET = "mlops-test-secret-5b9e"
S3_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def group_members(pgid: int) -> list[int]:
    """PIDs of live (non-zombie) processes in process group `pgid`."""
    members = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ")".
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(text.split(" ", 1)[0]))
    return members


@dataclass
class Server:
    """One server process (and its children) in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    stopped: bool = field(default=False)

    @classmethod
    def start(
        cls,
        name: str,
        args: list[str],
        log: Path,
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        cwd: Path | None = None,
        url: str = "",
    ) -> Server:
        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                user=user,
                cwd=cwd,
                start_new_session=True,
            )
        return cls(name=name, process=process, log=log, url=url)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        """Poll `ready` until it holds; fail with the server's log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def wait_http(self, path: str, timeout: float) -> None:
        self.wait_until(lambda: httpx.get(self.url + path, timeout=2).status_code == 200, timeout)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> list[int]:
        """SIGTERM the group, SIGKILL what is left after `timeout`; return leftovers."""
        if self.stopped:
            return group_members(self.pid)
        self.stopped = True
        return stop_group(self.process, timeout)


def stop_group(process: subprocess.Popen[Any], timeout: float = 20) -> list[int]:
    """Stop a process started with start_new_session=True and all of its children.

    SIGTERM the process group, wait for every member (not just the leader), SIGKILL
    what is left after `timeout`; return the PIDs still alive (empty when clean).
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while group_members(process.pid) and time.monotonic() < deadline:
        process.poll()
        time.sleep(0.1)
    if group_members(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        time.sleep(0.5)
    process.wait(timeout=5)
    return group_members(process.pid)


def postgres_bin() -> Path | None:
    """Folder of the PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=os.path.getmtime)
    return Path(versions[-1]).parent if versions else None


def start_postgres(logs: Path) -> tuple[Server, str, Path]:
    """A throwaway cluster on a free port; returns (server, SQLAlchemy URI, data dir).

    PostgreSQL refuses to run as root, so as root the cluster belongs to the
    `postgres` user the Debian package creates, in a folder it can reach.
    """
    binaries = postgres_bin()
    assert binaries is not None, "PostgreSQL server binaries not found"
    user = "postgres" if os.geteuid() == 0 else None
    home = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
    data, sockets = home / "data", home / "sockets"
    sockets.mkdir()
    if user:
        shutil.chown(home, user)
        shutil.chown(sockets, user)
    subprocess.run(
        [
            str(binaries / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            "mlflow",
            "--auth",
            "trust",
            "--no-sync",
            "--encoding",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        user=user,
    )
    port = free_port()
    server = Server.start(
        "postgres",
        [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            HOST,
            "-k",
            str(sockets),
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ],
        logs / "postgres.log",
        user=user,
    )
    uri = f"postgresql+psycopg2://mlflow@{HOST}:{port}/postgres"

    def ready() -> bool:
        import psycopg2

        psycopg2.connect(host=HOST, port=port, user="mlflow", dbname="postgres").close()
        return True

    server.wait_until(ready, timeout=30)
    return server, uri, home


def start_s3(logs: Path) -> Server:
    """moto's S3 server on a free port."""
    port = free_port()
    server = Server.start(
        "moto",
        [str(BIN / "moto_server"), "-H", HOST, "-p", str(port)],
        logs / "moto.log",
        url=f"http://{HOST}:{port}",
    )
    server.wait_until(lambda: httpx.get(server.url, timeout=2).status_code < 500, timeout=30)
    return server


def s3_env(endpoint: str) -> dict[str, str]:
    """What an S3 client needs to use the moto server (and nothing real)."""
    return {
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": S3_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
    }


def start_mlflow(logs: Path, backend: str, artifacts: str, s3_endpoint: str) -> Server:
    """`mlflow server` with a database backend and proxied S3 artifacts."""
    port = free_port()
    env = {
        **os.environ,
        **s3_env(s3_endpoint),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PYTHONUNBUFFERED": "1",
    }
    return Server.start(
        "mlflow",
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            backend,
            "--artifacts-destination",
            artifacts,
        ],
        logs / "mlflow.log",
        env=env,
        url=f"http://{HOST}:{port}",
    )
