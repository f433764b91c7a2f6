"""Slow tier: a project answered with a team MLflow server keeps hermetic tests.

Its own test suite must pass on a laptop where that server is not running: every
generated test that touches MLflow uses a scratch store, never the answered URI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.project import Project
from harness.servers import free_port

pytestmark = pytest.mark.slow


def test_generated_tests_pass_without_the_team_server(tmp_path: Path, shared_venv: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    project = Project.create(
        tmp_path / "team-project",
        shared_venv,
        mlflow_tracking="server",
        mlflow_tracking_uri=uri,
    )
    assert uri in (project.path / f"src/{project.package}/tracking.py").read_text()
    # MLflow retries an unreachable server for minutes: a test that reached for it
    # would blow this bound long before it could pass.
    result = project.run(
        "uv", "run", "--frozen", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", timeout=240
    )
    assert re.search(r"\d+ passed", result.stdout)
    assert "failed" not in result.stdout
