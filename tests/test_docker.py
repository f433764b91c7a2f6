"""The generated Dockerfile, on every variant: hadolint, the instructions the images
rely on, and what .dockerignore sends. The images themselves are built and run with
buildah in tests/test_container.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.template import QUESTIONS, render
from tests.dockerfile import ignored, parse

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
