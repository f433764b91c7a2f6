"""Slow tier: pre-commit on fresh renders, and the GitLab jobs' scripts, executed.

Together with test_ci_slow_github.py this covers every value of every delivery
option at least once:

| project | task           | ci_provider | docker | serving |
| ------- | -------------- | ----------- | ------ | ------- |
| github  | classification | github      | yes    | yes     |
| gitlab  | regression     | gitlab      | no     | no      |
| none    | classification | none        | yes    | no      |

The tests share one environment per worker and run in file order: the gitlab
project's tests first, then the none project's.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.project import Project, flat_metrics
from tests.tools.ci_steps import gitlab_jobs, run_bash

pytestmark = pytest.mark.slow

GITLAB = {"task": "regression", "ci_provider": "gitlab", "docker": False, "serving": False}
NONE = {"task": "classification", "ci_provider": "none", "docker": True, "serving": False}

# (job, part) -> why it is not run here.
NOT_RUN = {
    ("tests", "script"): "the same `poe test` as GitHub's tests job (test_ci_slow_github); "
    "the regression project's own tests run in test_pipeline_regression.py",
    ("monitor", "script"): "runs only in a pipeline schedule with MONITOR_INPUT set (its "
    "rules); the monitor command itself runs in the generated tests",
    ("*", "after_script"): "`uv cache prune --ci` prunes the runner's cache; here it would "
    "prune the machine's shared uv cache",
}
# GitLab's predefined variables the scripts read, with local values.
PREDEFINED = {"CI": "true", "GITLAB_CI": "true", "CI_DEFAULT_BRANCH": "main"}


def fresh(path: Path, venv: Path, answers: dict[str, object]) -> Project:
    """Rendered, committed, installed, and uv.lock committed as a user would."""
    project = Project.create(path, venv, **answers)
    project.git("add", "uv.lock")
    project.git("commit", "-qm", "Lock the environment")
    return project


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    project = fresh(tmp_path_factory.mktemp("gitlab") / "project", shared_venv, GITLAB)
    # GitLab's clone has the project as `origin`.
    project.git("remote", "add", "origin", str(project.path))
    return project


def test_gitlab_jobs_pass(gitlab: Project, tmp_path: Path) -> None:
    config = gitlab.read_yaml(".gitlab-ci.yml")
    variables = {k: str(v) for k, v in config["variables"].items()}
    # The runner restores $UV_CACHE_DIR from GitLab's cache; here the machine's own
    # uv cache plays that part, so nothing is downloaded again.
    variables.pop("UV_CACHE_DIR")
    ran = []
    for name, job in gitlab_jobs(config):
        assert job.get("after_script", ["uv cache prune --ci"]) == ["uv cache prune --ci"]
        if (name, "script") in NOT_RUN:
            continue
        env = variables | {k: str(v) for k, v in job.get("variables", {}).items()} | PREDEFINED
        env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit")
        for line in [*job.get("before_script", []), *job["script"]]:
            result = run_bash(gitlab, line, env)
            if "poe lint" in line:
                assert "Failed" not in result.stdout
                assert gitlab.git("status", "--porcelain") == ""
        ran.append(name)
    assert ran == ["lint", "types", "pipeline"]

    metrics = flat_metrics(gitlab.read_json("reports/metrics.json"))  # dotted, as DVC shows
    diff = (gitlab.path / "metrics-diff.md").read_text()
    rows = {}
    for line in diff.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == "reports/metrics.json":
            rows[cells[1]] = cells[2:4]
    assert set(rows) == set(metrics), diff
    for name, value in metrics.items():
        old, new = rows[name]
        assert old == "-"  # main has no committed metrics yet
        assert float(new) == pytest.approx(value, rel=1e-4, abs=1e-5)  # DVC prints 5 decimals


@pytest.fixture(scope="module")
def no_ci(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    return fresh(tmp_path_factory.mktemp("none") / "project", shared_venv, NONE)


def pre_commit(project: Project, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit run ARGS` from the project's lock, its hook cache under tmp_path."""
    home = f"PRE_COMMIT_HOME={tmp_path / 'pre-commit'}"
    return project.run(
        "env", home, "uv", "run", "--frozen", "--no-sync", "pre-commit", "run", *args
    )


@pytest.mark.alone
def test_pre_commit_passes_on_a_fresh_render_and_changes_nothing(
    no_ci: Project, tmp_path: Path
) -> None:
    assert not (no_ci.path / ".github").exists() and not (no_ci.path / ".gitlab-ci.yml").exists()
    result = pre_commit(no_ci, tmp_path, "--all-files", "--show-diff-on-failure")
    hooks = re.findall(r"^(.+?)\.{3,}(Passed|Skipped|Failed)$", result.stdout, re.MULTILINE)
    assert hooks and all(status != "Failed" for _, status in hooks), result.stdout
    assert "mypy (strict, whole project)" in dict(hooks)
    assert dict(hooks)["mypy (strict, whole project)"] == "Passed"
    assert no_ci.git("status", "--porcelain") == ""

    # A commit that adds the lock (a user's first commit, about 1.4 MB): the size
    # hook, which checks only added files, must let it in.
    no_ci.git("rm", "-q", "--cached", "uv.lock")
    no_ci.git("commit", "-qm", "Without the lock")
    no_ci.git("add", "uv.lock")
    assert (no_ci.path / "uv.lock").stat().st_size > 1_000_000
    added = pre_commit(no_ci, tmp_path, "check-added-large-files")
    assert "no large files" in added.stdout and "Failed" not in added.stdout, added.stdout
