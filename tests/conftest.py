"""Fixtures for testing the template: isolated tools, rendered projects, template repos.

Every test renders through `harness.template.render`, which rejects answer keys
that are not questions of copier.yml (Copier silently ignores unknown keys, so a
typo would test nothing) and always renders the working tree (`vcs_ref="HEAD"`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import golden
from harness.env import isolate
from harness.project import Project
from harness.template_repo import TemplateRepo


def session_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The folder every worker of this session shares (each has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session", autouse=True)
def isolated_tools(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[None]:
    """Git, DVC, MLflow and Python behave the same here as on a fresh machine."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Template Tests\n\temail = tests@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n"
    )
    saved = dict(os.environ)
    isolate(os.environ)
    os.environ.update({"GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"})
    # Two workers on two cores, each running pipelines on small tables: one OpenMP
    # thread per process. With the default (one per core) the boosting families and
    # scikit-learn's parallel loops spin-wait against the other worker: the generated
    # suite took 511 s instead of 180 s on a busy 2-core machine (test results are
    # the same; the generated tests/conftest.py sets the same default).
    os.environ["OMP_NUM_THREADS"] = "1"
    # One mypy cache for the session, shared by both workers and every environment:
    # strict mypy over the numpy, pandas and scikit-learn stubs takes 23 s cold and
    # under 3 s warm, and it runs in the lint, CI-job and regression tests. A cache
    # entry is valid for a file of the same content at another path (mypy compares
    # hashes), so a project in another environment reuses it; mypy's SQLite cache
    # lets concurrent runs wait for each other. mypy re-checks every module whose
    # source changed, so each project is still checked in full.
    cache = session_root(tmp_path_factory, worker_id) / "mypy-cache"
    cache.mkdir(exist_ok=True)
    os.environ["MYPY_CACHE_DIR"] = str(cache)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def shared_venv(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One environment per test worker, re-synced exactly (`uv sync`) per project.

    `uv sync` removes whatever the previous project installed and the new one does
    not declare, so sharing the folder hides no missing dependency; it only saves
    re-creating the same environment and re-compiling its bytecode for each render.
    """
    return tmp_path_factory.getbasetemp() / f"venv-{worker_id}"


@pytest.fixture(scope="session")
def trained_project(
    tmp_path_factory: pytest.TempPathFactory, shared_venv: Path, worker_id: str
) -> Any:
    """A copy of the project of some answers after its first `dvc repro`.

    Rendered, installed and reproduced once per session for every worker
    (harness/golden.py); each call returns a new copy in this worker's environment,
    at `<new folder>/project`, with the repro log beside it.
    """
    root = session_root(tmp_path_factory, worker_id)

    def make(name: str = "trained", *, install: bool = True, **answers: Any) -> Project:
        source = golden.trained(root, shared_venv, **answers)
        path = tmp_path_factory.mktemp(name) / "project"
        return golden.copy(source, path, shared_venv, install=install)

    return make


@pytest.fixture
def make_project(tmp_path: Path, shared_venv: Path) -> Any:
    """Render a project, make it a git repository and install it."""

    def make(name: str = "project", *, install: bool = True, **data: Any) -> Project:
        return Project.create(tmp_path / name, shared_venv, install=install, **data)

    return make


@pytest.fixture
def isolated_copier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user-level Copier settings (trusted sources, default answers) leak in."""
    settings = tmp_path / "copier-settings.yml"
    settings.write_text("defaults: {}\ntrust: []\n")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))


@pytest.fixture
def repo(tmp_path: Path, isolated_copier: None) -> TemplateRepo:
    """This template (the working tree), released as 1.0.0 in a throwaway repository."""
    template = TemplateRepo.create(tmp_path / "template")
    template.release("1.0.0")
    return template


def pytest_configure(config: pytest.Config) -> None:
    if shutil.which("uv") is None and shutil.which("uv", path=str(Path.home() / ".local/bin")):
        os.environ["PATH"] = f"{Path.home() / '.local/bin'}{os.pathsep}{os.environ['PATH']}"
    if os.environ.get("SUBTRACE_LOG"):  # where the time goes (tests/tools/subtrace.py)
        from tests.tools import subtrace

        subtrace.install(Path(os.environ["SUBTRACE_LOG"]))


# `make test` runs `pytest -n 2 --dist loadgroup --no-loadscope-reorder`: every
# test belongs to a group that one worker runs in file order. A module is a group
# (its module-scoped fixtures are made once); a test marked `alone` is a group of
# its own, and tests marked `worker_group("name")` share one, so that the long
# independent parts of a module run on both workers. A module marked `spread`
# (many short tests, no costly shared fixture) makes each test a group, so that at
# the end of the run both workers take its tests and finish together. Groups are
# handed out in collection order, so the longest go first: the modules below,
# slowest first (docs/contributing.md has the measured table), then the rest in
# file order.
SLOW_FIRST = (
    "test_deep_learning",
    "test_container",
    "test_printed_commands_slow",
    "test_story_slow",
    "test_scaling",
    "test_nothing_lost",
    "test_ci_slow_own_data",
    "test_ci_slow_github",
    "test_server_variant",
    "test_pipeline",
    "test_pipeline_regression",
    "test_image_job",
    "test_ci_slow_gitlab",
    "test_answers_property",
    "test_byod",
    "test_lint_render",
    "test_team_stack",
    "test_docker",
    "test_serving",
    "test_first_push",
    "test_update",
    "test_drift",
    "test_reserved_names",
)


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marks added here, as each item is collected, are in place before any
    # pytest_collection_modifyitems, where xdist's worker reads xdist_group.
    module = item.nodeid.split("::", 1)[0]
    named = item.get_closest_marker("worker_group")
    if item.get_closest_marker("alone") or item.get_closest_marker("spread"):
        group = item.nodeid.replace("[", "(").replace("]", ")")  # xdist splits at "]"
    elif named is not None:
        group = f"{module}:{named.args[0]}"
    else:
        group = module
    item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        stem = Path(item.nodeid.split("::", 1)[0]).stem
        return SLOW_FIRST.index(stem) if stem in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)
