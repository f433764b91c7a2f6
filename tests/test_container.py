"""Slow tier: the generated images, built and run for real with buildah.

No Docker engine runs here; buildah builds and runs OCI images with `--isolation
chroot` on stand-in base images (tests/images.py). The serving image follows
GitHub's job (its run steps from a fresh clone, then the build
docker/build-push-action does, with context `.`), the batch image GitLab's (its
`docker build` line run through tests/tools/docker_shim). Each image runs its
entrypoint as the image's own USER and must give batch `predict`'s answers. The
compose mlflow-server image is built and its command started too. Containers and
images are removed; no process is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from harness.project import Project
from harness.servers import HOST, Server, free_port, group_members
from harness.template import render
from tests import images
from tests.dockerfile import parse
from tests.image_job import (
    GITHUB_HOST_ONLY,
    NO_SECRETS,
    assert_model_matches,
    fresh_clone,
    lock_md5s,
    run_github_image_job,
    run_gitlab_job,
)

pytestmark = pytest.mark.slow
# The fixtures s3, mlflow_server, services and users.
pytest_plugins = ["tests.image_job"]

SHIM = Path(__file__).parent / "tools" / "docker_shim"


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


def run_args(container: str, user: str, *command: str, options: tuple[str, ...] = ()) -> list[str]:
    """`buildah run`'s arguments: `command` in `container` as `user`."""
    return ["run", "--isolation", "chroot", "--user", user, *options, container, "--", *command]


def run_in(container: str, user: str, *command: str) -> str:
    """Another command in a (running) container, as `user`; its output."""
    return images.buildah(*run_args(container, user, *command)).stdout


@contextlib.contextmanager
def running(
    tag: str, command: list[str], log: Path, user: str, *options: str, name: str = ""
) -> Iterator[Server]:
    """The image's command in a buildah container (named `name`, if given), as
    `user`; removed afterwards."""
    named = ["--name", name] if name else []
    container = images.buildah("from", "--pull=never", *named, tag).stdout.strip()
    args = run_args(container, user, *command, options=options)
    server = Server.start(tag, ["buildah", *args], log)
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


@pytest.mark.alone
@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13"])
def test_serving_image_serves_what_batch_predict_says(
    tmp_path: Path, users: Callable[..., Project], base_images: list[str], python_version: str
) -> None:
    if python_version != images.PYTHON_VERSION:
        pytest.skip(
            f"no stand-in python:{python_version}-slim: the machine serves Python "
            f"{images.PYTHON_VERSION} only (the Dockerfile of every python_version is "
            "linted in tests/test_docker.py)"
        )
    user = users("local", "none")
    assert user_answers_python(user) == python_version
    clone = fresh_clone(user, "main", tmp_path / "clone")
    # GitHub's image job from a fresh clone of the local-none user (for the other
    # answers in test_image_job.py): the committed model, not a retrained one.
    assert run_github_image_job(clone, NO_SECRETS) == GITHUB_HOST_ONLY
    assert_model_matches(clone, user, pulled=False)
    build = clone.read_yaml(".github/workflows/docker.yml")["jobs"]["build"]["steps"][-1]
    assert build["with"] == {"context": ".", "push": False}
    features, batch = scored_rows(clone, tmp_path)
    dockerfile = (clone.path / "Dockerfile").read_text()
    tag = "localhost/copier-mlops-test/serving:latest"
    with built(tag, clone.path) as config:
        user_spec = config["User"]
        assert user_spec == "10001:10001"
        port = free_port()
        command = [*config["Entrypoint"], "serve", "--host", HOST, "--port", str(port)]
        container = f"serving-{port}"
        with running(tag, command, tmp_path / "serve.log", user_spec, name=container) as server:
            server.url = f"http://{HOST}:{port}"
            server.wait_http("/health", timeout=180)
            # The Dockerfile's HEALTHCHECK (an OCI image keeps none), run in the
            # container as its user, against this server's port; exit 0 is healthy.
            (check,) = [i for i in parse(dockerfile) if i.keyword == "HEALTHCHECK"]
            probe = [arg.replace(":8000/", f":{port}/") for arg in check.exec_form()]
            run_in(container, user_spec, *probe)
            # The runtime stage holds the environment, the model and its metrics, not
            # the sources or the project's other files.
            listing = "import os; print(sorted(os.listdir('/app')))"
            assert run_in(container, user_spec, "python", "-c", listing).split() == [
                "['.venv',",
                "'models',",
                "'reports']",
            ]
            meta = httpx.get(server.url + "/metadata", timeout=30).json()
            # reports/metrics.json, copied in by root, is readable by the image's user.
            report = user.read_json("reports/metrics.json")
            assert meta["metrics"] == {k: v for k, v in report.items() if not isinstance(v, dict)}
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


@pytest.mark.alone
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
            assert f"wrote {len(features)} predictions to /data/predictions.csv" in job.tail()
        scored = pd.read_csv(data / "predictions.csv")
        pd.testing.assert_frame_equal(scored, batch)
        assert (data / "predictions.csv").stat().st_uid == 10001
    finally:
        images.buildah("rmi", "--force", tag, check=False)


WHICH_UV = "import shutil; print(shutil.which('uv'))"


@pytest.mark.alone
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
        container = f"mlflow-server-{port}"
        with running(
            tag,
            config["Entrypoint"],
            tmp_path / "mlflow.log",
            config["User"],
            *options,
            name=container,
        ) as server:
            server.url = f"http://{HOST}:{port}"
            server.wait_http("/health", timeout=240)
            # uv installed the pins from a mount of its image and is not in this one.
            assert run_in(container, config["User"], "python", "-c", WHICH_UV).strip() == "None"
            found = httpx.post(
                server.url + "/api/2.0/mlflow/experiments/search",
                json={"max_results": 5},
                timeout=30,
            ).json()
            assert [e["name"] for e in found["experiments"]] == ["Default"]
