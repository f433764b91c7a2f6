"""Fast tier: what a render writes, for every variant, and that all of it parses."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from harness.template import QUESTIONS, TEMPLATE, render

# Many short tests sharing nothing costly: both workers take them (conftest.py).
pytestmark = pytest.mark.spread

PACKAGE_MODULES = (
    "__init__.py",
    "batch/__init__.py",
    "batch/outputs.py",
    "batch/partitions.py",
    "batch/predict.py",
    "batch/scoring.py",
    "cli.py",
    "config/__init__.py",
    "config/sections.py",
    "core/__init__.py",
    "core/arguments.py",
    "core/artifacts.py",
    "core/cluster.py",
    "core/errors.py",
    "core/files.py",
    "core/parquet.py",
    "core/paths.py",
    "core/processes.py",
    "core/progress.py",
    "core/stores.py",
    "data/__init__.py",
    "data/csv_blocks.py",
    "data/demo.py",
    "data/leakage.py",
    "data/profile.py",
    "data/tables.py",
    "data/textfiles.py",
    "modeling/__init__.py",
    "modeling/boosting.py",
    "modeling/lightgbm_model.py",
    "modeling/cells.py",
    "modeling/families.py",
    "modeling/features.py",
    "modeling/plots.py",
    "modeling/tasks/__init__.py",
    "monitoring/__init__.py",
    "monitoring/contract.py",
    "monitoring/drift.py",
    "monitoring/monitor.py",
    "monitoring/reference.py",
    "py.typed",
    "reporting/__init__.py",
    "reporting/card_text.py",
    "reporting/drivers.py",
    "reporting/evaluate.py",
    "reporting/explain.py",
    "reporting/importance.py",
    "reporting/insight.py",
    "reporting/model_card.py",
    "reporting/segmenting.py",
    "reporting/trust.py",
    "training/__init__.py",
    "training/check.py",
    "training/search_space.py",
    "training/train.py",
    "training/train_cluster.py",
    "training/tune.py",
    "training/tune_cluster.py",
    "training/uncertainty.py",
    "versioning/__init__.py",
    "versioning/ci.py",
    "versioning/gate.py",
    "versioning/judging.py",
    "versioning/lineage.py",
    "versioning/loading.py",
    "versioning/provenance.py",
    "versioning/registry.py",
    "versioning/relocation.py",
    "versioning/tracking.py",
)
SERVING_MODULES = (
    "serving/__init__.py",
    "serving/app.py",
    "serving/batching.py",
    "serving/explaining.py",
    "serving/limits.py",
    "serving/model.py",
    "serving/observe.py",
    "serving/schemas.py",
)
PROJECT_TESTS = (
    "conftest.py",
    "test_boosting.py",
    "test_check.py",
    "test_configured_data.py",
    "test_data.py",
    "test_explain.py",
    "test_families.py",
    "test_features.py",
    "test_monitor.py",
    "test_notebooks.py",
    "test_paths.py",
    "test_pipeline.py",
    "test_predict.py",
    "test_processes.py",
    "test_train.py",
    "test_tune.py",
)
# Files that hold Jinja on purpose: rendered at run time, not by Copier.
# Templates the project itself fills, and the vendored Vega builds (minified JS is
# full of `}}`) that DVC's plots page template inlines.
RUNTIME_TEMPLATES = {"cards/model_card.md.j2", ".dvc/plots/offline.html"}


def expected_files(answers: dict[str, Any]) -> set[str]:
    """The exact file set a render with these answers must produce."""
    package = answers["package_name"]
    files = {
        ".copier-answers.yml",
        ".dvc/.gitignore",
        ".dvc/config",
        ".dvc/plots/LICENSE-vega",
        ".dvc/plots/LICENSE-vega-embed",
        ".dvc/plots/LICENSE-vega-lite",
        ".dvc/plots/offline.html",
        ".dvcignore",
        ".gitignore",
        "README.md",
        "cards/model_card.md.j2",
        "dvc.yaml",
        "params.yaml",
        "pyproject.toml",
        "notebooks/01-explore.ipynb",
    }
    files |= {f"src/{package}/{name}" for name in PACKAGE_MODULES}
    files |= {f"tests/{name}" for name in PROJECT_TESTS}
    # What varies by task: one module (and its tests) for the chosen task only.
    task = answers["task"]
    files |= {f"src/{package}/modeling/tasks/{task}.py", f"tests/test_{task}.py"}
    if task == "classification":  # calibration and decision thresholds, plots
        files.add(f"src/{package}/modeling/tasks/calibration.py")
        files.add(f"src/{package}/modeling/tasks/class_plots.py")
    # Lifecycle: the dependency bot's config.
    files |= {
        "renovate": {"renovate.json"},
        "dependabot": {".github/dependabot.yml"},
        "none": set(),
    }[answers["dependency_bot"]]
    if answers["license"] != "Proprietary":
        files.add("LICENSE")
    # --- CI and pre-commit ---
    files |= {".pre-commit-config.yaml", "docs/development.md"}
    if answers["ci_provider"] == "github":
        files |= {".github/workflows/ci.yml", ".github/workflows/monitor.yml"}
        if answers["docker"]:
            files.add(".github/workflows/docker.yml")
    elif answers["ci_provider"] == "gitlab":
        files.add(".gitlab-ci.yml")
    # --- end CI and pre-commit ---
    # Delivery: serving API and container (serving/docker questions).
    if answers["serving"]:
        files |= {f"src/{package}/{name}" for name in SERVING_MODULES}
        files |= {"tests/test_serve.py", "tests/test_observe.py"}
    if answers["docker"]:
        files |= {"Dockerfile", ".dockerignore"}
    # Deep learning: the torch_mlp family and its tests.
    if answers.get("deep_learning"):
        files |= {f"src/{package}/modeling/torch_mlp.py", "tests/test_torch_mlp.py"}
    # --- scale-out: registry test, team stack ---
    files.add("tests/test_registry.py")
    if answers.get("mlflow_tracking") == "server":
        files |= {"compose.yaml", "mlflow-server/Dockerfile"}
    # --- end scale-out ---
    return files


def rendered_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def assert_parses(root: Path) -> None:
    """Every TOML, YAML and JSON file parses; every Python file compiles."""
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            compile(text, name, "exec")


VARIANTS = [
    {"task": task, "license": license_}
    for task, license_ in itertools.product(
        QUESTIONS["task"]["choices"].values(), QUESTIONS["license"]["choices"].values()
    )
]


@pytest.mark.parametrize("answers", VARIANTS, ids=[f"{v['task']}-{v['license']}" for v in VARIANTS])
def test_file_set_and_syntax(tmp_path: Path, answers: dict[str, str]) -> None:
    root = render(tmp_path / "p", **answers)
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert rendered_files(root) == expected_files(recorded)
    assert_parses(root)


def without_github_expressions(root: Path, name: str) -> str:
    """A file's text; in GitHub workflows without their own `${{ ... }}` expressions."""
    text = (root / name).read_text(encoding="utf-8")
    if name.startswith(".github/workflows/"):
        text = re.sub(r"\$\{\{ .*? \}\}", "", text)
    return text


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_no_template_syntax_left(tmp_path: Path, task: str) -> None:
    root = render(tmp_path / "p", task=task)
    leftovers = [
        name
        for name in rendered_files(root) - RUNTIME_TEMPLATES
        if re.search(r"{{|}}|{%|%}", without_github_expressions(root, name))
    ]
    assert leftovers == []
    card = (root / "cards/model_card.md.j2").read_text()
    assert "{{ metrics" not in card and "{% for name, value in metrics.items()" in card


def test_answers_drive_the_content(tmp_path: Path) -> None:
    root = render(
        tmp_path / "p",
        project_name="Churn Model",
        package_name="churn",
        description='Predicts churn; says "hi" \\ and more',
        author_name="Ada Lovelace",
        author_email="ada@example.org",
        license="Apache-2.0",
        python_version="3.12",
        task="regression",
    )
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "churn-model"
    assert project["description"] == 'Predicts churn; says "hi" \\ and more'
    assert project["requires-python"] == ">=3.12"
    assert project["license"] == "Apache-2.0"
    assert project["authors"] == [{"name": "Ada Lovelace", "email": "ada@example.org"}]
    assert project["scripts"] == {"churn": "churn.cli:run"}
    assert pyproject["tool"]["uv"]["build-backend"]["module-name"] == "churn"
    assert re.search(r"Copyright \d{4} Ada Lovelace", (root / "LICENSE").read_text())
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["data"]["target"] == "disease_progression"
    assert params["evaluate"] == {
        "primary_metric": "rmse",
        "greater_is_better": False,
        "min_test_rows": 10,
        "segments": [],
        "min_promote_rows": 50,
        "cv_folds": 5,
        "bootstrap": 200,
        "sample_rows": 100000,
    }
    assert params["model"]["linear"] == {"alpha": 1.0}
    dvc = yaml.safe_load((root / "dvc.yaml").read_text())
    assert dvc["stages"]["train"]["cmd"] == "churn train"
    plots = {next(iter(p)) if isinstance(p, dict) else p for p in dvc["plots"]}
    assert "reports/plots/residuals.csv" in plots
    assert "reports/plots/roc.csv" not in plots


def test_proprietary_license(tmp_path: Path) -> None:
    root = render(tmp_path / "p", license="Proprietary")
    assert not (root / "LICENSE").exists()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "LicenseRef-Proprietary"


def test_unknown_answer_keys_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="not questions of copier.yml"):
        render(tmp_path / "p", projet_name="typo")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_harness_renders_what_copier_renders(tmp_path: Path, task: str) -> None:
    """harness.template keeps Jinja's compiled code across renders and skips Copier's
    per-file git index check: a render through it equals a plain Copier render,
    file by file and mode by mode (the commit Copier makes of the dirty tree aside)."""
    answers = {"task": task, "serving": True, "docker": True, "ci_provider": "gitlab"}
    render(tmp_path / "warm", **{**answers, "docker": False})  # fills the code cache
    ours = render(tmp_path / "ours", **answers)
    plain = tmp_path / "plain"
    copier.run_copy(str(TEMPLATE), plain, data=answers, defaults=True, vcs_ref="HEAD", quiet=True)
    files = sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    for name in files:
        left, right = (plain / name).read_bytes(), (ours / name).read_bytes()
        if name == Path(".copier-answers.yml"):
            left, right = (re.sub(rb"_commit: \S+", b"", side) for side in (left, right))
        assert left == right, name
        assert (plain / name).stat().st_mode == (ours / name).stat().st_mode, name


# --- Combinations of the delivery questions ---
# Every task x ci_provider x docker x serving: the exact file set, every file parses,
# no template syntax is left, and only the chosen CI provider's files appear.
DELIVERY = [
    {"task": task, "ci_provider": ci, "docker": docker, "serving": serving}
    for task, ci, docker, serving in itertools.product(
        QUESTIONS["task"]["choices"].values(),
        QUESTIONS["ci_provider"]["choices"].values(),
        [True, False],
        [True, False],
    )
]


def delivery_id(answers: dict[str, Any]) -> str:
    flags = [name for name in ("docker", "serving") if answers[name]]
    return "-".join([answers["task"], answers["ci_provider"], *flags])


@pytest.mark.parametrize("answers", DELIVERY, ids=[delivery_id(v) for v in DELIVERY])
def test_delivery_combinations(tmp_path: Path, answers: dict[str, Any]) -> None:
    root = render(tmp_path / "p", **answers)
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in answers} == answers
    assert rendered_files(root) == expected_files(recorded)
    assert_parses(root)
    leftovers = [
        name
        for name in rendered_files(root) - RUNTIME_TEMPLATES
        if re.search(r"{{|}}|{%|%}", without_github_expressions(root, name))
    ]
    assert leftovers == []


def test_dvc_plots_page_template_works_offline(tmp_path: Path) -> None:
    """`dvc plots show` uses the vendored page: Vega inlined, no script from the web."""
    root = render(tmp_path / "p")
    config = (root / ".dvc/config").read_text()
    assert "[plots]\n    html_template = plots/offline.html\n" in config
    page = (root / ".dvc/plots/offline.html").read_text()
    assert "{plot_divs}" in page and "{scripts}" not in page  # no CDN tags added
    assert re.findall(r"<script[^>]*\bsrc=", page) == []
    assert page.count('<script type="text/javascript">') == 3
    for name in ("vega", "vega-lite", "vega-embed"):
        licence = (root / f".dvc/plots/LICENSE-{name}").read_text()
        assert "Redistribution and use in source and binary forms" in licence
