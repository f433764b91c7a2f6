"""Slow tier: a user's own project stays green, the whole story of issue 21.

Render from a template release -> point params.yaml at their own table by hand
(an id column, a string target) -> `dvc add` -> `dvc repro` (the project's own
tests on the same data and settings run in test_server_variant.py) -> a `dvc exp
run` (the champion does not move) -> a fresh clone runs CI's pipeline job -> a template release that rewords params.yaml's comments and
changes a default -> `copier update` -> `dvc repro`. Every step green, no conflict
marker, the user's settings intact, the champion a model of the user's data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.env import commit_all
from harness.project import Project, private_site_cache_dir
from harness.template_repo import TemplateRepo, answers, conflicted_files, update
from tests.test_ci_slow_own_data import DATA, NOTICE, clone, pipeline_job
from tests.test_update import reword_every_comment
from tests.tools.own_data import own_data, use_own_data

pytestmark = [pytest.mark.usefixtures("isolated_copier"), pytest.mark.slow]

CHAMPION = """
import json
from mlflow.tracking import MlflowClient
from {package}.versioning.registry import model_name
from {package}.versioning.tracking import use_store
from pathlib import Path
use_store(Path.cwd())
client = MlflowClient()
version = client.get_registered_model(model_name()).aliases["champion"]
tags = client.get_model_version(model_name(), version).tags
print(json.dumps({{"version": str(version), "path": tags.get("data.path")}}))
"""


def champion(project: Project) -> dict[str, str]:
    script = CHAMPION.format(package=project.package)
    return json.loads(project.uv_run("python", "-c", script).stdout.strip().splitlines()[-1])


def test_a_users_own_project_stays_green(
    repo: TemplateRepo, tmp_path: Path, shared_venv: Path
) -> None:
    path = repo.render(tmp_path / "project", "1.0.0")
    project = Project(path=path, venv=shared_venv, answers=answers(path))
    private_site_cache_dir(path)
    project.lock()  # `uv sync` would lock online: the same versions, from uv's cache
    project.uv("sync", "--quiet")
    commit_all(path, "Lock the environment", env=project.env)

    # Their data, by hand as the README says, versioned with DVC.
    own_data(path / DATA)
    params = path / "params.yaml"
    params.write_text(use_own_data(params.read_text(), DATA))
    project.uv_run("dvc", "add", DATA)
    commit_all(path, "Our data", env=project.env)

    out = project.repro().stdout
    assert "promoted: version 1 is the champion (first model on this data" in out
    assert champion(project) == {"version": "1", "path": DATA}
    commit_all(path, "First run on our data", env=project.env)

    # The project's own tests on this data: test_server_variant.py runs them on the
    # same own data and params.yaml edits (one run of that minutes-long suite).

    # An idea tried as an experiment: logged, never the champion.
    out = project.uv_run("dvc", "exp", "run", "-S", "model.lightgbm.learning_rate=0.2").stdout
    assert "not promoted: a DVC experiment (" in out
    assert champion(project) == {"version": "1", "path": DATA}
    commit_all(path, "Keep the experiment", env=project.env)

    # CI on a fresh clone (no DVC remote): green, one notice naming the data.
    fresh = clone(project, tmp_path / "clone")
    out = pipeline_job(fresh, tmp_path / "ci")
    assert out.count(NOTICE) == 2  # GitHub's step, then GitLab's command

    # A release that rewords params.yaml's comments and changes a default.
    source = "template/params.yaml.jinja"
    repo.write(source, reword_every_comment(repo.read(source)))
    repo.replace(source, "    min_samples_leaf: 2\n", "    min_samples_leaf: 1\n")
    repo.release("1.1.0")
    update(path, "1.1.0")
    assert conflicted_files(path) == []
    settings = yaml.safe_load(params.read_text())
    assert {k: settings["data"][k] for k in ("path", "target", "drop")} == {
        "path": DATA,
        "target": "churned",
        "drop": ["customer_id"],
    }
    assert settings["model"]["lightgbm"]["learning_rate"] == 0.2
    assert settings["model"]["random_forest"]["min_samples_leaf"] == 1
    commit_all(path, "Update to copier-mlops 1.1.0", env=project.env)

    out = project.repro().stdout
    assert "Running stage 'train'" in out
    summary = project.read_json("data/prepared/summary.json")
    assert (summary["path"], summary["target"]) == (DATA, "churned")
    assert champion(project)["path"] == DATA
