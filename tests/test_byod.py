"""Slow tier: bring your own data by editing params.yaml only, and bad data.

A CSV with numeric and string columns, missing values and a string target trains
with no code change. Each kind of bad data stops with one clear line, a non-zero
exit and no half-written output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.project import Project

pytestmark = pytest.mark.slow


def customers(rows: int = 300, seed: int = 7) -> pd.DataFrame:
    """Churn-like data: a learnable string target, mixed types, holes."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows).astype(float)
    monthly = rng.normal(70, 20, rows).round(2)
    plan = rng.choice(["basic", "plus", "premium"], rows)
    region = rng.choice(["north", "south", "east", "west", None], rows)
    score = 2.0 * (plan == "basic") - tenure / 24 + rng.normal(0, 0.5, rows)
    churned = np.where(score > 0, "yes", "no")
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(rows)],
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "plan": plan,
            "region": region,
            "churned": churned,
        }
    )
    frame.loc[rng.choice(rows, 30, replace=False), "tenure_months"] = np.nan
    frame.loc[rng.choice(rows, 20, replace=False), "plan"] = None
    return frame


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    path = tmp_path_factory.mktemp("byod") / "churn"
    return Project.create(path, shared_venv, project_name="Churn", package_name="churn")


def use_data(project: Project, params_file: str, data_path: str, target: str) -> None:
    params = project.read_yaml("params.yaml")
    params["data"].update({"path": data_path, "target": target})
    project.write_yaml(params_file, params)


BAD_DATA = [
    (
        "missing.csv",
        None,
        "churned",
        "data/raw/missing.csv: file not found; put the data there or fix data.path in params.yaml",
    ),
    ("empty.csv", "", "churned", "data/raw/empty.csv: file is empty"),
    (
        "data.xlsx",
        "a,b\n1,2\n",
        "churned",
        "data/raw/data.xlsx: unknown file type '.xlsx'; use a .csv or .parquet file",
    ),
    (
        "notarget.csv",
        "a,b\n1,2\n3,4\n",
        "churned",
        "data/raw/notarget.csv: target column 'churned' not found (data.target in params.yaml); columns are: a, b",
    ),
    (
        "blank.csv",
        "a,churned\n1,\n2,\n",
        "churned",
        "data/raw/blank.csv: target column 'churned' has no values",
    ),
    (
        "oneclass.csv",
        "a,churned\n1,yes\n2,yes\n3,yes\n",
        "churned",
        "data/raw/oneclass.csv: target column 'churned' has a single class ('yes'); classification needs at least two classes",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "target", "message"), BAD_DATA, ids=[b[0] for b in BAD_DATA]
)
def test_bad_data_gives_one_clear_line(
    project: Project, name: str, content: str | None, target: str, message: str
) -> None:
    raw = project.path / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if content is not None:
        (raw / name).write_text(content)
    use_data(project, "bad-params.yaml", f"data/raw/{name}", target)
    result = project.uv_run("churn", "--params", "bad-params.yaml", "prepare", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert not (project.path / "data" / "prepared").exists()


def test_bad_data_stops_dvc_repro(project: Project) -> None:
    use_data(project, "params.yaml", "data/raw/oneclass.csv", "churned")
    result = project.uv_run("dvc", "repro", check=False)
    assert result.returncode != 0
    assert "single class" in result.stderr + result.stdout
    assert not (project.path / "data" / "prepared" / "train.parquet").exists()
    assert not (project.path / "models").exists()
    project.git("checkout", "params.yaml")


def test_own_csv_trains_after_editing_params_only(project: Project) -> None:
    data = customers()
    path = project.path / "data" / "raw" / "customers.csv"
    data.to_csv(path, index=False)
    params = project.read_yaml("params.yaml")
    params["data"].update(
        {"path": "data/raw/customers.csv", "target": "churned", "drop": ["customer_id"]}
    )
    project.write_yaml("params.yaml", params)
    before = set(project.git("ls-files").split())

    project.uv_run("dvc", "repro")

    metrics = project.read_json("reports/metrics.json")
    assert metrics["accuracy"] > 0.75, metrics
    schema = project.read_json("models/schema.json")
    assert schema["features"] == {
        "tenure_months": "number",
        "monthly_charges": "number",
        "plan": "string",
        "region": "string",
    }
    assert sorted(schema["classes"]) == ["no", "yes"]
    card = (project.path / "MODEL_CARD.md").read_text()
    assert "`data/raw/customers.csv`" in card
    assert "4 features and the target `churned`" in card
    # Only params.yaml changed among the files the user had; no code was touched.
    changed = set(project.git("diff", "--name-only", "HEAD").split()) & before
    assert changed <= {"params.yaml", "dvc.lock", ".gitignore"} | {
        p for p in changed if p.endswith(".gitignore")
    }
    assert not any(p.startswith("src/") for p in changed)

    # Batch prediction on rows with holes and an unseen category works too.
    new = data.drop(columns=["churned"]).head(5).copy()
    new.loc[0, "plan"] = "enterprise"
    new.loc[1, "monthly_charges"] = np.nan
    new.to_csv(project.path / "new.csv", index=False)
    project.uv_run("churn", "predict", "--input", "new.csv", "--output", "scored.csv")
    scored = pd.read_csv(project.path / "scored.csv")
    assert len(scored) == 5 and set(scored["prediction"]) <= {"no", "yes"}
    assert np.allclose(scored["probability_no"] + scored["probability_yes"], 1.0)
