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

from harness.env import isolate
from harness.project import Project
from harness.template_repo import TemplateRepo


@pytest.fixture(scope="session", autouse=True)
def isolated_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
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
