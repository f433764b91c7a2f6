"""Every rendered variant passes ruff (check, format) and strict mypy (slow tier:
the tools need a synced project; the checks of the plain sources are fast).

The tools and the type stubs come from one environment of a rendered project,
synced once per session (the slow tier installs each project it runs). Renders
whose Python sources and tool settings are byte for byte the same are checked
once: the verdict cannot differ. The template's plain `.py` sources are the very
files a render writes (checked below), so linting the render lints them as they
are; ruff also reads them in place, with the generated project's settings.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.env import clean_env
from harness.project import Project
from harness.template import QUESTIONS, TEMPLATE, render
from tests.test_render import DELIVERY, VARIANTS

PACKAGE_SOURCES = TEMPLATE / "template" / "src" / "{{package_name}}"

# Every variant of the render tests, plus the answers that change Python text:
# the tracking server, and names other than the defaults.
TRACKING = [
    {"task": task, "mlflow_tracking": "server", "serving": serving}
    for task in QUESTIONS["task"]["choices"].values()
    for serving in (True, False)
]
NAMES = [{"project_name": "Churn Model", "package_name": "churn", "task": "regression"}]
ALL_VARIANTS: list[dict[str, Any]] = [*VARIANTS, *DELIVERY, *TRACKING, *NAMES]


def variant_id(answers: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in sorted(answers.items()))


@pytest.fixture(scope="session")
def lint_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tools of a fully featured rendered project, installed once."""
    base = tmp_path_factory.mktemp("lint-env")
    project = Project.create(base / "project", base / "venv", serving=True)
    assert project.venv is not None
    return project.venv


@pytest.fixture(scope="session")
def checked() -> dict[str, str]:
    """Digest of a render's Python sources and settings -> the variant that passed."""
    return {}


def digest(root: Path) -> str:
    files = sorted([*root.rglob("*.py"), root / "pyproject.toml"])
    hasher = hashlib.sha256()
    for path in files:
        hasher.update(path.relative_to(root).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    # MYPY_CACHE_DIR: the session's (conftest.py), stubs checked once
    env["RUFF_NO_CACHE"] = "true"  # no .ruff_cache in the template's sources
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize("answers", ALL_VARIANTS, ids=[variant_id(v) for v in ALL_VARIANTS])
def test_render_passes_ruff_and_strict_mypy(
    tmp_path: Path, lint_env: Path, checked: dict[str, str], answers: dict[str, Any]
) -> None:
    root = render(tmp_path / "p", **answers)
    key = digest(root)
    if key in checked:
        return  # the same sources and settings as a variant that passed
    for command in (("ruff", "check", "."), ("ruff", "format", "--check", ".")):
        result = run(lint_env, root, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    result = run(lint_env, root, "python", "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")
    checked[key] = variant_id(answers)


@pytest.mark.parametrize("task", QUESTIONS["task"]["choices"].values())
def test_plain_sources_are_what_the_render_writes(tmp_path: Path, task: str) -> None:
    """A template file without `.jinja` is copied as it is (only its name renders)."""
    root = render(tmp_path / "p", task=task, serving=True, deep_learning=True, torch_index="pypi")
    package = root / "src" / "my_ml_project"
    plain = [
        path
        for path in PACKAGE_SOURCES.rglob("*")
        if path.is_file() and not path.name.endswith(".jinja") and "__pycache__" not in path.parts
    ]
    compared = 0
    for source in plain:
        relative = source.relative_to(PACKAGE_SOURCES).as_posix()
        relative = relative.replace("{% if serving %}serving{% endif %}", "serving")
        relative = relative.replace("{% if deep_learning %}torch_mlp.py{% endif %}", "torch_mlp.py")
        if "{% if task" in relative:
            if f"== '{task}'" not in relative:
                continue
            # tasks/{% if task == 'x' %}name.py{% endif %} -> tasks/name.py
            relative = re.sub(r"\{% if task == '\w+' %\}(.*?)\{% endif %\}", r"\1", relative)
        assert (package / relative).read_bytes() == source.read_bytes(), relative
        compared += 1
    assert compared >= 20
    # At most three package modules hold Jinja: names, the serve switch, the server.
    jinja = sorted(p.name for p in PACKAGE_SOURCES.rglob("*.jinja"))
    assert jinja == ["__init__.py.jinja", "cli.py.jinja", "tracking.py.jinja"]


@pytest.mark.slow
def test_plain_sources_pass_ruff_in_place(tmp_path: Path, lint_env: Path) -> None:
    """ruff reads the template's sources where they are, with the project's settings."""
    root = render(tmp_path / "p")
    tasks = [
        str(p) for p in (PACKAGE_SOURCES / "modeling" / "tasks").iterdir() if "{% if" in p.name
    ]
    # one module per task, and the classifier's calibration and plots
    assert len(tasks) == len(QUESTIONS["task"]["choices"]) + 2
    config = ("--config", str(root / "pyproject.toml"))
    for command in (("ruff", "check"), ("ruff", "format", "--check")):
        result = run(lint_env, PACKAGE_SOURCES, *command, *config, ".", *tasks)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("task", QUESTIONS["task"]["choices"].values())
def test_no_package_module_is_over_300_lines(tmp_path: Path, task: str) -> None:
    root = render(
        tmp_path / "p",
        task=task,
        serving=True,
        mlflow_tracking="server",
        deep_learning=True,
        torch_index="pypi",
    )
    lengths = {
        path.relative_to(root).as_posix(): len(path.read_text().splitlines())
        for path in (root / "src").rglob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > 300} == {}
