"""Slow tier: the CI image job from a fresh clone, and real image builds and runs.

What a user does: render, commit uv.lock, `dvc repro`, commit the results, and
with a DVC remote `dvc push`. CI then starts from a fresh `git clone`: no DVC cache
and no models/. For every ci_provider x mlflow_tracking x dvc_remote (none, s3 on
moto) the image job's own steps run here, up to the build, and must leave the
user's exact models/ and reports/metrics.json in the clone. The ci_provider pair
shares one pipeline run: the GitLab variant is a branch holding every file of the
GitLab render that differs from the GitHub one (CI file, dev tools, lock), with the
same committed results (asserted: src/, dvc.yaml, params.yaml and the Dockerfile
are the same in both renders).

Two variants then build and run for real with buildah (tests/images.py has the
stand-in base images): the serving image (GitHub's job, the build that
docker/build-push-action does, with context `.`) and the batch image (GitLab's
job, its `docker build` line run through tests/tools/docker_shim). Each image runs
its entrypoint as the image's own USER and must give batch `predict`'s answers.
The compose mlflow-server image is built and its command started too. Containers
and images are removed; no process is left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from tests import images, servers
from tests.project import Project
from tests.servers import HOST, Server, free_port, group_members
from tests.template import render
from tests.tools.ci_steps import github_steps, gitlab_jobs, run_bash

pytestmark = pytest.mark.slow

SHIM = Path(__file__).parent / "tools" / "docker_shim"
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
    """User projects, made once per module: (tracking, remote, serving) -> Project."""
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
                serving=serving,
            )
            add_gitlab_branch(project, folder)
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
    path: Path, venv: Path, services: Services, tracking: str, remote: str, **answers: Any
) -> Project:
    """Rendered with ci_provider=github, pipeline run and committed (and pushed)."""
    if tracking == "server":
        answers |= {"mlflow_tracking": "server", "mlflow_tracking_uri": services.mlflow.url}
    if remote == "s3":
        answers |= {"dvc_remote": "s3", "dvc_remote_url": f"s3://{DVC_BUCKET}/{path.parent.name}"}
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
    """Branch `on-gitlab`: the same project with the GitLab render's CI file."""
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
    project.git("switch", "-qc", "on-gitlab")
    project.git("rm", "-rq", ".github")
    for name in differ:
        if (gitlab / name).is_file():
            (project.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(gitlab / name, project.path / name)
    project.uv("lock", "--quiet")  # the GitLab render's dev tools differ
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
    subprocess.run(
        ["git", "clone", "-q", "--branch", branch, str(project.path), str(path)],
        check=True,
        capture_output=True,
    )
    assert not (path / "models").exists() and not (path / ".dvc" / "cache").exists()
    (path / ".dvc" / "config.local").write_text(
        f"[core]\n    site_cache_dir = {path.parent / (path.name + '-dvc-site')}\n"
    )
    return Project(path=path, venv=project.venv, answers=project.answers)


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


COMBINATIONS = [(t, r) for t in ("local", "server") for r in ("none", "s3")]


@pytest.mark.parametrize(
    ("tracking", "remote"), COMBINATIONS, ids=[f"{t}-{r}" for t, r in COMBINATIONS]
)
def test_image_job_gets_the_committed_model_from_a_fresh_clone(
    tmp_path: Path, users: Callable[..., Project], services: Services, tracking: str, remote: str
) -> None:
    services.mlflow  # noqa: B018 - started now, it is ready when a server variant needs it
    user = users(tracking, remote)
    pulled = remote != "none"
    secrets = S3_SECRETS if pulled else NO_SECRETS

    github = fresh_clone(user, "main", tmp_path / "github-clone")
    host_only = run_github_image_job(github, secrets)
    assert host_only == [
        "Check out the code",  # the fresh clone is the checkout
        "Set up uv",  # uv is on PATH
        "Set up Docker Buildx",  # no Docker engine: buildah builds (test_serving_image_...)
        "Build the image (no push)",
    ]
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


# ---- real builds -------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_images() -> list[str]:
    reason = images.missing_tools()
    if reason:
        pytest.skip(reason)
    return images.ensure_base_images()


@contextlib.contextmanager
def built(tag: str, context: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """`buildah bud` the folder; yield the image's config; remove the image after."""
    try:
        images.buildah(
            "bud",
            "--isolation",
            "chroot",
            "--pull=never",
            "--quiet",
            "-t",
            tag,
            *extra,
            str(context),
        )
        yield image_config(tag)
    finally:
        images.buildah("rmi", "--force", tag, check=False)


def image_config(tag: str) -> dict[str, Any]:
    data = json.loads(images.buildah("inspect", "--type", "image", tag).stdout)
    return dict(data["OCIv1"]["config"])


@contextlib.contextmanager
def running(tag: str, command: list[str], log: Path, user: str, *options: str) -> Iterator[Server]:
    """The image's command in a buildah container, as `user`; removed afterwards."""
    container = images.buildah("from", "--pull=never", tag).stdout.strip()
    server = Server.start(
        tag,
        [
            "buildah",
            "run",
            "--isolation",
            "chroot",
            "--user",
            user,
            *options,
            container,
            "--",
            *command,
        ],
        log,
    )
    try:
        yield server
    finally:
        left = server.stop()
        images.buildah("rm", container, check=False)
        assert left == [], f"processes left behind by {tag}: {left}"


def scored_rows(
    clone: Project, tmp_path: Path, rows: int = 25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, batch `predict` output) for the first held-out rows."""
    target = clone.read_yaml("params.yaml")["data"]["target"]
    features = (
        pd.read_parquet(clone.path / "data/prepared/test.parquet").drop(columns=target).head(rows)
    )
    features.to_csv(tmp_path / "input.csv", index=False)
    clone.uv_run(
        clone.package,
        "predict",
        "--input",
        tmp_path / "input.csv",
        "--output",
        tmp_path / "batch.csv",
    )
    return features, pd.read_csv(tmp_path / "batch.csv")


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13"])
def test_serving_image_serves_what_batch_predict_says(
    tmp_path: Path, users: Callable[..., Project], base_images: list[str], python_version: str
) -> None:
    if python_version != images.PYTHON_VERSION:
        pytest.skip(
            f"no stand-in python:{python_version}-slim: the machine serves Python "
            f"{images.PYTHON_VERSION} only (the Dockerfile is linted and its commands run "
            "in tests/test_docker.py)"
        )
    assert user_answers_python(users("local", "none")) == python_version
    user = users("local", "none")
    clone = fresh_clone(user, "main", tmp_path / "clone")
    host_only = run_github_image_job(clone, NO_SECRETS)
    assert "Build the image (no push)" in host_only
    build = clone.read_yaml(".github/workflows/docker.yml")["jobs"]["build"]["steps"][-1]
    assert build["with"] == {"context": ".", "push": False}
    features, batch = scored_rows(clone, tmp_path)
    tag = "localhost/copier-mlops-test/serving:latest"
    with built(tag, clone.path) as config:
        user_spec = config["User"]
        assert user_spec == "10001:10001"
        port = free_port()
        command = [*config["Entrypoint"], "serve", "--host", HOST, "--port", str(port)]
        with running(tag, command, tmp_path / "serve.log", user_spec) as server:
            server.url = f"http://{HOST}:{port}"
            server.wait_http("/health", timeout=180)
            meta = httpx.get(server.url + "/metadata", timeout=30).json()
            # reports/metrics.json, copied in by root, is readable by the image's user.
            assert meta["metrics"] == user.read_json("reports/metrics.json")
            records = json.loads(features.to_json(orient="records"))
            response = httpx.post(server.url + "/predict", json={"records": records}, timeout=60)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["model_version"] == lock_md5s(clone.path)["models/model.joblib"]
            assert [str(p) for p in body["predictions"]] == batch["prediction"].astype(str).tolist()
            for row, probabilities in zip(
                batch.to_dict(orient="records"), body["probabilities"], strict=True
            ):
                for label, value in probabilities.items():
                    assert value == pytest.approx(row[f"probability_{label}"], abs=1e-9)
            whoami = httpx.get(server.url + "/health", timeout=10).json()
            assert whoami["model_loaded"] is True
            assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
            owner = process_owner(server)
            assert owner == 10001, f"the server runs as uid {owner}"


def user_answers_python(project: Project) -> str:
    return str(project.answers["python_version"])


def process_owner(server: Server) -> int:
    """The uid of the server process inside the container (the group's newest member)."""
    uids = []
    for pid in group_members(server.pid):
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"serve" in cmdline and b"buildah" not in cmdline:
            uids.append(
                int(
                    next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]
                )
            )
    assert uids, "no server process found"
    return uids[0]


def test_batch_image_scores_a_csv_like_batch_predict(
    tmp_path: Path, users: Callable[..., Project], base_images: list[str]
) -> None:
    user = users("local", "none", serving=False)
    clone = fresh_clone(user, "on-gitlab", tmp_path / "clone")
    run_gitlab_job(clone, "image:model", {})
    features, batch = scored_rows(clone, tmp_path)
    sha = clone.git("rev-parse", "HEAD").strip()
    registry_image = "localhost/copier-mlops-test/batch"
    tag = f"{registry_image}:{sha}"
    shim = {
        "PATH": f"{SHIM}{os.pathsep}{os.environ['PATH']}",
        "CI_REGISTRY_IMAGE": registry_image,
        "CI_COMMIT_SHA": sha,
        "CI_PIPELINE_SOURCE": "merge_request_event",
    }
    try:
        run_gitlab_job(clone, "image:build", shim)
        config = image_config(tag)
        assert config["User"] == "10001:10001"
        data = tmp_path / "data"
        data.mkdir()
        shutil.copyfile(tmp_path / "input.csv", data / "input.csv")
        data.chmod(0o777)  # writable by the image's user
        with running(
            tag,
            [*config["Entrypoint"], *config["Cmd"]],
            tmp_path / "batch.log",
            config["User"],
            "--volume",
            f"{data}:/data",
        ) as job:
            job.process.wait(timeout=300)
            assert job.process.returncode == 0, job.tail()
        scored = pd.read_csv(data / "predictions.csv")
        pd.testing.assert_frame_equal(scored, batch)
        assert (data / "predictions.csv").stat().st_uid == 10001
    finally:
        images.buildah("rmi", "--force", tag, check=False)


def test_mlflow_server_image_starts_its_command(tmp_path: Path, base_images: list[str]) -> None:
    project = render(tmp_path / "project", mlflow_tracking="server")
    dockerfile = (project / "mlflow-server" / "Dockerfile").read_text()
    assert "FROM python:3.12-slim-bookworm" in dockerfile
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    environment = compose["services"]["mlflow"]["environment"]
    tag = "localhost/copier-mlops-test/mlflow-server:latest"
    # The machine serves Python 3.11 only: the 3.11 stand-in replaces the 3.12 base.
    with built(tag, project / "mlflow-server", "--from", images.PYTHON_IMAGE) as config:
        assert config["User"] == "10001"
        port = free_port()
        env = {
            "MLFLOW_HOST": HOST,
            "MLFLOW_PORT": str(port),
            "MLFLOW_WORKERS": "1",
            "MLFLOW_BACKEND_STORE_URI": "sqlite:////tmp/mlflow.db",
            "MLFLOW_ARTIFACTS_DESTINATION": "/tmp/artifacts",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"],
        }
        options = [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
        with running(
            tag, config["Entrypoint"], tmp_path / "mlflow.log", config["User"], *options
        ) as server:
            server.url = f"http://{HOST}:{port}"
            server.wait_http("/health", timeout=240)
            found = httpx.post(
                server.url + "/api/2.0/mlflow/experiments/search",
                json={"max_results": 5},
                timeout=30,
            ).json()
            assert [e["name"] for e in found["experiments"]] == ["Default"]
