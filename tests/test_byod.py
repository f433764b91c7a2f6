"""Slow tier: bring your own data by editing params.yaml only, and bad data.

A CSV with numeric and string columns, missing values and a string target trains
with no code change. Each kind of bad data stops with one clear line, a non-zero
exit and no half-written output.
"""

from __future__ import annotations

import shutil
import subprocess
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


def use_data(
    project: Project, params_file: str, data_path: str, target: str, **data: object
) -> None:
    params = project.read_yaml("params.yaml")
    params["data"].update({"path": data_path, "target": target, "drop": [], **data})
    project.write_yaml(params_file, params)


def one_line_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit status 1 and exactly one line on stderr: `error: MESSAGE...`."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def late_type_change(rows: int = 150_000) -> pd.DataFrame:
    """A column of numbers with one word far below pandas' first read chunk."""
    frame = pd.DataFrame(
        {"n": np.arange(rows).astype(object), "churned": ["yes", "no"] * (rows // 2)}
    )
    frame.loc[rows - 3, "n"] = "oops"
    return frame


def small(rows: int = 40, **columns: object) -> pd.DataFrame:
    """`rows` rows of a number, a string and the target `churned`, plus `columns`."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(30, 10, rows).round(1),
            "plan": rng.choice(["basic", "plus"], rows),
            "churned": ["yes", "no"] * (rows // 2),
        }
    )
    for name, value in columns.items():
        frame[name] = pd.Series(value if isinstance(value, list) else [value] * rows, dtype=object)
    return frame


def with_cell(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


# (file name, content: text, bytes or a frame written as the suffix says, extra
#  data.* settings, the start of the one-line message)
BAD_DATA: list[tuple[str, str | bytes | pd.DataFrame | None, dict[str, object], str]] = [
    (
        "missing.csv",
        None,
        {},
        "data/raw/missing.csv: file not found; put the data there or fix data.path in params.yaml",
    ),
    ("empty.csv", "", {}, "data/raw/empty.csv: file is empty"),
    (
        "header.csv",
        "a,churned\n",
        {},
        "data/raw/header.csv: file has no data rows; add rows below the header",
    ),
    (
        "data.xlsx",
        "a,b\n1,2\n",
        {},
        "data/raw/data.xlsx: unknown file type '.xlsx'; use a .csv or .parquet file",
    ),
    (
        "notarget.csv",
        "a,b\n1,2\n3,4\n",
        {},
        "data/raw/notarget.csv: target column 'churned' not found (data.target in params.yaml); columns are: a, b",
    ),
    (
        "blank.csv",
        "a,churned\n1,\n2,\n",
        {},
        "data/raw/blank.csv: target column 'churned' has no values",
    ),
    (
        "oneclass.csv",
        "a,churned\n1,yes\n2,yes\n3,yes\n",
        {},
        "data/raw/oneclass.csv: target column 'churned' has a single class ('yes'); classification needs at least two classes",
    ),
    (
        "onerow.csv",
        "a,churned\n1,yes\n",
        {},
        "data/raw/onerow.csv: only 1 row has a value in 'churned'; too few rows to train and test a model, add rows",
    ),
    (
        "six.csv",
        small(6),
        {},
        "data/raw/six.csv: 6 rows leave 2 for testing at data.test_size=0.2, fewer than "
        "evaluate.min_test_rows=10 needed to judge a model; add rows (about 50) or raise data.test_size",
    ),
    (
        "droptarget.csv",
        small(),
        {"drop": ["churned"]},
        "data/raw/droptarget.csv: the target column 'churned' is also in data.drop; remove it from data.drop in params.yaml",
    ),
    (
        "inf.csv",
        with_cell(small(), 4, "tenure", np.inf),
        {},
        "data/raw/inf.csv: column 'tenure' holds infinite or huge values (above 1e+15 in size) in row 5 (inf); "
        "use finite numbers or empty those cells",
    ),
    (
        "huge.csv",
        with_cell(small(), 2, "tenure", 1e300),
        {},
        "data/raw/huge.csv: column 'tenure' holds infinite or huge values (above 1e+15 in size) in row 3 (1e+300)",
    ),
    (
        "nofeatures.csv",
        small(tenure=None, plan=None),
        {},
        "data/raw/nofeatures.csv: feature columns ['tenure', 'plan'] have no values; fill them in or add them to data.drop",
    ),
    (
        "fractional.csv",
        small().assign(churned=[0.5, 1.5] * 20),
        {},
        "data/raw/fractional.csv: target column 'churned' holds fractional numbers in rows 1, 2, 3, 4, 5 and 35 more",
    ),
    (
        "list.parquet",
        small(tags=[[1, 2]] * 40),
        {},
        "data/raw/list.parquet: column 'tags' holds lists or structs in rows 1, 2, 3, 4, 5 and 35 more",
    ),
    (
        "struct.parquet",
        small(address={"city": "Lyon"}),
        {},
        "data/raw/struct.parquet: column 'address' holds lists or structs in rows 1, 2, 3, 4, 5 and 35 more",
    ),
    (
        "late.csv",
        late_type_change(),
        {},
        "data/raw/late.csv: column 'n' holds numbers except in row 149998 ('oops'); fix or empty those cells",
    ),
    (
        "baddate.csv",
        with_cell(small(joined="2024-01-05"), 6, "joined", "2024-02-30"),
        {},
        "data/raw/baddate.csv: column 'joined' must hold ISO 8601 dates such as 2024-05-31 or "
        "2024-05-31T14:00:00; fix or empty row 7 ('2024-02-30')",
    ),
    (
        "dup.csv",
        "a,a,churned\n1,2,yes\n3,4,no\n",
        {},
        "data/raw/dup.csv: duplicate column names ['a'] in the header; give every column its own name",
    ),
    (
        "semicolon.csv",
        "a;churned\n1;yes\n3;no\n",
        {},
        "data/raw/semicolon.csv: columns are separated by semicolons; save it with commas as the separator",
    ),
    (
        "latin1.csv",
        "city,churned\nMontréal,yes\n".encode("latin-1"),
        {},
        "data/raw/latin1.csv: not UTF-8 text (line 2 holds byte 0xe9); save it as UTF-8",
    ),
]


def write_data(path: Path, content: str | bytes | pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        if path.suffix == ".parquet":
            content.to_parquet(path, index=False)
        else:
            content.to_csv(path, index=False)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "data", "message"), BAD_DATA, ids=[b[0] for b in BAD_DATA]
)
def test_bad_data_gives_one_clear_line(
    project: Project,
    name: str,
    content: str | bytes | pd.DataFrame | None,
    data: dict[str, object],
    message: str,
) -> None:
    raw = project.path / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if content is not None:
        write_data(raw / name, content)
    use_data(project, "bad-params.yaml", f"data/raw/{name}", "churned", **data)
    result = project.uv_run("churn", "--params", "bad-params.yaml", "prepare", check=False)
    one_line_error(result, message)
    assert not (project.path / "data" / "prepared").exists()


def test_label_variants_are_named_and_whitespace_removed(project: Project) -> None:
    frame = small(60).assign(churned=["yes", " yes", "Yes", "no"] * 15)
    write_data(project.path / "data" / "raw" / "labels.csv", frame)
    use_data(project, "labels-params.yaml", "data/raw/labels.csv", "churned")
    try:
        result = project.uv_run("churn", "--params", "labels-params.yaml", "prepare")
        assert result.stderr.splitlines()[-1].startswith("done in ")
        assert result.stderr.splitlines()[:-1] == [
            "warning: data/raw/labels.csv: removed surrounding whitespace from 15 labels in "
            "'churned' (' yes')",
            "warning: data/raw/labels.csv: labels in 'churned' differ only by case: 'Yes', "
            "'yes'; they stay separate classes (make them identical in the file if they mean "
            "the same)",
        ]
        train = pd.read_parquet(project.path / "data" / "prepared" / "train.parquet")
        assert set(train["churned"]) == {"yes", "Yes", "no"}
    finally:
        shutil.rmtree(project.path / "data" / "prepared", ignore_errors=True)


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


@pytest.fixture(scope="module")
def model(project: Project) -> Path:
    """A model trained on `customers()` by the real CLI, kept outside models/ so the
    other tests see a project that has not been trained.
    """
    write_data(project.path / "data" / "raw" / "scoring.csv", customers(seed=11))
    use_data(
        project, "scoring-params.yaml", "data/raw/scoring.csv", "churned", drop=["customer_id"]
    )
    for stage in ("prepare", "train"):
        project.uv_run("churn", "--params", "scoring-params.yaml", stage)
    kept = project.path.parent / "scoring-model"
    kept.mkdir()
    for name in ("model.joblib", "schema.json", "reference.json"):
        shutil.move(project.path / "models" / name, kept / name)
    shutil.rmtree(project.path / "models")
    shutil.rmtree(project.path / "data" / "prepared")
    return kept / "model.joblib"


def predict(project: Project, model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return project.uv_run("churn", "predict", "--model", str(model), *args, check=False)


def new_rows() -> pd.DataFrame:
    return customers(seed=12).head(8).drop(columns=["churned"])


BAD_BATCHES = [
    (
        "text",
        with_cell(
            with_cell(new_rows(), 1, "tenure_months", "ten"), 5, "tenure_months", "12 months"
        ),
        "batch.csv: column 'tenure_months' must hold numbers; fix or empty rows 2, 6 ('ten', '12 months')",
    ),
    (
        "inf",
        with_cell(new_rows(), 3, "monthly_charges", np.inf),
        "batch.csv: column 'monthly_charges' holds infinite or huge values (above 1e+15 in size) in row 4 (inf)",
    ),
    (
        "prediction-column",
        new_rows().assign(prediction="yes", probability_no=0.5),
        "batch.csv: has columns ['prediction', 'probability_no'] that predict writes; "
        "rename or drop them in the input",
    ),
    (
        "missing-feature",
        new_rows().drop(columns=["plan"]),
        "batch.csv: lacks the feature columns ['plan']",
    ),
]


@pytest.mark.parametrize(("case", "rows", "message"), BAD_BATCHES, ids=[b[0] for b in BAD_BATCHES])
def test_bad_batch_gives_one_clear_line(
    project: Project, model: Path, case: str, rows: pd.DataFrame, message: str
) -> None:
    rows.to_csv(project.path / "batch.csv", index=False)
    result = predict(project, model, "--input", "batch.csv", "--output", "batch-scored.csv")
    one_line_error(result, message)
    assert not (project.path / "batch-scored.csv").exists()


@pytest.mark.parametrize("not_a_model", ["batch.csv", "schema.json"])
def test_a_file_that_is_not_a_model_gives_one_line(
    project: Project, model: Path, not_a_model: str
) -> None:
    new_rows().to_csv(project.path / "batch.csv", index=False)
    path = project.path / "batch.csv" if not_a_model == "batch.csv" else model.parent / not_a_model
    result = predict(project, path, "--input", "batch.csv", "--output", "batch-scored.csv")
    one_line_error(
        result, f"{path}: not a model file; pass the models/model.joblib that `train` writes"
    )
    assert not (project.path / "batch-scored.csv").exists()


def test_output_over_input_needs_overwrite(project: Project, model: Path) -> None:
    new_rows().to_csv(project.path / "batch.csv", index=False)
    before = (project.path / "batch.csv").read_bytes()
    result = predict(project, model, "--input", "batch.csv", "--output", "batch.csv")
    one_line_error(
        result,
        "batch.csv: --output is the --input file; choose another --output, or pass --overwrite",
    )
    assert (project.path / "batch.csv").read_bytes() == before

    result = predict(project, model, "--input", "batch.csv", "--output", "batch.csv", "--overwrite")
    assert result.returncode == 0, result.stderr
    scored = pd.read_csv(project.path / "batch.csv")
    assert list(scored.columns) == [
        *new_rows().columns,
        "prediction",
        "probability_no",
        "probability_yes",
    ]


SERVE_AND_PREDICT = """
import json, sys
import pandas as pd
from fastapi.testclient import TestClient
from churn.serving import create_app
model, rows = sys.argv[1], pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
records = [
    {"joined": r["joined"], "member": float(r["member"] == "True"), "monthly": float(r["monthly"])}
    for _, r in rows.iterrows()
]
body = TestClient(create_app(model)).post("/predict", json={"records": records}).json()
print(json.dumps(body["probabilities"]))
"""


def test_dates_and_booleans_score_alike_from_csv_parquet_and_the_api(project: Project) -> None:
    rng = np.random.default_rng(5)
    rows = 240
    joined = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 2 * 8760, rows), unit="h")
    member = rng.choice([True, False], rows)
    monthly = rng.normal(70, 20, rows).round(2)
    late = np.asarray(joined.month > 6)
    frame = pd.DataFrame(
        {
            "joined": joined,
            "member": member,
            "monthly": monthly,
            "churned": np.where(late ^ member, "yes", "no"),
        }
    )
    raw = project.path / "data" / "raw"
    write_data(raw / "dates.csv", frame)
    write_data(raw / "dates.parquet", frame)
    trained: dict[str, pd.DataFrame] = {}
    try:
        for suffix in ("csv", "parquet"):
            use_data(project, "dates-params.yaml", f"data/raw/dates.{suffix}", "churned")
            for stage in ("prepare", "train"):
                project.uv_run("churn", "--params", "dates-params.yaml", stage)
            for source in ("csv", "parquet"):
                out = f"dates-{suffix}-{source}.csv"
                predict_args = ("--input", f"data/raw/dates.{source}", "--output", out)
                project.uv_run("churn", "predict", *predict_args)
                trained[f"{suffix}/{source}"] = pd.read_csv(project.path / out)
        schema = project.read_json("models/schema.json")
        assert schema["features"] == {"joined": "string", "member": "number", "monthly": "number"}
        served = project.read_json_output(
            "python", "-c", SERVE_AND_PREDICT, "models/model.joblib", "data/raw/dates.csv"
        )
    finally:
        for folder in ("models", "data/prepared"):
            shutil.rmtree(project.path / folder, ignore_errors=True)
    first = trained["csv/csv"]
    probabilities = ["probability_no", "probability_yes"]
    for key, scored in trained.items():
        assert scored["prediction"].tolist() == first["prediction"].tolist(), key
        assert np.allclose(scored[probabilities], first[probabilities]), key
    assert (first["prediction"] == frame["churned"]).mean() > 0.9
    assert np.allclose([[p["no"], p["yes"]] for p in served], first[probabilities])
