"""Slow tier, live: a team project against real servers on 127.0.0.1.

PostgreSQL (MLflow's backend store), moto's S3 server (MLflow's artifact store and
the DVC remote) and `mlflow server` run for this module only. A project rendered
with mlflow_tracking=server and dvc_remote=s3 runs its pipeline against them; the
tests read the results back through MLflow's REST API, the database and the
bucket. The tests share the project and run in file order (one scheduling group).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import servers
from harness.env import commit_all
from harness.project import Project, flat_metrics, flat_params

pytestmark = pytest.mark.slow

MODEL = "team-model"  # registered model and experiment: the project's slug
ARTIFACT_BUCKET = "mlflow-artifacts"
DVC_BUCKET = "team-data"
DVC_OUTPUTS = (
    "data/raw/demo.csv",
    "data/prepared/train.parquet",
    "data/prepared/test.parquet",
    "data/prepared/summary.json",
    "models/model.joblib",
    "models/schema.json",
    "models/reference.json",
)


@dataclass
class Stack:
    postgres: servers.Server
    database: str
    s3: servers.Server
    mlflow: servers.Server
    api: httpx.Client

    @property
    def servers(self) -> list[servers.Server]:
        return [self.mlflow, self.s3, self.postgres]

    def s3_client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3.url,
            aws_access_key_id=servers.S3_KEY_ID,
            aws_secret_access_key=servers.S3_SECRET,
            region_name=servers.S3_REGION,
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def get(self, endpoint: str, **params: Any) -> Any:
        response = self.api.get(f"/api/2.0/mlflow/{endpoint}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, endpoint: str, body: dict[str, Any]) -> Any:
        response = self.api.post(f"/api/2.0/mlflow/{endpoint}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def runs(self) -> list[dict[str, Any]]:
        """The experiment's runs, newest first."""
        experiment = self.get("experiments/get-by-name", experiment_name=MODEL)["experiment"]
        found = self.post(
            "runs/search",
            {
                "experiment_ids": [experiment["experiment_id"]],
                "order_by": ["attributes.start_time DESC"],
            },
        )
        return list(found.get("runs", []))

    def champion(self) -> dict[str, Any]:
        found = self.get("registered-models/alias", name=MODEL, alias="champion")
        return dict(found["model_version"])


def data_of(run: dict[str, Any]) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    data = run["data"]
    params = {p["key"]: p["value"] for p in data.get("params", [])}
    metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
    tags = {t["key"]: t["value"] for t in data.get("tags", [])}
    return params, metrics, tags


def require_postgres() -> None:
    if servers.postgres_bin() is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("PostgreSQL server binaries are missing: .ci/run installs `postgresql`")
    pytest.skip("PostgreSQL server binaries not found: `apt-get install postgresql` to run")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """PostgreSQL, S3 and MLflow on loopback; MLflow is still starting when it yields."""
    require_postgres()
    logs = tmp_path_factory.mktemp("server-logs")
    started: list[servers.Server] = []
    pg_home: Path | None = None
    try:
        postgres, database, pg_home = servers.start_postgres(logs)
        started.append(postgres)
        s3 = servers.start_s3(logs)
        started.append(s3)
        mlflow = servers.start_mlflow(logs, database, f"s3://{ARTIFACT_BUCKET}/runs", s3.url)
        started.append(mlflow)
        with httpx.Client(base_url=mlflow.url, timeout=30) as api:
            stack = Stack(postgres, database, s3, mlflow, api)
            client = stack.s3_client()
            for bucket in (ARTIFACT_BUCKET, DVC_BUCKET):
                client.create_bucket(Bucket=bucket)
            yield stack
    finally:
        leftovers = {server.name: server.stop() for server in reversed(started)}
        if pg_home is not None:
            shutil.rmtree(pg_home, ignore_errors=True)
        assert not any(leftovers.values()), f"processes left behind: {leftovers}"


@pytest.fixture(scope="module")
def project(stack: Stack, tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    path = tmp_path_factory.mktemp("team") / "team-project"
    project = Project.create(
        path,
        shared_venv,
        project_name="Team Model",
        mlflow_tracking="server",
        mlflow_tracking_uri=stack.mlflow.url,
        dvc_remote="s3",
        dvc_remote_url=f"s3://{DVC_BUCKET}/store",
    )
    # What docs/scaling-out.md tells a user to run: endpoint and keys go to the
    # git-ignored .dvc/config.local.
    for option, value in (
        ("endpointurl", stack.s3.url),
        ("access_key_id", servers.S3_KEY_ID),
        ("secret_access_key", servers.S3_SECRET),
    ):
        project.uv_run("dvc", "remote", "modify", "--local", "storage", option, value)
    stack.mlflow.wait_http("/health", timeout=240)
    project.uv_run("dvc", "repro")
    return project


def test_credentials_stay_out_of_committed_files(project: Project, stack: Stack) -> None:
    config = (project.path / ".dvc/config").read_text()
    assert f"url = s3://{DVC_BUCKET}/store" in config
    assert "remote = storage" in config
    local = (project.path / ".dvc/config.local").read_text()
    secrets = (servers.S3_KEY_ID, servers.S3_SECRET, stack.s3.url)
    assert all(secret in local for secret in secrets)
    assert project.git("check-ignore", ".dvc/config.local").strip() == ".dvc/config.local"
    project.git("add", "-A")  # what a user's `git add -A` would stage after the run
    staged = project.git("ls-files").split()
    assert ".dvc/config.local" not in staged
    for name in staged:
        text = (project.path / name).read_text(errors="replace")
        assert not [secret for secret in secrets if secret in text], name


def test_run_params_metrics_and_champion_on_the_server(project: Project, stack: Stack) -> None:
    runs = stack.runs()
    assert len(runs) == 1
    run = runs[0]
    params, metrics, tags = data_of(run)
    assert run["info"]["status"] == "FINISHED"
    # fitted.*: the values the model was fitted with (tuned or from params.yaml)
    assert {k: v for k, v in params.items() if not k.startswith("fitted.")} == flat_params(
        project.read_yaml("params.yaml")
    )
    assert metrics == flat_metrics(project.read_json("reports/metrics.json"))
    assert tags["git_commit"] == project.git("rev-parse", "HEAD").strip()
    assert tags["champion.decision"] == "promoted"
    assert tags["champion.reason"] == "first model on this data (no champion yet)"
    assert (tags["registry.model"], tags["registry.version"]) == (MODEL, "1")

    champion = stack.champion()
    assert (champion["name"], champion["version"]) == (MODEL, "1")
    assert champion["run_id"] == run["info"]["run_id"]
    assert champion["aliases"] == ["champion"]


def test_backend_and_artifacts_live_in_postgres_and_s3(project: Project, stack: Stack) -> None:
    import psycopg2

    run_id = stack.runs()[0]["info"]["run_id"]
    dsn = stack.database.replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT run_uuid FROM runs")
        assert cursor.fetchall() == [(run_id,)]
        cursor.execute("SELECT name, version FROM model_versions")
        assert cursor.fetchall() == [(MODEL, 1)]

    listed = stack.get("artifacts/list", run_id=run_id, path="reports")
    assert {f["path"] for f in listed["files"]} == {"reports/MODEL_CARD.md", "reports/metrics.json"}
    keys = stack.keys(ARTIFACT_BUCKET, "runs/")
    card = [k for k in keys if k.endswith(f"{run_id}/artifacts/reports/MODEL_CARD.md")]
    assert len(card) == 1
    body = stack.s3_client().get_object(Bucket=ARTIFACT_BUCKET, Key=card[0])["Body"].read()
    assert body == (project.path / "MODEL_CARD.md").read_bytes()
    assert any(k.endswith("/MLmodel") for k in keys)


def test_predict_loads_the_champion_from_the_server(project: Project) -> None:
    package = project.package
    source = f"models:/{MODEL}@champion"
    project.uv_run(
        package,
        "predict",
        "--input",
        "data/raw/demo.csv",
        "--output",
        "champ.csv",
        "--model",
        source,
    )
    project.uv_run(package, "predict", "--input", "data/raw/demo.csv", "--output", "local.csv")
    champion = (project.path / "champ.csv").read_text()
    assert champion == (project.path / "local.csv").read_text()
    assert champion.splitlines()[0].endswith("prediction,probability_benign,probability_malignant")
    assert len(champion.splitlines()) == 570


def test_worse_model_is_registered_but_the_champion_stays(project: Project, stack: Stack) -> None:
    best = project.read_json("reports/metrics.json")["f1_macro"]
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    params["model"]["linear"]["C"] = 1e-6
    project.write_yaml("params.yaml", params)
    commit_all(project.path, "a weaker model", env=project.env)  # else not registered
    out = project.uv_run("dvc", "repro").stdout
    assert "not promoted: f1_macro " in out

    worse = project.read_json("reports/metrics.json")["f1_macro"]
    assert worse < best
    runs = stack.runs()
    assert len(runs) == 2
    params_seen, metrics, tags = data_of(runs[0])
    assert params_seen["model.type"] == "linear"
    assert metrics["f1_macro"] == worse
    assert tags["registry.version"] == "2"
    assert tags["champion.decision"] == "kept"
    rows = project.read_json("data/prepared/summary.json")["test_rows"]
    assert tags["champion.reason"] == (
        f"f1_macro {worse:.6g} does not beat champion version 1's {best:.6g} on the {rows} "
        "test rows neither was trained on (higher is better)"
    )
    versions = stack.get("model-versions/search", filter=f"name='{MODEL}'")["model_versions"]
    assert sorted(v["version"] for v in versions) == ["1", "2"]
    champion = stack.champion()
    assert champion["version"] == "1"
    assert champion["run_id"] == runs[1]["info"]["run_id"]


def test_dvc_push_then_pull_restores_identical_files(project: Project, stack: Stack) -> None:
    before = {name: (project.path / name).read_bytes() for name in DVC_OUTPUTS}
    project.uv_run("dvc", "push")
    stored = stack.keys(DVC_BUCKET, "store/files/md5/")
    assert len(stored) >= len(DVC_OUTPUTS)

    shutil.rmtree(project.path / ".dvc/cache")
    for name in DVC_OUTPUTS:
        (project.path / name).unlink()
    project.uv_run("dvc", "pull")
    after = {name: (project.path / name).read_bytes() for name in DVC_OUTPUTS}
    assert after == before
    assert "up to date" in project.uv_run("dvc", "status").stdout


def test_unreachable_server_is_one_clear_error(project: Project) -> None:
    port = servers.free_port()
    result = project.run(
        "env",
        f"MLFLOW_TRACKING_URI=http://{servers.HOST}:{port}",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT=5",
        "uv",
        "run",
        "--frozen",
        "--no-sync",
        project.package,
        "evaluate",
        check=False,
    )
    assert result.returncode == 1
    # evaluate's progress lines (indented) come first; then one error line
    said = [line for line in result.stderr.splitlines() if not line.startswith("  ")]
    assert len(said) == 1, result.stderr
    assert said[0].startswith(f"error: MLflow tracking store http://{servers.HOST}:{port} failed: ")
    assert result.stderr.rstrip().endswith("and the MLFLOW_TRACKING_* credentials")
    assert "Traceback" not in result.stderr


def test_the_tuning_study_lives_in_the_team_postgres(project: Project, stack: Stack) -> None:
    """tune.storage as a PostgreSQL URL, after `uv add 'psycopg[binary]'` (docs/optimise.md)."""
    import psycopg2

    dsn = stack.database.replace("postgresql+psycopg2://", "postgresql://")
    connection = psycopg2.connect(dsn)
    try:  # a database of its own: Optuna and MLflow both keep an alembic_version table
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE optuna")
    finally:
        connection.close()
    url = dsn.rsplit("/", 1)[0] + "/optuna"
    kept = {name: (project.path / name).read_bytes() for name in ("pyproject.toml", "uv.lock")}
    best_file = project.path / "models" / "best_params.json"
    best_before = best_file.read_bytes()
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    params["evaluate"]["cv_folds"] = 2
    params["tune"].update(storage=url, n_trials=2)
    try:
        project.uv("add", "--quiet", "psycopg[binary]")
        project.write_yaml("pg-params.yaml", params)
        project.uv_run(project.package, "--params", "pg-params.yaml", "tune")
        best = project.read_json("models/best_params.json")
        trials = project.study_trials(best["study"], url)
        assert (best["trials"], trials) == (2, {"COMPLETE": 2})
        # A larger budget continues the same study in the same database.
        params["tune"]["n_trials"] = 3
        project.write_yaml("pg-params.yaml", params)
        project.uv_run(project.package, "--params", "pg-params.yaml", "tune")
        more = project.read_json("models/best_params.json")
        trials = project.study_trials(best["study"], url)
        assert (more["study"], more["trials"], trials) == (best["study"], 3, {"COMPLETE": 3})
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM trials")
            assert cursor.fetchone() == (3,)
    finally:
        for name, data in kept.items():
            (project.path / name).write_bytes(data)
        best_file.write_bytes(best_before)


def test_every_server_stops_and_leaves_no_process(stack: Stack) -> None:
    ports = [int(server.url.rsplit(":", 1)[1]) for server in (stack.s3, stack.mlflow)]
    for server in stack.servers:
        assert server.process.poll() is None, f"{server.name} died during the tests"
        assert server.stop() == [], f"{server.name} left processes behind"
        assert server.process.returncode is not None
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex((servers.HOST, port)) != 0, f"port {port} still open"
