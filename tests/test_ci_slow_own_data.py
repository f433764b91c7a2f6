"""Slow tier: CI's pipeline job on a fresh clone of a project with its own data.

The user brings a table, points params.yaml at it, `dvc add`s it and pushes. The
clone CI checks out has the data's .dvc file, not the data. The pipeline job's
`run:` steps (GitHub's ci.yml) and script lines (GitLab's .gitlab-ci.yml, same
commands) run here as the runner runs them:

- without a DVC remote the job passes with one notice naming the file and how to
  add a remote, and `dvc repro` does not run;
- with a remote (a local folder: the steps do not depend on the kind) it pulls the
  data and reproduces the pipeline on it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.env import commit_all
from harness.project import Project, private_site_cache_dir
from harness.template import render
from tests.tools.ci_steps import github_steps, run_bash
from tests.tools.own_data import own_data, use_own_data

pytestmark = pytest.mark.slow

# The answers of test_ci_slow_github.py: the same trained project, made once.
ANSWERS = {"task": "classification", "ci_provider": "github", "docker": True, "serving": True}
DATA = "data/raw/churn.csv"
CONTEXT = {
    "github.event.repository.default_branch": "main",
    "secrets.AWS_ACCESS_KEY_ID": "",
    "secrets.AWS_SECRET_ACCESS_KEY": "",
    "secrets.AZURE_STORAGE_CONNECTION_STRING": "",
}
NOTICE = (
    f"{DATA} is not in this clone and there is no DVC remote to pull it from: add a "
    "DVC remote and push the data: `uv run dvc remote add -d storage s3://bucket/path`, "
    "commit .dvc/config, `uv run dvc push`, and set the remote's credentials as CI "
    "secrets (see the README); dvc repro skipped"
)


@pytest.fixture(scope="module")
def own(trained_project: Any, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The trained project with the user's data added with DVC, committed on main."""
    project: Project = trained_project("own-data", **ANSWERS)
    own_data(project.path / DATA)
    params = project.path / "params.yaml"
    params.write_text(use_own_data(params.read_text(), DATA))
    project.uv_run("dvc", "add", DATA)
    commit_all(project.path, "Our data", env=project.env)
    return project


def clone(project: Project, path: Path) -> Project:
    subprocess.run(["git", "clone", "-q", str(project.path), str(path)], check=True)
    assert not (path / DATA).exists() and (path / f"{DATA}.dvc").is_file()
    private_site_cache_dir(path)
    return Project(path=path, venv=project.venv, answers=project.answers)


def pipeline_job(project: Project, tmp_path: Path) -> str:
    """GitHub's pipeline job, then GitLab's pipeline commands; their output."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    summary = tmp_path / "summary.md"
    host = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    output = []
    for step in github_steps(project.read_yaml(".github/workflows/ci.yml"), CONTEXT):
        if step.job == "pipeline" and step.run is not None:
            result = run_bash(project, step.run, step.env | host)
            output.append(result.stdout + result.stderr)
    gitlab = render(tmp_path / "gitlab", **(ANSWERS | {"ci_provider": "gitlab"}))
    config = yaml.safe_load((gitlab / ".gitlab-ci.yml").read_text())
    variables = {"CI": "true", "GITLAB_CI": "true", "CI_DEFAULT_BRANCH": "main"}
    # the commands before the metrics diff (test_ci_slow_gitlab.py runs that one)
    for line in config["pipeline"]["script"][:2]:
        result = run_bash(project, line, variables)
        output.append(result.stdout + result.stderr)
    return "\n".join(output)


def test_without_a_remote_the_job_passes_with_one_notice(own: Project, tmp_path: Path) -> None:
    fresh = clone(own, tmp_path / "clone")
    out = pipeline_job(fresh, tmp_path)
    notices = [line for line in out.splitlines() if "dvc repro skipped" in line]
    assert notices == [f"::notice title=Pipeline skipped::{NOTICE}", f"notice: {NOTICE}"]
    assert "Running stage" not in out
    assert fresh.git("status", "--porcelain") == ""


def test_with_a_remote_the_job_pulls_the_data_and_reproduces(own: Project, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    own.uv_run("dvc", "remote", "add", "-d", "storage", str(remote))
    own.uv_run("dvc", "push")
    commit_all(own.path, "A DVC remote", env=own.env)
    fresh = clone(own, tmp_path / "clone")
    out = pipeline_job(fresh, tmp_path)
    assert "dvc repro skipped" not in out
    assert (fresh.path / DATA).is_file()
    assert "Running stage 'prepare'" in out
    summary = fresh.read_json("data/prepared/summary.json")
    assert (summary["path"], summary["target"]) == (DATA, "churned")
    assert "customer_id" not in summary["features"]
