"""Slow tier: the CI image job, from a fresh clone, for every answer it depends on.

For every ci_provider x mlflow_tracking x dvc_remote (none, s3 on moto) the image
job's own steps run in a fresh clone of the user's committed project, up to the
build, and must leave the user's exact models/ and reports/metrics.json there
(tests/image_job.py makes both sides). The ci_provider pair shares one pipeline
run: the GitLab variant is a branch holding every file of the GitLab render that
differs from the GitHub one (CI file, dev tools, lock), with the same committed
results (asserted: src/, dvc.yaml, params.yaml and the Dockerfile are the same in
both renders). The real builds are in test_container.py; GitHub's job for the
default answers (local-none) runs there, before the serving image is built from
its clone.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import servers
from harness.project import Project
from tests import images
from tests.image_job import (
    DVC_BUCKET,
    GITHUB_HOST_ONLY,
    NO_SECRETS,
    S3_SECRETS,
    Services,
    assert_model_matches,
    fresh_clone,
    run_github_image_job,
    run_gitlab_job,
)
from tests.tools.ci_steps import github_steps, gitlab_jobs

pytestmark = pytest.mark.slow
# The fixtures s3, mlflow_server, services and users.
pytest_plugins = ["tests.image_job"]

COMBINATIONS = [(t, r) for t in ("local", "server") for r in ("none", "s3")]
# Each combination is a scheduling group (tests/conftest.py) with the other tests
# of its user project, so that the four run on both workers.
PARAMS = [
    pytest.param(t, r, id=f"{t}-{r}", marks=pytest.mark.worker_group(f"{t}-{r}"))
    for t, r in COMBINATIONS
]


@pytest.mark.parametrize(("tracking", "remote"), PARAMS)
def test_image_job_gets_the_committed_model_from_a_fresh_clone(
    tmp_path: Path, users: Callable[..., Project], services: Services, tracking: str, remote: str
) -> None:
    services.mlflow  # noqa: B018 - started now, it is ready when a server variant needs it
    user = users(tracking, remote)
    pulled = remote != "none"
    secrets = S3_SECRETS if pulled else NO_SECRETS

    # GitHub's job for local-none runs in test_container.py, which builds the
    # serving image from its clone (the same job, the same assertions), unless
    # buildah or debootstrap is missing and that test is skipped.
    if (tracking, remote) != ("local", "none") or images.missing_tools():
        github = fresh_clone(user, "main", tmp_path / "github-clone")
        assert run_github_image_job(github, secrets) == GITHUB_HOST_ONLY
        assert_model_matches(github, user, pulled)

    gitlab = fresh_clone(user, "on-gitlab", tmp_path / "gitlab-clone")
    jobs = dict(gitlab_jobs(gitlab.read_yaml(".gitlab-ci.yml")))
    for name in ("image:build", "image:publish"):
        assert jobs[name]["needs"] == [{"job": "image:model", "artifacts": True}]
    assert jobs["image:model"]["artifacts"]["paths"] == ["models/"]
    credentials = (
        {"AWS_ACCESS_KEY_ID": servers.S3_KEY_ID, "AWS_SECRET_ACCESS_KEY": servers.S3_SECRET}
        if pulled
        else {}
    )
    run_gitlab_job(gitlab, "image:model", credentials)
    assert_model_matches(gitlab, user, pulled)


@pytest.mark.worker_group("local-s3")
def test_image_job_without_remote_credentials_fails_naming_the_remote(
    tmp_path: Path, users: Callable[..., Project]
) -> None:
    user = users("local", "s3")
    clone = fresh_clone(user, "main", tmp_path / "clone")
    workflow = clone.read_yaml(".github/workflows/docker.yml")
    (step,) = [s for s in github_steps(workflow, NO_SECRETS) if s.job == "build" and s.run]
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run],
        cwd=clone.path,
        env=clone.env | step.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "storage" in result.stderr or DVC_BUCKET in result.stderr, result.stderr
    assert not (clone.path / "models" / "model.joblib").exists()


def run_model_step(clone: Project) -> subprocess.CompletedProcess[str]:
    """GitHub's "Get the trained model" step, allowed to fail."""
    workflow = clone.read_yaml(".github/workflows/docker.yml")
    (step,) = [s for s in github_steps(workflow, NO_SECRETS) if s.job == "build" and s.run]
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run],
        cwd=clone.path,
        env=clone.env | step.env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.worker_group("local-none")
def test_image_job_refuses_a_model_other_than_the_committed_one(
    tmp_path: Path, users: Callable[..., Project]
) -> None:
    user = users("local", "none")
    # Params changed and committed without re-running the pipeline: retraining in
    # CI would ship a model nobody evaluated.
    user.git("switch", "-qc", "params-without-repro")
    params = user.read_yaml("params.yaml")
    boosting = params["model"]["lightgbm"]
    boosting["n_estimators"] = int(boosting["n_estimators"]) + 7
    user.write_yaml("params.yaml", params)
    user.git("commit", "-qam", "More boosting rounds, pipeline not run")
    user.git("switch", "-qc", "no-results", "main")
    user.git("rm", "-q", "dvc.lock")
    user.git("commit", "-qm", "Results not committed")
    user.git("switch", "-q", "main")

    stale = run_model_step(fresh_clone(user, "params-without-repro", tmp_path / "stale"))
    assert stale.returncode == 1
    assert "::error::the retrained model is not the one dvc.lock names" in stale.stdout

    missing = run_model_step(fresh_clone(user, "no-results", tmp_path / "missing"))
    assert missing.returncode == 1
    assert "::error::commit dvc.lock and reports/metrics.json" in missing.stdout
    assert not (tmp_path / "missing" / "models").exists()
