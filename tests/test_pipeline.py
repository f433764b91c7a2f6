"""Slow tier: render a project, install it, run its pipeline, read what it made.

One classification project, shared by the tests of this module in file order (run
in one scheduling group): the later tests change params.yaml and the data.
test_pipeline_regression.py runs the same tests on a regression project, and the
generated project's own checks (ruff, mypy, pytest) on it; this project's are run
by CI's jobs in test_ci_slow_github.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.env import commit_all
from harness.project import Project, flat_metrics, flat_params

pytestmark = pytest.mark.slow

# What the demo data sets give with the default params.yaml (seeded): bounds that
# a broken pipeline (wrong split, target leak, shuffled labels) would miss.
SANE = {
    "classification": {"accuracy": (0.90, 1.0), "f1_macro": (0.90, 1.0), "brier_score": (0.0, 0.1)},
    "regression": {"r2": (0.25, 0.75), "rmse": (40.0, 70.0), "mae": (30.0, 60.0)},
}


@pytest.fixture(scope="module")
def project(trained_project: Any) -> Project:
    """A copy of the default project after its first `dvc repro` (repro.log beside it).

    The regression project runs the same checks in test_pipeline_regression.py.
    """
    return trained_project("classification", task="classification")  # type: ignore[no-any-return]


def test_pipeline_output_has_no_warnings(project: Project) -> None:
    # What a user reads after `dvc repro`: stage lines and results, no warnings
    # (MLflow's warning about the model's pickle format is filtered on purpose).
    log = (project.path.parent / "repro.log").read_text()
    assert "Running stage 'evaluate'" in log
    assert "WARNING" not in log and "Traceback" not in log, log


def test_metrics_are_sane(project: Project) -> None:
    metrics = project.read_json("reports/metrics.json")
    task = project.answers["task"]
    expected = {
        "classification": {
            "accuracy",
            "f1_macro",
            "precision_macro",
            "recall_macro",
            "brier_score",
            "roc_auc",
            "log_loss",
        },
        "regression": {"r2", "rmse", "mae"},
    }[task]
    assert set(metrics) == expected | {
        "test_rows",
        "baseline",
        "cv",
        "bootstrap",
        "ci",
        "early_stopping",  # the default family, lightgbm, stops early
    }
    stopping = metrics["early_stopping"]
    assert 1 <= stopping["best_iteration"] <= stopping["rounds"]
    # every test row resampled: the demo is far below evaluate.sample_rows
    resamples = project.read_yaml("params.yaml")["evaluate"]["bootstrap"]
    assert metrics["bootstrap"] == {"resamples": resamples, "rows": metrics["test_rows"]}
    assert metrics["test_rows"] == project.read_json("data/prepared/summary.json")["test_rows"]
    # the model beats the trivial baseline on the same rows, and says how sure it is
    primary = {"classification": "f1_macro", "regression": "rmse"}[task]
    better = max if task == "classification" else min
    assert better(metrics[primary], metrics["baseline"][primary]) == metrics[primary]
    assert metrics["ci"][primary]["low"] <= metrics[primary] <= metrics["ci"][primary]["high"]
    assert metrics["cv"]["folds"] == 5 and metrics["cv"]["std"] > 0
    for name, (low, high) in SANE[task].items():
        assert low <= metrics[name] <= high, (name, metrics[name])


def test_mlflow_run_records_what_dvc_tracks(project: Project) -> None:
    run = project.last_mlflow_run()
    assert run["status"] == "FINISHED"
    # The experiment is named after the project (copier.yml's project_slug).
    slug = re.sub(r"[^a-z0-9]+", "-", project.answers["project_name"].lower()).strip("-")
    assert run["experiment"] == slug

    params = project.read_yaml("params.yaml")
    fitted = {k: v for k, v in run["params"].items() if k.startswith("fitted.")}
    assert {k: v for k, v in run["params"].items() if k not in fitted} == flat_params(params)
    # the values the model was fitted with: the chosen family's, untuned here
    family = params["model"]["type"]
    assert fitted == {f"fitted.{k}": str(v) for k, v in params["model"][family].items()}
    tracked = project.read_json_output("dvc", "params", "diff", "--all", "--json")["params.yaml"]
    assert {k: v for k, v in run["params"].items() if k not in fitted} == {
        name: str(value["new"]) for name, value in tracked.items()
    }

    shown = project.uv_run("dvc", "metrics", "show", "--json").stdout
    dvc_metrics = next(iter(yaml.safe_load(shown).values()))["data"]["reports/metrics.json"]["data"]
    assert dvc_metrics == project.read_json("reports/metrics.json")
    # MLflow's names are DVC's: nested keys dotted (baseline.f1_macro, cv.mean)
    assert run["metrics"] == flat_metrics(dvc_metrics)

    commit = project.git("rev-parse", "HEAD").strip()
    assert run["tags"]["git_commit"] == commit
    data = (project.path / "data/raw/demo.csv").read_bytes()
    assert run["tags"]["data_md5"] == hashlib.md5(data).hexdigest()

    figures = sorted(p.name for p in (project.path / "reports/figures").iterdir())
    assert {f"plots/{name}" for name in figures} <= set(run["artifacts"])
    assert {"reports/MODEL_CARD.md", "reports/metrics.json"} <= set(run["artifacts"])
    profile = {"profile/profile.json", "profile/distributions.png", "profile/target.png"}
    assert profile <= set(run["artifacts"])
    assert [m["source_run_id"] for m in run["models"]] == [run["run_id"]]


def test_logged_model_has_signature_example_and_pinned_requirements(project: Project) -> None:
    run = project.last_mlflow_run()
    location = run["models"][0]["artifact_location"]
    script = (
        "import json, sys, mlflow\n"
        f"uri = {location!r}\n"
        "info = mlflow.models.get_model_info(uri)\n"
        "local = mlflow.artifacts.download_artifacts(uri)\n"
        "reqs = open(local + '/requirements.txt').read().split()\n"
        "print(json.dumps({'inputs': info.signature.inputs.input_names(),"
        " 'example': info.saved_input_example_info is not None, 'reqs': reqs,"
        " 'format': info.flavors['sklearn']['serialization_format']}))\n"
    )
    out = yaml.safe_load(project.uv_run("python", "-c", script).stdout.strip().splitlines()[-1])
    schema = project.read_json("models/schema.json")
    assert out["inputs"] == list(schema["features"])
    assert out["example"] is True
    names = {re.split(r"[=<>]", r)[0] for r in out["reqs"]}
    assert {"scikit-learn", "pandas", "numpy", "scipy"} <= names
    assert out["format"] == "pickle"
    assert all("==" in r for r in out["reqs"] if not r.startswith("mlflow"))


def test_model_card_holds_the_run(project: Project) -> None:
    run = project.last_mlflow_run()
    card = (project.path / "MODEL_CARD.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    report = project.read_json("reports/metrics.json")
    rows = report.pop("test_rows")
    metrics = {k: v for k, v in report.items() if not isinstance(v, dict)}
    results = meta["model-index"][0]["results"][0]
    assert {m["type"]: m["value"] for m in results["metrics"]} == metrics
    assert meta["license"] == "mit"
    assert run["run_id"] in body
    for name, value in metrics.items():
        assert f"| {name} | {value:.4f} |" in body
    for heading in (
        "## Model details",
        "## Intended use",
        "## Training data",
        "## Metrics",
        "## Plots",
        "## Limitations",
        "## Ethical considerations",
        "## How to reproduce",
    ):
        assert heading in body
    primary = {"classification": "f1_macro", "regression": "rmse"}[project.answers["task"]]
    low, high = report["ci"][primary]["low"], report["ci"][primary]["high"]
    assert f"| {primary} | {metrics[primary]:.4f} | {low:.4f} to {high:.4f} |" in body
    assert f"{report['cv']['mean']:.4f} ± {report['cv']['std']:.4f}" in body
    assert "Model version 1 of " in body and "**promoted**" in body
    assert hashlib.md5((project.path / "data/raw/demo.csv").read_bytes()).hexdigest() in body
    # for decision makers: the project's name, the demo notice, a draft until written
    assert f"# Model card: {project.answers['project_name']}\n" in body
    assert "**Demo data.**" in body and meta["status"] == "draft"
    for heading in ("## Summary", "## Data at a glance", "## What drives the predictions"):
        assert heading in body
    # the plain-words opening: how many rows each number rests on, and how sure
    summary = project.read_json("data/prepared/summary.json")
    assert (
        f"- **What the numbers rest on:** every test number on the {rows} held-out rows "
        f"the model never saw; cross-validation on the {summary['train_rows']} training rows."
    ) in body
    if project.answers["task"] == "classification":
        assert f"of every 100 cases, on {rows} held-out rows" in body
        assert f"(Wilson score interval on {rows} held-out rows)" in body
    else:
        assert f"on {rows} held-out rows its predictions are off by" in body
    assert "likely leakage" not in body and "Rows without a target" not in body
    for image in (project.path / "reports/figures").iterdir():
        assert f"](reports/figures/{image.name})" in body


def test_dvc_plots_render(project: Project) -> None:
    project.uv_run("dvc", "plots", "show", "-o", "plots-html")
    html = (project.path / "plots-html" / "index.html").read_text()
    # offline: Vega inlined from .dvc/plots/offline.html, no script from a CDN
    assert re.findall(r"<script[^>]*\bsrc=", html) == []
    assert "vegaEmbed" in html and "cdn.jsdelivr" not in html
    data_plots = {
        "classification": {
            "confusion_matrix": "Confusion matrix",
            "roc": "ROC curve",
            "precision_recall": "Precision-recall curve",
        },
        "regression": {"predictions": "Predicted vs actual", "residuals": "Residuals"},
    }[project.answers["task"]] | {"feature_importance": "Feature importance"}
    for stem, title in data_plots.items():
        assert f"reports_plots_{stem}_csv" in html and title in html, stem
    images = {p.name for p in (project.path / "plots-html" / "static").glob("*.png")}
    figures = {p.name for p in (project.path / "reports/figures").iterdir()}
    assert images == {f"workspace_reports_figures_{name}" for name in figures}


def test_second_repro_does_nothing(project: Project) -> None:
    out = project.uv_run("dvc", "repro").stdout
    assert "Running stage" not in out
    status = project.uv_run("dvc", "status").stdout
    assert "up to date" in status


def test_the_readmes_commands_leave_a_clean_tree(project: Project) -> None:
    log = (project.path.parent / "repro.log").read_text()
    assert "promoted: version 1 is the champion (first model on this data (no champion yet))" in log
    commit_all(project.path, "First pipeline run", env=project.env)
    package = project.package
    project.uv_run(
        package, "predict", "--input", "data/raw/demo.csv", "--output", "predictions/scored.csv"
    )
    project.uv_run(package, "monitor", "--input", "data/raw/demo.csv", "--no-mlflow")
    project.uv_run("dvc", "plots", "show")
    assert (project.path / "predictions/scored.csv").is_file()
    out = project.uv_run(package, "promote", "--version", "1", check=False)
    assert (out.returncode, out.stdout) == (
        1,
        "not promoted: version 1 is the champion already (registered as version 1)\n",
    )
    # `copier update` needs a clean tree: every default output is ignored.
    assert project.git("status", "--porcelain") == ""


def test_hyperparameter_change_reruns_only_dependent_stages(project: Project) -> None:
    params = project.read_yaml("params.yaml")
    params["model"]["lightgbm"]["n_estimators"] = 50
    project.write_yaml("params.yaml", params)
    out = project.uv_run("dvc", "repro").stdout
    ran = re.findall(r"Running stage '(\w+)'", out)
    assert ran == ["check", "train", "evaluate"]
    # an uncommitted change is an experiment: logged, not registered
    assert "not promoted: a run from uncommitted changes (params.yaml); commit them" in out
    assert project.last_mlflow_run()["params"]["model.lightgbm.n_estimators"] == "50"


def test_tuning_runs_once_then_continues_the_study_for_a_larger_budget(
    project: Project,
) -> None:
    # The linear family and 2 folds keep the trials cheap; 2 trials, then 3.
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    params["evaluate"]["cv_folds"] = 2
    params["tune"]["n_trials"] = 2
    project.write_yaml("params.yaml", params)
    out = project.uv_run("dvc", "repro").stdout
    assert re.findall(r"Running stage '(\w+)'", out) == ["check", "tune", "train", "evaluate"]
    best = project.read_json("models/best_params.json")
    assert (best["family"], best["trials"]) == ("linear", 2)
    fitted = project.last_mlflow_run()["params"]
    assert {k: float(fitted[f"fitted.{k}"]) for k in best["params"]} == pytest.approx(
        best["params"]
    )
    # Nothing changed: no stage runs, no trial either.
    assert "Running stage" not in project.uv_run("dvc", "repro").stdout

    out = project.uv_run("dvc", "exp", "run", "-S", "tune.n_trials=3").stdout
    assert "Running stage 'tune'" in out
    assert "not promoted: a DVC experiment (" in out
    more = project.read_json("models/best_params.json")
    assert (more["study"], more["trials"]) == (best["study"], 3)


def test_tune_storage_url_holds_the_study_and_a_bad_one_stops_the_stage(
    project: Project, tmp_path: Path
) -> None:
    if project.answers["task"] != "classification":
        pytest.skip("the study's storage does not depend on the task")
    # A database outside the project, as a team would share; the linear family
    # and 2 folds keep the trials cheap.
    url = f"sqlite:///{tmp_path / 'team' / 'studies.db'}"
    (tmp_path / "team").mkdir()
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    params["evaluate"]["cv_folds"] = 2
    params["tune"].update(storage=url, n_trials=2)
    project.write_yaml("params.yaml", params)
    # `dvc repro tune`: the stage and what it needs, not train and evaluate
    out = project.uv_run("dvc", "repro", "tune").stdout
    assert re.findall(r"Running stage '(\w+)'", out) == ["check", "tune"]
    best = project.read_json("models/best_params.json")
    trials = project.study_trials(best["study"], url)
    assert (best["trials"], trials) == (2, {"COMPLETE": 2})

    # a larger budget: the same study in the same database grows
    params["tune"]["n_trials"] = 4
    project.write_yaml("params.yaml", params)
    assert "Running stage 'tune'" in project.uv_run("dvc", "repro", "tune").stdout
    more = project.read_json("models/best_params.json")
    trials = project.study_trials(best["study"], url)
    assert (more["study"], more["trials"], trials) == (best["study"], 4, {"COMPLETE": 4})

    kept = (project.path / "models/best_params.json").read_bytes()
    params["tune"]["storage"] = "postgresql://127.0.0.1:1/nope"
    project.write_yaml("params.yaml", params)
    result = project.uv_run("dvc", "repro", "tune", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    named = [line for line in output.splitlines() if "tune.storage" in line]
    assert len(named) == 1, output
    assert named[0].startswith(
        "error: params.yaml: tune.storage postgresql://127.0.0.1:1/nope cannot be opened: "
        "its driver psycopg is not installed (uv add 'psycopg[binary]')"
    ), output
    # the `check` stage stopped it: the last search's results are still there
    assert "Running stage 'tune'" not in output
    assert (project.path / "models/best_params.json").read_bytes() == kept
    params["tune"]["storage"] = None
    project.write_yaml("params.yaml", params)
