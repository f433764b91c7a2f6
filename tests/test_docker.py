"""The generated Dockerfile: hadolint on every variant (fast), and its build and start
commands run outside a container on a rendered project (slow, see tests/dockerfile.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from harness.project import Project
from harness.servers import free_port, stop_group
from harness.template import QUESTIONS, render
from tests.dockerfile import Build, ignored, parse

HADOLINT = Path(sys.executable).parent / "hadolint"
PYTHONS = list(QUESTIONS["python_version"]["choices"].values())
VARIANTS = [(serving, python) for serving in (True, False) for python in PYTHONS]


@pytest.mark.parametrize(
    ("serving", "python"), VARIANTS, ids=[f"serving={s}-py{p}" for s, p in VARIANTS]
)
def test_hadolint_finds_nothing(tmp_path: Path, serving: bool, python: str) -> None:
    root = render(tmp_path / "p", serving=serving, python_version=python)
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"], cwd=root, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    instructions = parse((root / "Dockerfile").read_text())
    images = [i.args for i in instructions if i.keyword == "FROM"]
    assert images == [f"python:{python}-slim AS builder", f"python:{python}-slim AS runtime"]
    runs = " ".join(i.args for i in instructions if i.keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    users = [i.args for i in instructions if i.keyword == "USER"]
    assert users == ["10001:10001"]
    last = {i.keyword: i for i in instructions}
    assert last["ENTRYPOINT"].exec_form() == ["my_ml_project"]
    if serving:
        assert last["CMD"].exec_form() == ["serve", "--host", "0.0.0.0", "--port", "8000"]
        assert "http://127.0.0.1:8000/health" in last["HEALTHCHECK"].args
    else:
        assert last["CMD"].exec_form()[0] == "predict"
        assert "HEALTHCHECK" not in last


def test_dockerignore_sends_only_what_the_image_needs(tmp_path: Path) -> None:
    root = render(tmp_path / "p")
    patterns = [p for p in (root / ".dockerignore").read_text().splitlines() if p and p[0] != "#"]
    sent = {
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "src/my_ml_project/serving/app.py",
        "models/model.joblib",
        "models/schema.json",
        "models/reference.json",
        "reports/metrics.json",
    }
    kept_out = {
        ".git/config",
        ".venv/bin/python",
        "data/raw/demo.csv",
        "mlflow.db",
        "mlruns/1/meta.yaml",
        "reports/figures/roc.png",
        "src/my_ml_project/serving/__pycache__/app.cpython-311.pyc",
        "tests/test_serve.py",
        ".dvc/cache/files/md5/ab/cd",
    }
    assert {p for p in sent | kept_out if not ignored(p, patterns)} == sent


# ---------------------------------------------------------------------------------
# Slow: the Dockerfile's commands, run outside a container
# ---------------------------------------------------------------------------------


def build_env() -> dict[str, str]:
    """The host environment without the test's venv redirection (the image has none)."""
    env = dict(os.environ)
    for name in ("UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def stop(process: subprocess.Popen[str]) -> None:
    """Stop the image's command and everything it started; nothing may be left."""
    assert stop_group(process, timeout=30) == []


@pytest.fixture(scope="module")
def trained(trained_project: Any) -> Project:
    """The default render (serving, docker), its pipeline run: models/ is there."""
    return trained_project("docker")  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.alone
def test_image_commands_build_and_serve(trained: Project, tmp_path: Path) -> None:
    port = str(free_port())
    build = Build(
        trained.path / "Dockerfile", trained.path, tmp_path, build_env(), ports={"8000": port}
    ).run()
    assert build.skipped == ["COPY --from=ghcr.io/astral-sh/uv:0.13.9", "RUN groupadd"]
    assert [r.split()[-1] for r in build.ran] == ["--no-install-project", "--no-editable"]
    # The runtime stage holds the environment and the model, not the sources.
    assert sorted(p.name for p in build.host("/app").iterdir()) == [".venv", "models", "reports"]

    server = build.popen(
        build.mapped(build.entrypoint + build.cmd),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            check = subprocess.run(
                build.mapped(build.healthcheck), env=build.environ(), capture_output=True
            )
            if check.returncode == 0:
                break
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "HEALTHCHECK never passed"
            time.sleep(1)
        rows = pd.read_parquet(trained.path / "data/prepared/test.parquet").head(3)
        records = rows.drop(columns="diagnosis").to_dict(orient="records")
        response = httpx.post(f"http://127.0.0.1:{port}/predict", json={"records": records})
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 3
    finally:
        stop(server)


@pytest.mark.slow
@pytest.mark.alone
def test_batch_image_commands_score_a_file(
    trained: Project, tmp_path: Path, shared_venv: Path
) -> None:
    project = Project.create(tmp_path / "batch", shared_venv, install=False, serving=False)
    project.uv("lock", "--quiet")
    # The same pipeline's model: the image only needs models/ and the metrics.
    shutil.copytree(trained.path / "models", project.path / "models")
    (project.path / "reports").mkdir()
    shutil.copy(trained.path / "reports/metrics.json", project.path / "reports")

    build = Build(project.path / "Dockerfile", project.path, tmp_path / "work", build_env()).run()
    volume = tmp_path / "data"
    volume.mkdir()
    rows = pd.read_parquet(trained.path / "data/prepared/test.parquet").drop(columns="diagnosis")
    rows.to_csv(volume / "input.csv", index=False)
    job = build.popen(
        build.mapped(build.entrypoint + build.cmd, volumes={"/data": volume}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = job.communicate(timeout=300)
    assert job.returncode == 0, output
    assert f"wrote {len(rows)} predictions to {volume}/predictions.csv" in output

    trained.uv_run(
        trained.package, "predict", "--input", volume / "input.csv", "--output", tmp_path / "b.csv"
    )
    assert pd.read_csv(volume / "predictions.csv").equals(pd.read_csv(tmp_path / "b.csv"))
