"""Slow tier: the GitHub workflows' `run:` steps, executed in a rendered project.

The project is a pull request as a team would have it: `main` holds the committed
lock, pipeline results and metrics; a branch changes a hyperparameter. Every `run:`
step of ci.yml runs in job order, as the runner would run it, with
$GITHUB_STEP_SUMMARY pointing at a file whose metrics and params diff we read. The
steps that need the CI host itself are listed below by name, with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.project import Project, flat_metrics
from tests.tools.ci_steps import github_steps, run_bash

pytestmark = pytest.mark.slow

ANSWERS = {"task": "classification", "ci_provider": "github", "docker": True, "serving": True}

# (workflow, step name) -> why the step is not run here.
HOST_ONLY = {
    ("ci.yml", "Check out the code"): "the fixture's git clone is the checkout; "
    "`git fetch origin` stands in for fetch-depth: 0",
    ("ci.yml", "Set up uv"): "uv is on PATH; GitHub's cache service does not exist here",
    ("docker.yml", "Check out the code"): "the fixture's git clone is the checkout",
    ("docker.yml", "Set up uv"): "uv is on PATH",
    ("docker.yml", "Get the trained model"): "run from a fresh clone for every tracking "
    "and remote answer in tests/test_image_job.py",
    ("docker.yml", "Set up Docker Buildx"): "needs a Docker engine (none here)",
    ("docker.yml", "Build the image (no push)"): "needs a Docker engine; buildah builds "
    "and runs the image in tests/test_container.py",
    ("docker.yml", "Log in to GHCR"): "needs GitHub's token and ghcr.io",
    ("docker.yml", "Image tags and labels"): "reads GitHub's event context only",
    ("docker.yml", "Build and push the image"): "needs a Docker engine and ghcr.io",
}
# The only expressions the run steps and their env use, with their local values.
CONTEXT = {
    "github.event.repository.default_branch": "main",
    # docker.yml's model step: unset repository secrets are empty strings.
    "secrets.AWS_ACCESS_KEY_ID": "",
    "secrets.AWS_SECRET_ACCESS_KEY": "",
    "secrets.AZURE_STORAGE_CONNECTION_STRING": "",
}


@pytest.fixture(scope="module")
def pull_request(trained_project: Any) -> Project:
    # What a user commits on main: the lock (done), then the pipeline's results.
    project: Project = trained_project("github", **ANSWERS)
    path = project.path
    project.git("add", "-A")
    project.git("commit", "-qm", "Run the pipeline")
    # The pull request: one hyperparameter changed.
    project.git("switch", "-qc", "fewer-trees")
    params = project.read_yaml("params.yaml")
    boosting = params["model"]["lightgbm"]
    assert boosting["n_estimators"] != 10 and boosting["num_leaves"] != 4
    boosting["n_estimators"] = 10
    boosting["num_leaves"] = 4
    project.write_yaml("params.yaml", params)
    project.git("commit", "-qam", "Try fewer boosting rounds")
    # actions/checkout with fetch-depth: 0 has every branch as origin/<name>.
    project.git("remote", "add", "origin", str(path))
    project.git("fetch", "-q", "origin")
    return project


def test_every_step_is_run_or_listed(pull_request: Project) -> None:
    skipped = set()
    for workflow in ("ci.yml", "docker.yml"):
        data = pull_request.read_yaml(f".github/workflows/{workflow}")
        for step in github_steps(data, CONTEXT):
            # docker.yml is not executed: a `run:` step there must be listed too.
            if step.run is None or workflow == "docker.yml":
                skipped.add((workflow, step.name))
    assert skipped == set(HOST_ONLY)


def test_ci_run_steps_pass_and_summarise_the_metrics(pull_request: Project, tmp_path: Path) -> None:
    project = pull_request
    summary = tmp_path / "summary.md"
    summary.touch()
    host = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"),
    }
    ran: list[tuple[str, str]] = []
    workflow = project.read_yaml(".github/workflows/ci.yml")
    for step in github_steps(workflow, CONTEXT):
        if step.run is None:
            assert ("ci.yml", step.name) in HOST_ONLY
            continue
        result = run_bash(project, step.run, step.env | host)
        ran.append((step.job, step.name))
        if step.job == "lint" and "poe lint" in step.run:
            assert "Failed" not in result.stdout
            assert project.git("status", "--porcelain") == ""  # the hooks changed nothing
        if step.job == "tests" and "poe test" in step.run:
            assert re.search(r"\d+ passed", result.stdout)
    assert [job for job, _ in ran] == ["lint"] * 3 + ["types"] * 2 + ["tests"] * 2 + [
        "pipeline"
    ] * 4

    # The pipeline re-ran with the new params: the summary compares with main.
    old = json.loads(project.git("show", "origin/main:reports/metrics.json"))
    new = project.read_json("reports/metrics.json")
    assert old != new
    text = summary.read_text()
    assert "## Metrics: this commit vs `main`" in text
    rows = metric_rows(text)
    old, new = flat_metrics(old), flat_metrics(new)  # dotted, as dvc metrics diff shows them
    assert set(rows) == set(new)
    for name, row in rows.items():
        assert row["Old"] == pytest.approx(old[name], abs=1e-5)
        assert row["New"] == pytest.approx(new[name], abs=1e-5)
    assert "## Params: this commit vs `main`" in text
    branch = project.read_yaml("params.yaml")["model"]["lightgbm"]
    main = yaml.safe_load(project.git("show", "origin/main:params.yaml"))["model"]["lightgbm"]
    for param in ("n_estimators", "num_leaves"):
        assert main[param] != branch[param]
        row = rf"\| params\.yaml\s*\| model\.lightgbm\.{param}\s*\| {main[param]}\s*\| {branch[param]}\s*\|"
        assert re.search(row, text), text


def metric_rows(summary: str) -> dict[str, dict[str, float]]:
    """The table `dvc metrics diff --md` wrote: {metric: {"Old": ..., "New": ...}}.

    Its columns are Path, Metric, the old revision, the workspace and Change.
    """
    lines = [line for line in summary.splitlines() if line.startswith("|")]
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "Path",
        "Metric",
        "origin/main",
        "workspace",
        "Change",
    ]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] != "reports/metrics.json":
            break
        rows[cells[1]] = {"Old": float(cells[2]), "New": float(cells[3])}
    return rows
