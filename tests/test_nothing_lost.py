"""Slow tier: a failed `dvc repro` leaves every earlier output exactly as it was.

The "chaos" test of a trained default project: `dvc repro` once with each invalid
setting of params.yaml (at least one per section) and once with each broken data
file of test_byod.py; every output of dvc.yaml and dvc.lock keep their md5, and
`predict` still scores with the last good model.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.project import Project
from tests.test_byod import BAD_DATA, write_data

pytestmark = pytest.mark.slow


def zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", text)
    return buffer.getvalue()


Change = Callable[[dict[str, Any]], None]
# (id, change to params.yaml, what the one error line says)
BAD_SETTINGS: list[tuple[str, Change, str]] = [
    ("unknown-section", lambda p: p.update(evaluat={}), "section 'evaluat' is not a setting"),
    ("data", lambda p: p["data"].update(test_size=1.5), "data.test_size must be a number"),
    (
        "features",
        lambda p: p["features"].update(numeric_imputer="mode"),
        "features.numeric_imputer must be one of mean, median, most_frequent",
    ),
    (
        "model-typo",
        lambda p: p["model"]["random_forest"].update(n_estimator=5),
        "model.random_forest.n_estimator is not a setting; known: n_estimators",
    ),
    (
        "model-bounds",
        lambda p: p["model"]["random_forest"].update(n_estimators=1_000_000_000),
        "model.random_forest.n_estimators must be an integer from 1 to 10000, got 1000000000",
    ),
    (
        "model-other-family",
        lambda p: p["model"]["linear"].update(Cc=1.0),
        "model.linear.Cc is not a setting",
    ),
    (
        "evaluate-typo",
        lambda p: p["evaluate"].update(bootstrapp=10),
        "evaluate.bootstrapp is not a setting; known: primary_metric",
    ),
    (
        "evaluate-segments",
        lambda p: p["evaluate"].update(segments=["nope"]),
        "evaluate.segments names ['nope']",
    ),
    ("tune", lambda p: p["tune"].update(n_trials=-1), "tune.n_trials must be an integer >= 0"),
    (
        "tune-space",
        lambda p: p["tune"]["space"]["random_forest"].update(
            n_estimators={"low": 50, "high": 10**9}
        ),
        "tune.space.random_forest.n_estimators: 1000000000 is outside",
    ),
    ("monitor", lambda p: p["monitor"].update(psi=-1), "monitor.psi must be a number"),
]


def fingerprint(project: Project) -> dict[str, str]:
    """md5 of every file of every output dvc.yaml declares, and of dvc.lock."""
    stages = project.read_yaml("dvc.yaml")["stages"]
    declared = [
        next(iter(out)) if isinstance(out, dict) else out
        for stage in stages.values()
        for out in stage.get("outs", []) + stage.get("metrics", [])
    ]
    files: list[Path] = [project.path / "dvc.lock"]
    for name in declared:
        path = project.path / name
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    assert all(f.is_file() for f in files), [f for f in files if not f.is_file()]
    return {
        str(f.relative_to(project.path)): hashlib.md5(f.read_bytes()).hexdigest() for f in files
    }


@pytest.fixture(scope="module")
def project(trained_project: Any) -> Project:
    project: Project = trained_project("chaos", task="classification")
    project.git("add", "-A")
    project.git("commit", "-qm", "First run")
    return project


@pytest.fixture(scope="module")
def before(project: Project) -> dict[str, str]:
    prints = fingerprint(project)
    assert {"models/model.joblib", "MODEL_CARD.md", "reports/metrics.json"} <= set(prints)
    return prints


def failed_repro(project: Project) -> str:
    """`dvc repro` fails; returns its one `error:` line (no traceback)."""
    result = project.uv_run("dvc", "repro", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "Running stage 'prepare'" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) <= 1, output
    return errors[0] if errors else output


@pytest.mark.parametrize(
    ("change", "message"), [b[1:] for b in BAD_SETTINGS], ids=[b[0] for b in BAD_SETTINGS]
)
def test_an_invalid_setting_stops_repro_before_any_output_changes(
    project: Project, before: dict[str, str], change: Change, message: str
) -> None:
    params = project.read_yaml("params.yaml")
    change(params)
    project.write_yaml("params.yaml", params)
    try:
        line = failed_repro(project)
        assert line.startswith("error: params.yaml: ") and message in line, line
        assert fingerprint(project) == before
    finally:
        project.git("checkout", "params.yaml")


COMPRESSED = [
    ("gzipped.csv", gzip.compress(b"a,churned\n1,yes\n"), {}, "data/raw/gzipped.csv: is a gzip"),
    ("zipped.csv", zipped("a,churned\n1,yes\n"), {}, "data/raw/zipped.csv: is a zip"),
]


@pytest.mark.parametrize(
    ("name", "content", "data", "message"),
    BAD_DATA + COMPRESSED,
    ids=[b[0] for b in BAD_DATA + COMPRESSED],
)
def test_broken_data_stops_repro_before_any_output_changes(
    project: Project,
    before: dict[str, str],
    name: str,
    content: Any,
    data: dict[str, object],
    message: str,
) -> None:
    if content is not None:
        write_data(project.path / "data" / "raw" / name, content)
    params = project.read_yaml("params.yaml")
    params["data"].update({"path": f"data/raw/{name}", "target": "churned", "drop": [], **data})
    project.write_yaml("params.yaml", params)
    try:
        line = failed_repro(project)
        if content is None:  # DVC itself stops on a missing dependency
            assert f"data/raw/{name}" in line and "No such file" in line, line
        else:
            assert line.startswith(f"error: {message}"), line
        assert fingerprint(project) == before
    finally:
        project.git("checkout", "params.yaml")
        (project.path / "data" / "raw" / name).unlink(missing_ok=True)


def test_the_last_good_model_still_scores_and_nothing_is_left_to_run(
    project: Project, before: dict[str, str], tmp_path: Path
) -> None:
    assert fingerprint(project) == before
    assert "up to date" in project.uv_run("dvc", "status").stdout
    rows = project.path / "data" / "raw" / "demo.csv"
    out = tmp_path / "scored.csv"
    result = project.uv_run(project.package, "predict", "--input", rows, "--output", out)
    assert result.stdout.startswith("wrote "), result.stdout
    assert len(out.read_text().splitlines()) == len(rows.read_text().splitlines())
    assert yaml.safe_load((project.path / "dvc.lock").read_text())["stages"]["check"]


def test_a_copy_without_relocation_logs_its_artifacts_into_itself(
    project: Project, tmp_path: Path
) -> None:
    # golden.copy re-points a copy's store (harness/golden.py relocate); a user's
    # plain `cp -r` does not: the project itself must.
    copy = Project(path=tmp_path / "copied", venv=project.venv, answers=project.answers)
    shutil.copytree(project.path, copy.path, symlinks=True)
    database = (project.path / "mlflow.db").read_bytes()
    try:
        copy.uv("sync", "--quiet")
        out = copy.uv_run(
            copy.package, "monitor", "--input", "data/raw/demo.csv", "--output", "drift"
        ).stdout
        run_id = re.search(r"logged the drift figures to MLflow run (\w+)", out)
        assert run_id, out
        logged = list((copy.path / "mlruns").rglob(f"{run_id[1]}/artifacts/*"))
        assert logged, sorted(p.name for p in (copy.path / "mlruns").rglob("*"))[:20]
        assert not list((project.path / "mlruns").rglob(run_id[1]))
        assert (project.path / "mlflow.db").read_bytes() == database
    finally:
        project.uv("sync", "--quiet")  # the shared environment back on the original
