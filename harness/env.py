"""The environment a rendered project runs in: the same here as on a fresh machine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, MutableMapping
from pathlib import Path

# Settings of the calling shell that would change what a rendered project does:
# another virtualenv or uv environment, a shared MLflow server or Dask cluster, no
# bytecode (a user's machine writes it; without it every import compiles from source),
# the template's own pytest options.
DROPPED = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONDONTWRITEBYTECODE",
    "PYTEST_ADDOPTS",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "DASK_SCHEDULER_ADDRESS",
)
# No analytics or telemetry from DVC, MLflow or anything honouring DO_NOT_TRACK.
QUIET = {"DVC_NO_ANALYTICS": "1", "DO_NOT_TRACK": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}
# Who commits the first render when git has no identity configured (a fresh machine).
GIT_IDENTITY = ("copier-mlops", "copier-mlops@example.com")


def isolate(environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Drop the shell's settings listed in DROPPED and switch telemetry off, in place."""
    for name in DROPPED:
        environ.pop(name, None)
    environ.update(QUIET)
    return environ


def clean_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default: this process's environment), isolated."""
    env = dict(os.environ if base is None else base)
    isolate(env)
    return env


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in `cwd`; on failure raise with git's own message."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout


def commit_all(path: Path, message: str, *, env: Mapping[str, str] | None = None) -> str:
    """`git init` (if needed), add everything and commit; return the commit.

    Uses the configured git identity, or GIT_IDENTITY where there is none.
    """
    if not (path / ".git").exists():
        git(path, "init", "-q", env=env)
    git(path, "add", "-A", env=env)
    identity: list[str] = []
    for key, value in zip(("user.name", "user.email"), GIT_IDENTITY, strict=True):
        configured = subprocess.run(
            ["git", "config", key], cwd=path, env=env, capture_output=True, check=False
        )
        if configured.returncode != 0:
            identity += ["-c", f"{key}={value}"]
    git(path, *identity, "commit", "-qm", message, "--allow-empty", env=env)
    return git(path, "rev-parse", "HEAD", env=env).strip()
