"""The checks of test_pipeline.py on the regression demo project.

A module of its own so that the two tasks' pipelines run on different workers;
the tests are the same functions, imported. The generated project's own checks
run here once, on the project as the tests before it left it (params.yaml changed
as a user would) or, on the other worker, on a fresh copy: the classification project's suite runs in
test_printed_commands_slow.py (`uv run pytest`, `ruff check .`, `mypy`, as the
README prints them), on a user's own data in test_story_slow.py and
test_server_variant.py, its formatting in test_ci_slow_gitlab.py's pre-commit run.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.project import Project
from tests.test_pipeline import *  # noqa: F403  (the same tests, collected here too)


@pytest.fixture(scope="module")
def project(trained_project: Any) -> Project:
    return trained_project("regression", task="regression")  # type: ignore[no-any-return]


@pytest.mark.alone  # the longest test here; it changes no file: on either worker
def test_generated_checks_pass(project: Project) -> None:
    project.uv_run("ruff", "check", ".")
    project.uv_run("ruff", "format", "--check", ".")
    project.uv_run("mypy")
    result = project.uv_run("pytest", "-q", "-p", "no:cacheprovider")
    assert re.search(r"\d+ passed", result.stdout)
