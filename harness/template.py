"""The template under test and the one way to render it."""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import copier
import jinja2
import yaml
from copier._main import Worker

TEMPLATE = Path(__file__).resolve().parents[1]


def spec(src: Path = TEMPLATE) -> dict[str, Any]:
    """copier.yml of the template at `src`."""
    loaded = yaml.safe_load((src / "copier.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def questions(src: Path = TEMPLATE) -> dict[str, Any]:
    """The questions of copier.yml at `src` (not settings, not computed values)."""
    return {
        name: value
        for name, value in spec(src).items()
        if not name.startswith("_") and not (isinstance(value, dict) and value.get("when") is False)
    }


SPEC: dict[str, Any] = spec()
QUESTIONS = questions()


def render(dst: Path, src: Path | str = TEMPLATE, *, vcs_ref: str = "HEAD", **data: Any) -> Path:
    """Render the template at `src` into `dst` with `data` answers, defaults for the rest.

    Rejects keys that are not questions of that template's copier.yml (Copier
    silently ignores unknown keys, so a typo would test the defaults). `vcs_ref`
    HEAD renders the working tree, uncommitted changes included; without it Copier
    would render the last tag. The working tree's renders are made once per process
    for each set of answers and copied from then on (about 2 s against 0.02 s).
    """
    known = QUESTIONS if Path(src) == TEMPLATE else questions(Path(src))
    unknown = set(data) - set(known)
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    if Path(src) == TEMPLATE and vcs_ref == "HEAD":
        # The working tree does not change during a test session: the same answers
        # render the same files. Rendered once per process, copied after that.
        done = _rendered(data)
        shutil.copytree(done, dst, symlinks=True, dirs_exist_ok=True)
        return dst
    _copy(src, dst, data, vcs_ref)
    return dst


def _copy(src: Path | str, dst: Path, data: dict[str, Any], vcs_ref: str) -> None:
    with compiled_once(), _outside_git():
        copier.run_copy(
            str(src),
            dst,
            data=data,
            defaults=True,
            vcs_ref=vcs_ref,
            quiet=True,
            unsafe=False,
        )


_RENDERS: dict[str, Path] = {}
"""Answers (as JSON) -> their render of the working tree, in this process's cache."""


def _rendered(data: dict[str, Any]) -> Path:
    """The working tree rendered with `data`, made once per process."""
    key = json.dumps(data, sort_keys=True, default=str)
    if key not in _RENDERS:
        folder = Path(tempfile.mkdtemp(prefix="copier-mlops-render-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _copy(TEMPLATE, folder / "project", data, "HEAD")
        _RENDERS[key] = folder / "project"
    return _RENDERS[key]


_COMPILED: dict[tuple[Any, ...], Any] = {}
"""(source, name, ..., the environment's settings) -> Jinja's compiled code."""
_COMPILE = jinja2.Environment.compile


def _settings(env: jinja2.Environment) -> tuple[Any, ...]:
    """Everything of an environment that Jinja's parser and code generator read."""
    return (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.autoescape,
        env.finalize,
        env.is_async,
        tuple(sorted((name, _passes(f)) for name, f in env.filters.items())),
        tuple(sorted((name, _passes(f)) for name, f in env.tests.items())),
    )


def _passes(function: Any) -> str:
    """How Jinja calls a filter or test (its generated code depends on it)."""
    return str(getattr(function, "jinja_pass_arg", None))


def _compile(
    env: jinja2.Environment,
    source: Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    """Jinja's `Environment.compile`, remembered per source and settings."""
    if not isinstance(source, str):
        return _COMPILE(env, source, name, filename, raw, defer_init)
    try:
        key = (source, name, filename, raw, defer_init, _settings(env))
        return _COMPILED[key]
    except TypeError:  # a setting that cannot be a key (unhashable): no cache
        return _COMPILE(env, source, name, filename, raw, defer_init)
    except KeyError:
        code = _COMPILED[key] = _COMPILE(env, source, name, filename, raw, defer_init)
        return code


@contextlib.contextmanager
def compiled_once() -> Iterator[None]:
    """Copier makes a new Jinja environment for every render, so it compiles every
    file and file name of the template again: 0.3 of the 1.2 s of a render. The
    same source under the same settings compiles to the same code, so the code is
    kept for the session (tests/test_render.py compares such a render with a
    plain one, file by file). Renders and `copier update` (template_repo.py) use it."""
    with mock.patch.object(jinja2.Environment, "compile", _compile):
        yield


@contextlib.contextmanager
def _outside_git() -> Iterator[None]:
    """Copier asks git, once per rendered file, whether the destination's index
    needs a file's executable bit (`core.fileMode` false): 120 processes, 0.3 s.
    Copier documents it as a no-op where the destination is not in a git
    repository, as every render of this harness is (a new temporary folder or a
    test's own), so it is skipped here. Updates run Copier unchanged."""
    with mock.patch.object(Worker, "_sync_git_index_executable_bit", _no_git):
        yield


def _no_git(self: Worker, dst_relpath: Path, src_mode: int) -> None:
    """Stands in for Worker._sync_git_index_executable_bit (see _outside_git)."""
