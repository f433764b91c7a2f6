"""A rendered project under test: render, git, uv and commands run inside it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.template import render

# Reads a finished MLflow run back through MlflowClient, inside the project's own
# environment (the template's test environment does not install MLflow).
READ_RUN = """
import json, sys
from mlflow.tracking import MlflowClient
from {package}.tracking import experiment_name, tracking_uri
from pathlib import Path
client = MlflowClient(tracking_uri(Path.cwd()))
experiment = client.get_experiment_by_name(experiment_name())
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
run = runs[0]
artifacts = []
stack = [""]
while stack:
    for item in client.list_artifacts(run.info.run_id, stack.pop() or None):
        (stack if item.is_dir else artifacts).append(item.path)
models = client.search_logged_models([experiment.experiment_id])
print(json.dumps({
    "run_id": run.info.run_id,
    "experiment": experiment.name,
    "status": run.info.status,
    "params": run.data.params,
    "metrics": run.data.metrics,
    "tags": run.data.tags,
    "artifacts": sorted(artifacts),
    "models": [
        {"name": m.name, "source_run_id": m.source_run_id, "artifact_location": m.artifact_location}
        for m in models
    ],
}))
"""


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """params.yaml as MLflow logs it: dotted keys (`model.max_depth`), string values."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(flat_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@dataclass
class Project:
    """A rendered project folder and the environment it runs in."""

    path: Path
    venv: Path
    answers: dict[str, Any]

    @classmethod
    def create(cls, path: Path, venv: Path, *, install: bool = True, **data: Any) -> Project:
        render(path, **data)
        answers = yaml.safe_load((path / ".copier-answers.yml").read_text(encoding="utf-8"))
        project = cls(path=path, venv=venv, answers=answers)
        project.git("init", "-q")
        project.git("add", "-A")
        project.git("commit", "-qm", "Render from copier-mlops")
        # Keep DVC's site cache inside the test's folder, not under /var/tmp.
        (path / ".dvc" / "config.local").write_text(
            f"[core]\n    site_cache_dir = {path.parent / (path.name + '-dvc-site')}\n"
        )
        if install:
            project.uv("sync", "--quiet")
        return project

    @property
    def package(self) -> str:
        return str(self.answers["package_name"])

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["UV_PROJECT_ENVIRONMENT"] = str(self.venv)
        return env

    def run(
        self, *args: str | Path, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project folder; on failure show its output."""
        result = subprocess.run(
            [str(a) for a in args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(map(str, args))} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def git(self, *args: str) -> str:
        return self.run("git", *args).stdout

    def uv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("uv", *args, check=check)

    def uv_run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`uv run --frozen CMD` in the project's environment (no re-lock, no re-sync)."""
        return self.run("uv", "run", "--frozen", "--no-sync", *args, check=check)

    def read_json(self, relative: str) -> Any:
        return json.loads((self.path / relative).read_text(encoding="utf-8"))

    def read_json_output(self, *args: str) -> Any:
        """The JSON a command run in the project's environment prints."""
        return json.loads(self.uv_run(*args).stdout)

    def read_yaml(self, relative: str) -> Any:
        return yaml.safe_load((self.path / relative).read_text(encoding="utf-8"))

    def write_yaml(self, relative: str, data: Any) -> None:
        (self.path / relative).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def last_mlflow_run(self) -> dict[str, Any]:
        """The newest run of the project's experiment, read back with MlflowClient."""
        out = self.uv_run("python", "-c", READ_RUN.replace("{package}", self.package)).stdout
        return json.loads(out.strip().splitlines()[-1])
