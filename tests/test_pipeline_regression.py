"""The checks of test_pipeline.py on the regression demo project.

A module of its own so that `--dist loadfile` runs the two tasks' pipelines on
different workers; the tests are the same functions, imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.project import Project
from tests.test_pipeline import *  # noqa: F403  (the same tests, collected here too)
from tests.test_pipeline import pipeline_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    return pipeline_project("regression", tmp_path_factory, shared_venv)
