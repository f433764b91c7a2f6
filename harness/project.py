"""A rendered project under test: render, git, uv and commands run inside it."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.env import clean_env, commit_all
from harness.template import TEMPLATE, render

# Reads a finished MLflow run back through MlflowClient, inside the project's own
# environment (the template's test environment does not install MLflow).
STUDY_TRIALS = """
import collections, json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[1], storage=sys.argv[2])
print(json.dumps(collections.Counter(t.state.name for t in study.trials)))
"""
READ_RUN = """
import json, sys
from mlflow.tracking import MlflowClient
from {package}.versioning.tracking import experiment_name, tracking_uri
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


_LOCKED_ONLINE = False
"""Whether this process has run an online `uv lock` (Project.lock)."""


def flat_metrics(report: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """metrics.json as MLflow logs it: dotted keys (`baseline.f1_macro`), numbers."""
    flat: dict[str, float] = {}
    for key, value in report.items():
        if isinstance(value, dict):
            flat.update(flat_metrics(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """params.yaml as MLflow logs it: dotted keys (`model.max_depth`), string values."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(flat_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def private_site_cache_dir(path: Path) -> None:
    """Keep DVC's site cache of the project at `path` beside it (`<name>-dvc-site`),
    not under /var/tmp where every run would share it (.dvc/config.local)."""
    (path / ".dvc" / "config.local").write_text(
        f"[core]\n    site_cache_dir = {path.parent / (path.name + '-dvc-site')}\n"
    )


@dataclass
class Project:
    """A rendered project folder and the environment it runs in.

    `venv` None: the project's own `.venv`, as a user has it. `echo`: print each
    command and let its output through (the demo), instead of capturing it.
    """

    path: Path
    venv: Path | None
    answers: dict[str, Any]
    echo: bool = False

    @classmethod
    def create(
        cls,
        path: Path,
        venv: Path | None = None,
        *,
        install: bool = True,
        private_site_cache: bool = True,
        echo: bool = False,
        **data: Any,
    ) -> Project:
        """Render, `git init` and commit, then `uv sync` (unless `install` is False).

        `private_site_cache` keeps DVC's site cache next to the project instead of
        under /var/tmp, so that runs do not share it.
        """
        if echo:
            print(f"==> render {TEMPLATE} into {path}", flush=True)
        render(path, **data)
        answers = yaml.safe_load((path / ".copier-answers.yml").read_text(encoding="utf-8"))
        project = cls(path=path, venv=venv, answers=answers, echo=echo)
        if echo:
            print("==> git init, add, commit", flush=True)
        commit_all(path, "Render from copier-mlops", env=project.env)
        if private_site_cache:
            private_site_cache_dir(path)
        if install:
            project.lock()
            project.uv("sync", *(() if echo else ("--quiet",)))
        return project

    def lock(self) -> None:
        """`uv lock`: online the first time in this process, from uv's cache after.

        An online lock asks PyPI about every package again: 14 s of waiting for
        each new project, with under 2 s of work. Once this process has locked
        online, the index pages are fresh in uv's cache, so `--offline` resolves
        the same versions in 0.2 s; a project that needs a package the cache lacks
        (its offline lock fails) locks online.
        """
        global _LOCKED_ONLINE
        quiet = () if self.echo else ("--quiet",)
        if _LOCKED_ONLINE and self.uv("lock", "--offline", *quiet, check=False).returncode == 0:
            return
        self.uv("lock", *quiet)
        _LOCKED_ONLINE = True

    @property
    def package(self) -> str:
        return str(self.answers["package_name"])

    @property
    def env(self) -> dict[str, str]:
        env = clean_env()
        if self.venv is not None:
            env["UV_PROJECT_ENVIRONMENT"] = str(self.venv)
        return env

    def run(
        self,
        *args: str | Path,
        check: bool = True,
        timeout: float = 600,
        capture: bool | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project folder; on failure show its output.

        `capture` defaults to not `echo`: echoed commands print as they run.
        """
        command = [str(a) for a in args]
        capture = not self.echo if capture is None else capture
        if self.echo:
            print(f"==> {' '.join(command)}", flush=True)
        result = subprocess.run(
            command,
            cwd=self.path,
            env=self.env,
            capture_output=capture,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout or ''}\n--- stderr\n{result.stderr or ''}"
            )
        return result

    def git(self, *args: str) -> str:
        return self.run("git", *args, capture=True).stdout

    def uv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("uv", *args, check=check)

    def uv_run(
        self, *args: str | Path, check: bool = True, capture: bool | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`uv run --frozen CMD` in the project's environment (no re-lock, no re-sync)."""
        return self.run("uv", "run", "--frozen", "--no-sync", *args, check=check, capture=capture)

    def repro(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`dvc repro` in the project's environment."""
        return self.uv_run("dvc", "repro", *args)

    def read_json(self, relative: str) -> Any:
        return json.loads((self.path / relative).read_text(encoding="utf-8"))

    def read_json_output(self, *args: str) -> Any:
        """The JSON a command run in the project's environment prints."""
        return json.loads(self.uv_run(*args, capture=True).stdout)

    def read_yaml(self, relative: str) -> Any:
        return yaml.safe_load((self.path / relative).read_text(encoding="utf-8"))

    def write_yaml(self, relative: str, data: Any) -> None:
        (self.path / relative).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def last_mlflow_run(self) -> dict[str, Any]:
        """The newest run of the project's experiment, read back with MlflowClient."""
        script = READ_RUN.replace("{package}", self.package)
        out = self.uv_run("python", "-c", script, capture=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def study_trials(self, study: str, storage: str) -> dict[str, int]:
        """The trials of an Optuna study, counted by state, read back with Optuna."""
        return dict(self.read_json_output("python", "-c", STUDY_TRIALS, study, storage))
