"""Trained projects made once per test session, handed to each test as a copy.

Rendering, `uv sync` and a first `dvc repro` of the same answers cost 30 to 60 s
each time; many test modules start from exactly that state (the default render,
its lock committed, its pipeline run; the results are left for the test to
commit, so that MLflow's `git_commit` tag is still HEAD). `trained()`
builds it once per answer set for the whole session, across pytest-xdist
workers (a file lock per answer set), and `copy()` gives a test module its own
folder: a plain copy, never links, so a test may change any file of it. The copy
is re-pointed at its new place (DVC's site cache, MLflow's artifact locations)
and synced into the calling worker's environment, as `Project.create` does.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from harness.project import Project, private_site_cache_dir
from harness.template import QUESTIONS

READY = "golden-ready.json"
REPRO_LOG = "repro.log"


def key(answers: dict[str, Any]) -> str:
    """The answer set, without answers equal to a plain default (same render)."""
    plain = {
        name: value
        for name, value in answers.items()
        if not (name in QUESTIONS and QUESTIONS[name].get("default") == value)
    }
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def trained(root: Path, venv: Path, **answers: Any) -> Project:
    """The project of `answers`: rendered, installed, lock committed, reproduced.

    Made once under `root` (shared by every worker of the session); a second
    caller waits for the first. Do not change it: `copy()` it.
    """
    folder = root / f"golden-{key(answers)}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if not (folder / READY).is_file():
                build(folder, venv, answers)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    ready = json.loads((folder / READY).read_text())
    return Project(path=folder / "project", venv=Path(ready["venv"]), answers=ready["answers"])


def build(folder: Path, venv: Path, answers: dict[str, Any]) -> None:
    shutil.rmtree(folder / "project", ignore_errors=True)
    project = Project.create(folder / "project", venv, **answers)
    # What a user commits: the lock, then the pipeline's results.
    project.git("add", "uv.lock")
    project.git("commit", "-qm", "Lock the environment")
    result = project.repro()
    (folder / REPRO_LOG).write_text(result.stdout + result.stderr)
    (folder / READY).write_text(json.dumps({"venv": str(venv), "answers": project.answers}))


def copy(source: Project, path: Path, venv: Path, *, install: bool = True) -> Project:
    """A copy of `source` at `path` that runs in `venv`, independent of the original.

    The repro log of a golden project lands next to the copy (`path.parent`).
    """
    shutil.copytree(source.path, path, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    log = source.path.parent / REPRO_LOG
    if log.is_file():
        shutil.copyfile(log, path.parent / REPRO_LOG)
    private_site_cache_dir(path)
    shutil.rmtree(path / ".dvc" / "tmp", ignore_errors=True)
    if (path / "mlflow.db").is_file():
        relocate(path / "mlflow.db", str(source.path), str(path))
    project = Project(path=path, venv=venv, answers=dict(source.answers))
    if install:
        project.uv("sync", "--quiet")
    return project


def relocate(database: Path, old: str, new: str) -> None:
    """Re-point every path under `old` in a SQLite MLflow store to `new`.

    MLflow records artifact locations as absolute `file://` URIs; without this a
    copy would log its artifacts into the original's mlruns/.
    """
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, kind = column[1], str(column[2]).upper()
                if not any(t in kind for t in ("CHAR", "TEXT", "CLOB")):
                    continue
                db.execute(
                    f'UPDATE "{table}" SET "{name}" = REPLACE("{name}", ?, ?) '
                    f'WHERE "{name}" LIKE ?',
                    (old, new, f"%{old}%"),
                )
