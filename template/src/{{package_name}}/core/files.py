"""Write files atomically: a stage never leaves a half-written artifact behind.

The temporary file is created with mode 0666 filtered by the process umask, as
`open(path, "w")` would create it (0644 under the usual umask 022), so that what a
stage writes is readable wherever a normally written file is (a container user,
a web server, a colleague on a shared drive); `tempfile.mkstemp` would make it
0600.
"""

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import ProjectError


def _create_beside(path: Path) -> Path:
    """A new empty file in `path`'s folder, mode 0666 & ~umask, name not taken."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def make_folder(folder: Path, fix: str = "choose another path") -> None:
    """Create `folder` and its parents; if impossible, one ProjectError saying why."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        files = [p for p in (folder, *folder.parents) if p.is_file()]
        reason = f"{files[-1]} is a file" if files else exc.strerror or str(exc)
        raise ProjectError(
            f"{folder}: cannot create this folder ({reason}); {fix}"
        ) from exc


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only on success."""
    make_folder(path.parent)
    tmp = _create_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


@contextmanager
def atomic_folder(path: Path, replaceable: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield a new empty folder beside `path`; on success it takes `path`'s place.

    An existing `path` is replaced only when `replaceable(path)` holds (a folder
    this code wrote before); on failure the new folder is removed and `path` is
    left as it was.
    """
    make_folder(path.parent)
    tmp = _create_beside(path)
    tmp.unlink()
    tmp.mkdir()
    try:
        yield tmp
        if path.exists() or path.is_symlink():
            if not replaceable(path):
                raise ProjectError(f"{path}: exists and is not an earlier output")
            old = _create_beside(path)
            old.unlink()
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
