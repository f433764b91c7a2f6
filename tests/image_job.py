"""The user and CI sides of the image job tests (tests/test_image_job.py, test_container.py).

The user renders, commits uv.lock, runs `dvc repro`, commits the results and, with
a DVC remote, runs `dvc push`. CI starts from a fresh `git clone` of that: no DVC
cache, no models/, no .dvc/config.local. The helpers here make both sides and run
the image job's own steps, read from the rendered CI files.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import servers
from harness.project import Project, private_site_cache_dir
from harness.servers import Server
from harness.template import render
from tests.tools.ci_steps import github_steps, gitlab_jobs, run_bash

DVC_BUCKET = "image-job-dvc"
NO_SECRETS = {
    "secrets.AWS_ACCESS_KEY_ID": "",
    "secrets.AWS_SECRET_ACCESS_KEY": "",
    "secrets.AZURE_STORAGE_CONNECTION_STRING": "",
}
S3_SECRETS = NO_SECRETS | {
    "secrets.AWS_ACCESS_KEY_ID": servers.S3_KEY_ID,
    "secrets.AWS_SECRET_ACCESS_KEY": servers.S3_SECRET,
}
# The pipeline and the image: must be the same in the GitHub and the GitLab render.
SHARED = ("src/", "dvc.yaml", "params.yaml", "Dockerfile", ".dockerignore", "cards/", ".dvc/")
# The user's branch with the GitLab render's CI files (add_gitlab_branch).
GITLAB_BRANCH = "on-gitlab"
# The GitLab predefined variables the image jobs read.
PREDEFINED = {"CI": "true", "GITLAB_CI": "true", "CI_DEFAULT_BRANCH": "main"}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """moto's S3 server: the DVC remote."""
    server = servers.start_s3(tmp_path_factory.mktemp("s3-logs"))
    try:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id=servers.S3_KEY_ID,
            aws_secret_access_key=servers.S3_SECRET,
            region_name=servers.S3_REGION,
        ).create_bucket(Bucket=DVC_BUCKET)
        yield server
    finally:
        assert server.stop() == [], "moto left processes behind"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The team's MLflow tracking server (SQLite and a local artifact folder)."""
    logs = tmp_path_factory.mktemp("mlflow-logs")
    server = servers.start_mlflow(
        logs, f"sqlite:///{logs / 'mlflow.db'}", str(logs / "artifacts"), "http://127.0.0.1:9"
    )
    try:
        yield server
    finally:
        assert server.stop() == [], "MLflow left processes behind"


@dataclass
class Services:
    """The servers a variant needs, started on first use."""

    request: pytest.FixtureRequest

    @property
    def s3(self) -> Server:
        return self.request.getfixturevalue("s3")  # type: ignore[no-any-return]

    @property
    def mlflow(self) -> Server:
        return self.request.getfixturevalue("mlflow_server")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def services(request: pytest.FixtureRequest) -> Services:
    return Services(request)


@pytest.fixture(scope="module")
def users(
    tmp_path_factory: pytest.TempPathFactory, shared_venv: Path, request: pytest.FixtureRequest
) -> Callable[..., Project]:
    """User projects, made once per module: (tracking, remote, serving) -> Project.

    Branch `on-gitlab` is added when a test first clones it (fresh_clone): the
    serving image's user never needs it, and rendering twice and re-locking for it
    took about 9 s.
    """
    made: dict[tuple[str, str, bool], Project] = {}

    def get(tracking: str, remote: str, serving: bool = True) -> Project:
        key = (tracking, remote, serving)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"user-{tracking}-{remote}-{serving}")
            project = user_project(
                folder / "project",
                shared_venv,
                Services(request),
                tracking,
                remote,
                request.getfixturevalue("trained_project"),
                serving=serving,
            )
            made[key] = project
        return made[key]

    return get


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def lock_md5s(project: Path) -> dict[str, str]:
    """path -> md5 of the train stage's outputs, as dvc.lock records them."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for out in lock["stages"]["train"]["outs"]}


def user_project(
    path: Path,
    venv: Path,
    services: Services,
    tracking: str,
    remote: str,
    trained: Callable[..., Project],
    **answers: Any,
) -> Project:
    """Rendered with ci_provider=github, pipeline run and committed (and pushed).

    `trained`: the session's trained projects (the conftest fixture), for the
    answers they hold.
    """
    if tracking == "server":
        answers |= {"mlflow_tracking": "server", "mlflow_tracking_uri": services.mlflow.url}
    if remote == "s3":
        answers |= {"dvc_remote": "s3", "dvc_remote_url": f"s3://{DVC_BUCKET}/{path.parent.name}"}
    if tracking == "local" and remote == "none":
        # The default render, its lock committed and its pipeline run: shared.
        project = trained(path.parent.name, ci_provider="github", docker=True, **answers)
        project.git("add", "-A")
        project.git("commit", "-qm", "First pipeline run")
        return project
    project = Project.create(path, venv, ci_provider="github", docker=True, **answers)
    if remote == "s3":
        # A MinIO-style remote: the endpoint is committed, the keys are not.
        project.uv_run("dvc", "remote", "modify", "storage", "endpointurl", services.s3.url)
        project.uv_run("dvc", "remote", "modify", "storage", "region", servers.S3_REGION)
        for option, value in (
            ("access_key_id", servers.S3_KEY_ID),
            ("secret_access_key", servers.S3_SECRET),
        ):
            project.uv_run("dvc", "remote", "modify", "--local", "storage", option, value)
    project.git("add", "-A")
    project.git("commit", "-qm", "Lock the environment")
    if tracking == "server":
        services.mlflow.wait_http("/health", timeout=240)
    project.uv_run("dvc", "repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "First pipeline run")
    if remote == "s3":
        project.uv_run("dvc", "push")
    return project


def add_gitlab_branch(project: Project, tmp_path: Path) -> None:
    """Branch `on-gitlab` off `main`: the same project with the GitLab render's CI file."""
    gitlab = render(
        tmp_path / "gitlab-render", **(project_answers(project) | {"ci_provider": "gitlab"})
    )
    github = render(tmp_path / "github-render", **project_answers(project))
    differ = {
        str(p.relative_to(root))
        for root, other in ((gitlab, github), (github, gitlab))
        for p in root.rglob("*")
        if p.is_file()
        and ".git" not in p.relative_to(root).parts[:1]
        and (
            not (other / p.relative_to(root)).is_file()
            or (other / p.relative_to(root)).read_bytes() != p.read_bytes()
        )
    }
    assert not [name for name in differ if name.startswith(SHARED)], differ
    project.git("switch", "-qc", GITLAB_BRANCH, "main")
    project.git("rm", "-rq", ".github")
    for name in differ:
        if (gitlab / name).is_file():
            (project.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(gitlab / name, project.path / name)
    project.lock()  # the GitLab render's dev tools differ
    project.git("add", "-A")
    project.git("commit", "-qm", "CI on GitLab")
    project.git("switch", "-q", "main")


def project_answers(project: Project) -> dict[str, Any]:
    keep = {
        "mlflow_tracking",
        "mlflow_tracking_uri",
        "dvc_remote",
        "dvc_remote_url",
        "serving",
        "task",
        "docker",
    }
    return {k: v for k, v in project.answers.items() if k in keep} | {"ci_provider": "github"}


def fresh_clone(project: Project, branch: str, path: Path) -> Project:
    """CI's checkout: a `git clone` of the user's `branch` (`on-gitlab` is made on
    first use, in the user's folder)."""
    if branch == GITLAB_BRANCH and not project.git("branch", "--list", GITLAB_BRANCH):
        add_gitlab_branch(project, project.path.parent)
    subprocess.run(
        ["git", "clone", "-q", "--branch", branch, str(project.path), str(path)],
        check=True,
        capture_output=True,
    )
    assert not (path / "models").exists() and not (path / ".dvc" / "cache").exists()
    private_site_cache_dir(path)
    return Project(path=path, venv=project.venv, answers=project.answers)


# The build job's steps that are not run here, in order (run_github_image_job).
GITHUB_HOST_ONLY = [
    "Check out the code",  # the fresh clone is the checkout
    "Set up uv",  # uv is on PATH
    "Set up Docker Buildx",  # no Docker engine: buildah builds (test_container.py)
    "Build the image (no push)",
]


def run_github_image_job(clone: Project, secrets: dict[str, str]) -> list[str]:
    """The `build` job's run steps (a pull request); returns the names of the rest."""
    workflow = clone.read_yaml(".github/workflows/docker.yml")
    host_only = []
    for step in github_steps(workflow, secrets):
        if step.job != "build":
            continue
        if step.run is None:
            host_only.append(step.name)
            continue
        run_bash(clone, step.run, step.env | {"CI": "true", "GITHUB_ACTIONS": "true"})
    return host_only


def gitlab_env(
    config: dict[str, Any], job: dict[str, Any], extra: dict[str, str]
) -> dict[str, str]:
    variables = {k: str(v) for k, v in config["variables"].items()}
    variables.pop("UV_CACHE_DIR")  # the machine's uv cache plays the runner's cache
    return variables | {k: str(v) for k, v in job.get("variables", {}).items()} | PREDEFINED | extra


def run_gitlab_job(clone: Project, name: str, extra: dict[str, str]) -> None:
    config = clone.read_yaml(".gitlab-ci.yml")
    job = dict(gitlab_jobs(config))[name]
    env = gitlab_env(config, job, extra)
    for line in [*job.get("before_script", []), *job["script"]]:
        run_bash(clone, line, env)


def assert_model_matches(clone: Project, user: Project, pulled: bool) -> None:
    for name, digest in lock_md5s(clone.path).items():
        assert md5(clone.path / name) == digest == md5(user.path / name), name
    assert clone.read_json("reports/metrics.json") == user.read_json("reports/metrics.json")
    # dvc.lock unchanged: the job shipped the committed model, not a new one.
    assert clone.git("status", "--porcelain", "--", "dvc.lock") == ""
    # Pulled, not retrained: the pipeline's data stages never ran.
    assert (clone.path / "data" / "prepared").exists() is not pulled
