"""The checks of test_pipeline.py on the regression demo project.

A module of its own so that the two tasks' pipelines run on different workers;
the tests are the same functions, imported.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.project import Project
from tests.test_pipeline import *  # noqa: F403  (the same tests, collected here too)


@pytest.fixture(scope="module")
def project(trained_project: Any) -> Project:
    return trained_project("regression", task="regression")  # type: ignore[no-any-return]
