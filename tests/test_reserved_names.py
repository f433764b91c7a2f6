"""package_name may not shadow a module the generated project imports.

The names come from scripts/reserved_names.py, which measures them on a rendered
project with every optional feature on. The slow test measures again, the same way,
and asserts that copier.yml refuses every name found: a new dependency (or a new
release of one) that brings a new module fails here until the script is rerun.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scripts import reserved_names as script
from tests.questions import Questions, reserved_names


def test_reserved_list_is_the_scripts_output() -> None:
    """The list in names.jinja is sorted, unique and formatted as the script writes it."""
    names = reserved_names()
    assert names == sorted(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
    assert script.updated_text(names) == script.NAMES.read_text(encoding="utf-8")
    # The standard library, the project's own folders, and the modules the
    # project's dependencies bring that broke a render when tried.
    for name in ("json", "test", "tests", "src", "conftest"):
        assert name in names
    for name in ("typing_extensions", "starlette", "setuptools", "sklearn", "yaml"):
        assert name in names


@pytest.mark.slow
def test_every_module_of_the_real_import_closure_is_refused(tmp_path: Path) -> None:
    os.environ.pop("VIRTUAL_ENV", None)
    found = script.measure(tmp_path)
    # What a project with every feature imports: its stack, its server and its tests.
    assert {"sklearn", "mlflow", "fastapi", "starlette", "pytest"} <= set(found["imported"])
    # ... and what its environment holds: DVC and every remote's plugin.
    assert {"dvc", "dvc_s3", "dvc_gs", "dvc_azure", "dvc_ssh"} <= set(found["distributions"])
    questions = Questions()
    accepted = sorted(
        name
        for group in found.values()
        for name in group
        if not questions.problem("package_name", name)
    )
    assert accepted == [], (
        f"package_name accepts {accepted}, modules a rendered project imports: "
        "run `uv run python scripts/reserved_names.py`"
    )
