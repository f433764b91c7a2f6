"""deep_learning: the PyTorch family torch_mlp, opt-in; torch_index picks the build.

Fast: the default render has no torch; cpu and cuda render the index and source
entries of uv's PyTorch guide (https://docs.astral.sh/uv/guides/integration/pytorch/).
Slow: a deep-learning project (torch_index=pypi, the only index reached here)
trains torch_mlp on the demo data, logs its epochs to MLflow, explains, serves
and passes its own tests, the notebook's included.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from harness.project import Project
from harness.template import render

PYTORCH_INDEX = "https://download.pytorch.org/whl/"
GPU_PLATFORMS = "sys_platform == 'linux' or sys_platform == 'win32'"


def pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def test_default_render_has_no_torch(tmp_path: Path) -> None:
    root = render(tmp_path / "p")
    package = json.dumps(pyproject(root))
    assert "torch" not in package
    assert not list(root.rglob("torch_mlp.py"))
    assert "torch_mlp" not in (root / "params.yaml").read_text()
    assert (root / "notebooks" / "01-explore.ipynb").is_file()


@pytest.mark.parametrize(
    ("torch_index", "sources", "index"),
    [
        (
            "cpu",
            {"torch": [{"index": "pytorch-cpu"}]},
            [{"name": "pytorch-cpu", "url": PYTORCH_INDEX + "cpu", "explicit": True}],
        ),
        (
            "cuda",
            {"torch": [{"index": "pytorch-cu128", "marker": GPU_PLATFORMS}]},
            [{"name": "pytorch-cu128", "url": PYTORCH_INDEX + "cu128", "explicit": True}],
        ),
        ("pypi", None, None),
    ],
)
def test_torch_index_renders_uvs_documented_shape(
    tmp_path: Path, torch_index: str, sources: dict | None, index: list | None
) -> None:
    root = render(tmp_path / "p", deep_learning=True, torch_index=torch_index)
    toml = pyproject(root)
    assert any(d.startswith("torch>=") for d in toml["project"]["dependencies"])
    uv = toml.get("tool", {}).get("uv", {})
    assert uv.get("sources") == sources
    assert uv.get("index") == index
    params = (root / "params.yaml").read_text()
    assert "  torch_mlp:\n" in params and "    torch_mlp:\n" in params  # model, tune


SERVE = """
import json, sys
from fastapi.testclient import TestClient
from {package}.serving import create_app
rows = json.loads(sys.argv[1])
client = TestClient(create_app())
print(json.dumps(client.post("/predict", json={{"records": rows}}).json()))
"""
EPOCHS = """
import json
from mlflow.tracking import MlflowClient
from {package}.versioning.tracking import tracking_uri
from pathlib import Path
client = MlflowClient(tracking_uri(Path.cwd()))
history = client.get_metric_history("{run_id}", "val_loss")
print(json.dumps(sorted((m.step, m.value) for m in history)))
"""


@pytest.mark.slow
def test_torch_mlp_trains_tracks_explains_serves_and_passes_its_tests(
    tmp_path: Path,
) -> None:
    project = Project.create(
        tmp_path / "deep", deep_learning=True, torch_index="pypi", project_name="Deep"
    )
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "torch_mlp"
    params["model"]["torch_mlp"]["max_epochs"] = 30  # keeps the suite short
    params["evaluate"]["cv_folds"] = 2
    project.write_yaml("params.yaml", params)
    project.repro()

    metrics = project.read_json("reports/metrics.json")
    assert metrics["f1_macro"] >= 0.9
    assert 1 <= metrics["early_stopping"]["best_iteration"] <= 30
    run = project.last_mlflow_run()
    assert run["params"]["model.type"] == "torch_mlp"
    script = EPOCHS.format(package=project.package, run_id=run["run_id"])
    epochs = json.loads(project.uv_run("python", "-c", script, capture=True).stdout)
    assert len(epochs) >= 2
    assert [step for step, _ in epochs] == list(range(1, len(epochs) + 1))
    assert (project.path / "reports/figures/learning_curve.png").is_file()
    card = (project.path / "MODEL_CARD.md").read_text()
    assert "reports/figures/learning_curve.png" in card

    import pandas as pd

    rows = pd.read_csv(project.path / "data/raw/demo.csv").head(3)
    rows.drop(columns="diagnosis").to_csv(tmp_path / "new.csv", index=False)
    project.uv_run(
        project.package,
        "predict",
        "--input",
        tmp_path / "new.csv",
        "--output",
        tmp_path / "scored.csv",
        "--explain",
        "3",
    )
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert list(scored["prediction"]) == list(rows["diagnosis"])
    assert set(scored["explain_units"]) == {"probability of the predicted class"}
    assert scored["explain_1_column"].isin(rows.columns).all()

    records = rows.drop(columns="diagnosis").to_dict(orient="records")
    script = SERVE.format(package=project.package)
    served = json.loads(
        project.uv_run("python", "-c", script, json.dumps(records), capture=True).stdout
    )
    assert served["predictions"] == list(rows["diagnosis"])

    # The project's own tests that this answer adds or changes: test_torch_mlp.py,
    # every test parametrized by family (torch_mlp among them), the family table's
    # tests and the notebook's (torch installed beside it). The rest of the suite is
    # the default render's, run by test_printed_commands_slow.py (`uv run pytest`).
    # Jupyter as the README says.
    project.git("checkout", "--", "params.yaml")
    project.uv_run("jupyter", "lab", "--version")
    selected = "torch_mlp or test_families.py or test_notebooks.py"
    tests = project.uv_run("pytest", "-q", "-rA", "-k", selected, capture=True).stdout
    assert re.search(r"\b(\d{2,}) passed", tests), tests
    family = "test_each_family_builds_its_estimator_with_its_keys[torch_mlp]"
    assert f"PASSED tests/test_families.py::{family}" in tests
    assert "PASSED tests/test_notebooks.py::test_explore_notebook_runs_on_the_demo_data" in tests
    assert "PASSED tests/test_torch_mlp.py::test_torch_mlp_is_deterministic_on_cpu" in tests
