"""Slow tier: batch scoring at any size, locally (streamed) and on a real Dask cluster.

One project (default answers, with dvc_remote=s3 for the S3 client) is rendered,
installed and trained once; a real `dask scheduler` and two memory-limited
`dask worker` processes run from its own environment on 127.0.0.1
(harness.dask_cluster) for the whole module, with moto's S3 server as the object
store every worker reads. Every scoring run is compared with plain
single-process `predict` on the same rows, row for row. The last test kills a
worker mid-job; the fixtures then stop every process and check that none is left.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness import servers
from harness.dask_cluster import DaskCluster, running_cluster
from harness.project import Project
from harness.servers import HOST, free_port, group_members

pytestmark = pytest.mark.slow

TARGET = "diagnosis"
PARTS = 8
"""Parts of the small input: 6 Parquet and 2 CSV files."""
BUSY_PARTS = 16
"""Parts of the input scored while a worker is killed: enough to keep both busy."""


def features(project: Project, copies: int) -> pd.DataFrame:
    """The demo rows without the target, `copies` times over, numbered by row."""
    demo = pd.read_csv(project.path / "data" / "raw" / "demo.csv").drop(columns=TARGET)
    rows = pd.concat([demo] * copies, ignore_index=True)
    return rows.assign(row_id=range(len(rows)))


def write_parts(folder: Path, rows: pd.DataFrame, parts: int, csv_every: int = 0) -> None:
    """`rows` split in order into `parts` files named so that name order is row order."""
    folder.mkdir()
    size = -(-len(rows) // parts)
    for index in range(parts):
        part = rows.iloc[index * size : (index + 1) * size]
        if csv_every and index % csv_every == csv_every - 1:
            part.to_csv(folder / f"in-{index:03d}.csv", index=False)
        else:
            part.to_parquet(folder / f"in-{index:03d}.parquet", index=False)


def read_parts(folder: Path) -> pd.DataFrame:
    """The output parts of a folder, in name order, as one table."""
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(len(files))]
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def no_leftovers(output: Path) -> None:
    """Nothing half-written beside `output` (the temporary names start with a dot)."""
    assert [p.name for p in output.parent.glob(f".{output.name}*")] == []


BUCKET = "scoring"


@dataclass(frozen=True)
class Store:
    """moto's S3 server, and what a client of it needs in its environment."""

    env: dict[str, str]
    client: Any

    def keys(self, prefix: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    import boto3

    server = servers.start_s3(tmp_path_factory.mktemp("s3-logs"))
    try:
        env = {**servers.s3_env(server.url), "AWS_ENDPOINT_URL_S3": server.url}
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id=servers.S3_KEY_ID,
            aws_secret_access_key=servers.S3_SECRET,
            region_name=servers.S3_REGION,
        )
        client.create_bucket(Bucket=BUCKET)
        yield Store(env, client)
    finally:
        assert server.stop() == [], "moto left processes behind"


def run_with(
    project: Project, env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The project's command with `env` added to its environment (not checked)."""
    return subprocess.run(
        ["uv", "run", "--frozen", "--no-sync", project.package, *args],
        cwd=project.path,
        env={**project.env, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Project:
    project = Project.create(
        tmp_path_factory.mktemp("scaling") / "project",
        shared_venv,
        dvc_remote="s3",  # dvc[s3] brings s3fs, the client of s3:// URLs
        dvc_remote_url="s3://dvc-store/project",
    )
    project.repro()
    rows = features(project, 10)
    rows.to_csv(project.path / "all.csv", index=False)
    write_parts(project.path / "parts", rows, PARTS, csv_every=4)
    # The reference: plain single-process predict of the same rows in one file.
    project.uv_run(project.package, "predict", "--input", "all.csv", "--output", "plain.csv")
    return project


@pytest.fixture(scope="module")
def cluster(project: Project, store: Store) -> Iterator[DaskCluster]:
    logs = project.path.parent / "dask-logs"
    with running_cluster(project, logs, env=store.env) as started:
        yield started


def plain(project: Project) -> pd.DataFrame:
    return pd.read_csv(project.path / "plain.csv")


def test_streaming_a_file_scores_like_plain_predict(project: Project) -> None:
    for output in ("streamed.csv", "streamed.parquet"):
        result = project.uv_run(
            project.package,
            "predict",
            "--input",
            "all.csv",
            "--output",
            output,
            "--batch-rows",
            "700",
        )
        assert f"wrote {len(plain(project))} predictions to {output}" in result.stdout
        streamed = (
            pd.read_csv(project.path / output)
            if output.endswith(".csv")
            else pd.read_parquet(project.path / output)
        )
        pd.testing.assert_frame_equal(streamed, plain(project))
        no_leftovers(project.path / output)
    # CSV written batch by batch is the same text as CSV written at once.
    assert (project.path / "streamed.csv").read_bytes() == (project.path / "plain.csv").read_bytes()


def test_parts_score_alike_here_and_on_the_cluster(project: Project, cluster: DaskCluster) -> None:
    assert cluster.worker_names() == ["worker-0", "worker-1"]
    local = project.uv_run(project.package, "predict", "--input", "parts", "--output", "local")
    remote = project.uv_run(
        project.package,
        "predict",
        "--input",
        "parts",
        "--output",
        "remote",
        "--scheduler",
        cluster.address,
    )
    rows = len(plain(project))
    assert f"wrote {rows} predictions to local" in local.stdout
    assert f"wrote {rows} predictions to remote" in remote.stdout
    for output in ("local", "remote"):
        scored = read_parts(project.path / output)
        assert len(list((project.path / output).iterdir())) == PARTS
        pd.testing.assert_frame_equal(scored, plain(project))
        no_leftovers(project.path / output)
    # A glob of the same parts is the same input.
    project.uv_run(project.package, "predict", "--input", "parts/in-*", "--output", "globbed")
    pd.testing.assert_frame_equal(read_parts(project.path / "globbed"), plain(project))


def test_object_store_parts_score_alike_here_and_on_the_cluster(
    project: Project, cluster: DaskCluster, store: Store
) -> None:
    for part in sorted((project.path / "parts").iterdir()):
        store.client.upload_file(str(part), BUCKET, f"parts/{part.name}")
    store.client.upload_file(str(project.path / "all.csv"), BUCKET, "all.csv")
    rows = len(plain(project))
    outputs = {"local": (), "remote": ("--scheduler", cluster.address)}
    for name, option in outputs.items():
        url = f"s3://{BUCKET}/{name}"
        result = run_with(
            project,
            store.env,
            "predict",
            "--input",
            f"s3://{BUCKET}/parts/",
            "--output",
            url,
            *option,
        )
        assert result.returncode == 0, result.stderr
        assert f"wrote {rows} predictions to {url}" in result.stdout
        parts = [f"{name}/part-{i:05d}.parquet" for i in range(PARTS)]
        # Complete, with Spark's marker, and no temporary object left beside it.
        assert store.keys(f"{name}/") == sorted([*parts, f"{name}/_SUCCESS"])
        assert store.keys(f".{name}") == []
        scored = pd.concat(
            [pd.read_parquet(io.BytesIO(store.read(key))) for key in parts], ignore_index=True
        )
        pd.testing.assert_frame_equal(scored, plain(project))
    assert [k for k in store.keys("") if ".tmp" in k] == []
    # One file in the store, scored into a local file: the same bytes as plain predict.
    result = run_with(
        project,
        store.env,
        "predict",
        "--input",
        f"s3://{BUCKET}/all.csv",
        "--output",
        "from-s3.csv",
    )
    assert result.returncode == 0, result.stderr
    assert (project.path / "from-s3.csv").read_bytes() == (project.path / "plain.csv").read_bytes()
    # Bad input: one line naming the URL and the fix, nothing written.
    refused = {
        f"s3://{BUCKET}/nothing/": "no such file or folder in the store; put the data there or fix --input",
        f"s3://{BUCKET}/parts/*.json": "holds no .csv or .parquet file",
    }
    for url, words in refused.items():
        result = run_with(
            project, store.env, "predict", "--input", url, "--output", f"s3://{BUCKET}/out"
        )
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"error: {url}: ") and words in result.stderr, result.stderr
    inside = run_with(
        project,
        store.env,
        "predict",
        "--input",
        f"s3://{BUCKET}/parts",
        "--output",
        f"s3://{BUCKET}/parts/scored",
    )
    assert inside.returncode == 1, inside.stderr
    assert "--output is inside the input" in inside.stderr
    # A store that does not answer (the endpoint is wrong): one line, after the S3
    # client's own retries (botocore's AWS_MAX_ATTEMPTS: its default five took 19 s).
    nowhere = {
        **store.env,
        "AWS_ENDPOINT_URL_S3": f"http://{HOST}:{free_port()}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    unreachable = run_with(
        project, nowhere, "predict", "--input", f"s3://{BUCKET}/all.csv", "--output", "x.csv"
    )
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1, unreachable.stderr
    assert unreachable.stderr.startswith(f"error: s3://{BUCKET}/all.csv: cannot reach it (")
    assert "AWS_ENDPOINT_URL_S3" in unreachable.stderr
    assert store.keys("out") == [] and not (project.path / "x.csv").exists()


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(project: Project) -> None:
    # Dask's own connect timeout sets the wait (the default, 10 s, is tuning's below).
    address = f"tcp://{HOST}:{free_port()}"
    env = {"DASK_SCHEDULER_ADDRESS": address, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    started = time.monotonic()
    result = run_with(
        project, env, "predict", "--input", "parts", "--output", "nowhere", timeout=120
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"error: Dask scheduler {address} (from DASK_SCHEDULER_ADDRESS) not reachable within 2 s"
    ), result.stderr
    assert "or fix DASK_SCHEDULER_ADDRESS" in result.stderr
    assert elapsed < 30, f"gave up after {elapsed:.0f} s"
    assert not (project.path / "nowhere").exists()
    no_leftovers(project.path / "nowhere")
    # A timeout that is not a duration: one line naming it, before any connection.
    env["DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT"] = "soon"
    result = run_with(project, env, "predict", "--input", "parts", "--output", "nowhere")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        "error: DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT='soon' is not a positive duration; "
        "set it like `60s` or `2m`, or unset it to wait 10 s"
    ), result.stderr
    assert not (project.path / "nowhere").exists()


# The nested runs of the newest `tune` parent run, read back with MlflowClient.
READ_TRIALS = """
import json
from pathlib import Path
from mlflow.tracking import MlflowClient
from {package}.versioning.tracking import experiment_name, tracking_uri
client = MlflowClient(tracking_uri(Path.cwd()))
experiment = client.get_experiment_by_name(experiment_name())
ids = [experiment.experiment_id]
parent = client.search_runs(ids, "tags.`tune.study` != ''", order_by=["attributes.start_time DESC"])[0]
nested = client.search_runs(ids, f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
print(json.dumps({
    "parent": parent.info.run_id,
    "trials": [{"tags": r.data.tags, "params": r.data.params, "metrics": r.data.metrics,
                "status": r.info.status} for r in nested],
}))
"""

# The trials of the study in tuning/study.db, read back with Optuna.
READ_STUDY = """
import json, sys
import optuna
storage = "sqlite:///tuning/study.db"
name = sys.argv[1]
trials = optuna.load_study(study_name=name, storage=storage).get_trials()
print(json.dumps([{"state": t.state.name, "worker": t.user_attrs.get("worker")} for t in trials]))
"""


def test_tuning_runs_the_trials_on_the_workers(project: Project, cluster: DaskCluster) -> None:
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    params["evaluate"]["cv_folds"] = 2
    params["tune"]["n_trials"] = 4
    project.write_yaml("tune-params.yaml", params)
    result = project.uv_run(
        project.package, "--params", "tune-params.yaml", "tune", "--scheduler", cluster.address
    )
    best = project.read_json("models/best_params.json")
    assert f"best of 4 trials in study {best['study']}" in result.stdout
    assert best["family"] == "linear" and best["trials"] == 4
    assert set(best["params"]) == set(params["tune"]["space"]["linear"])
    assert 0 < best["value"] <= 1
    trials = project.read_json_output("python", "-c", READ_STUDY, best["study"])
    assert [t["state"] for t in trials] == ["COMPLETE"] * 4
    workers = {t["worker"] for t in trials}
    # Two workers, each its own process, neither of them the driver (`tune` exited).
    assert len(workers) == 2, trials
    assert all(w and int(w.rsplit(":", 1)[1]) in cluster_pids(cluster) for w in workers)
    logged = project.read_json_output(
        "python", "-c", READ_TRIALS.replace("{package}", project.package)
    )
    runs = logged["trials"]
    assert sorted(int(r["tags"]["trial.number"]) for r in runs) == [0, 1, 2, 3]
    assert {r["tags"]["trial.worker"] for r in runs} == workers
    assert all(r["status"] == "FINISHED" and r["metrics"] for r in runs)
    # The same study again: it already holds 4 trials, so nothing more runs.
    again = project.uv_run(
        project.package, "--params", "tune-params.yaml", "tune", "--scheduler", cluster.address
    )
    assert f"best of 4 trials in study {best['study']}" in again.stdout


def cluster_pids(cluster: DaskCluster) -> set[int]:
    """Every process of the workers' process groups (nanny and worker)."""
    return {pid for worker in cluster.workers for pid in group_members(worker.pid)}


def test_tuning_with_an_unreachable_scheduler_is_one_line(project: Project) -> None:
    # Two more trials than the study holds: there is work for the cluster.
    params = project.read_yaml("tune-params.yaml")
    params["tune"]["n_trials"] = 6
    project.write_yaml("tune-more.yaml", params)
    study = project.read_json("models/best_params.json")["study"]
    address = f"tcp://{HOST}:{free_port()}"
    started = time.monotonic()
    result = run_with(
        project, {}, "--params", "tune-more.yaml", "tune", "--scheduler", address, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"error: Dask scheduler {address} (from --scheduler) not reachable within 10 s"
    ), result.stderr
    assert time.monotonic() - started < 40
    # Nothing ran: the study still holds its 4 trials.
    trials = project.read_json_output("python", "-c", READ_STUDY, study)
    assert len(trials) == 4


# What a saved model is, and its test-set F1, read back as predict and evaluate load it.
READ_MODEL = """
import json, sys
import joblib, lightgbm, pandas as pd
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
model = joblib.load(sys.argv[1])
test = pd.read_parquet("data/prepared/test.parquet")
estimator = model[-1]
print(json.dumps({
    "pipeline": isinstance(model, Pipeline),
    "steps": [name for name, _ in model.steps],
    "estimator": type(estimator).__name__,
    "local_lightgbm": isinstance(getattr(estimator, "booster_", None), lightgbm.LGBMClassifier),
    "engine": getattr(estimator, "engine_", "local"),
    "rounds": int(estimator.n_iter_),
    "f1": f1_score(test["diagnosis"], model.predict(test.drop(columns="diagnosis")), average="macro"),
}))
"""
F1_TOLERANCE = 0.05
"""Cluster vs local LightGBM test F1 (114 test rows: about 3 rows). The cluster fits all
n_estimators rounds (no early stopping on lightgbm.dask), locally early stopping picks fewer."""


@pytest.fixture
def saved_model(project: Project) -> Iterator[None]:
    """Put back the module's model (other tests score with it) after a test trains."""
    names = ("model.joblib", "schema.json", "reference.json")
    kept = {name: (project.path / "models" / name).read_bytes() for name in names}
    yield
    for name, data in kept.items():
        (project.path / "models" / name).write_bytes(data)


def test_lightgbm_trains_on_the_cluster_into_the_local_format(
    project: Project, cluster: DaskCluster, saved_model: None
) -> None:
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "lightgbm"
    params["model"]["lightgbm"]["n_estimators"] = 100
    project.write_yaml("lgbm-params.yaml", params)
    models = project.path / "models"
    here = project.uv_run(project.package, "--params", "lgbm-params.yaml", "train")
    assert here.stdout.strip() == "saved the model to models/model.joblib"
    (models / "model.joblib").rename(project.path / "lgbm-local.joblib")
    env = {"DASK_SCHEDULER_ADDRESS": cluster.address}
    remote = run_with(project, env, "--params", "lgbm-params.yaml", "train")
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout.splitlines() == [
        f"trained on the Dask cluster at {cluster.address}",
        "saved the model to models/model.joblib",
    ]
    (models / "model.joblib").rename(project.path / "lgbm-cluster.joblib")
    local = project.read_json_output("python", "-c", READ_MODEL, "lgbm-local.joblib")
    remote_model = project.read_json_output("python", "-c", READ_MODEL, "lgbm-cluster.joblib")
    # The same Pipeline, estimator class and local LightGBM model, trained elsewhere.
    for model in (local, remote_model):
        assert model["pipeline"] and model["steps"] == ["features", "model"]
        assert model["estimator"] == "LightGBMClassifier" and model["local_lightgbm"]
    assert (local["engine"], remote_model["engine"]) == ("local", "dask")
    assert remote_model["rounds"] == 100  # every round: no early stopping there
    assert remote_model["f1"] > 0.85
    assert abs(remote_model["f1"] - local["f1"]) <= F1_TOLERANCE, (local, remote_model)
    # predict takes it as it takes a local model.
    scored = project.uv_run(
        project.package,
        "predict",
        "--input",
        "all.csv",
        "--output",
        "lgbm-scored.csv",
        "--model",
        "lgbm-cluster.joblib",
    )
    assert f"wrote {len(plain(project))} predictions" in scored.stdout
    predictions = pd.read_csv(project.path / "lgbm-scored.csv")
    assert len(predictions) == len(plain(project))
    assert set(predictions["prediction"]) == {"benign", "malignant"}


def test_lightgbm_trains_from_a_copy_in_the_object_store(
    project: Project, cluster: DaskCluster, store: Store, saved_model: None
) -> None:
    """Workers that see only the object store (compose, Kubernetes) train on a
    copy of the split that `train --staging` puts there once per content."""
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "lightgbm"
    params["model"]["lightgbm"]["n_estimators"] = 100
    project.write_yaml("lgbm-params.yaml", params)
    train_file = project.path / "data" / "prepared" / "train.parquet"
    digest = hashlib.md5(train_file.read_bytes(), usedforsecurity=False).hexdigest()
    staged = f"staging/train-{digest}.parquet"
    env = {**store.env, "DASK_SCHEDULER_ADDRESS": cluster.address}
    args = ("--params", "lgbm-params.yaml", "train", "--staging", f"s3://{BUCKET}/staging")
    first = run_with(project, env, *args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"trained on the Dask cluster at {cluster.address}",
        "saved the model to models/model.joblib",
    ]
    assert store.keys("staging/") == [staged]
    assert store.read(staged) == train_file.read_bytes()
    uploaded = store.client.head_object(Bucket=BUCKET, Key=staged)["LastModified"]
    model = project.read_json_output("python", "-c", READ_MODEL, "models/model.joblib")
    assert model["engine"] == "dask" and model["rounds"] == 100
    assert model["f1"] > 0.85, model
    # The same content again: trained from the copy already there, not uploaded again.
    again = run_with(project, {**env, "CLUSTER_STAGING_URL": f"s3://{BUCKET}/staging"}, *args[:3])
    assert again.returncode == 0, again.stderr
    assert store.keys("staging/") == [staged]
    assert store.client.head_object(Bucket=BUCKET, Key=staged)["LastModified"] == uploaded
    # A staging place that is not a URL is one line.
    local = run_with(project, env, *args[:3], "--staging", "shared/folder")
    assert local.returncode == 1 and local.stderr.count("\n") == 1, local.stderr
    assert local.stderr.startswith("error: shared/folder (from --staging): not an object-store URL")


def test_other_families_train_here_with_a_scheduler(
    project: Project, cluster: DaskCluster, saved_model: None
) -> None:
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "linear"
    project.write_yaml("linear-params.yaml", params)
    result = project.uv_run(
        project.package,
        "--params",
        "linear-params.yaml",
        "train",
        "--scheduler",
        cluster.address,
    )
    assert result.stdout.splitlines() == [
        f"model.type linear trained here, not on the Dask cluster at {cluster.address}: "
        "only lightgbm trains on a cluster",
        "saved the model to models/model.joblib",
    ]


TOO_BIG_ROWS = 2_000_000
"""Training rows for a worker of TOO_SMALL: about 500 MB as LightGBM holds them twice."""
TOO_SMALL = "700MiB"


def test_training_that_outgrows_the_workers_is_one_line(
    project: Project, saved_model: None
) -> None:
    train_file = project.path / "data" / "prepared" / "train.parquet"
    kept = train_file.read_bytes()
    demo = pd.read_csv(project.path / "data" / "raw" / "demo.csv")
    rows = demo.sample(TOO_BIG_ROWS, replace=True, random_state=0, ignore_index=True)
    params = project.read_yaml("params.yaml")
    params["model"]["type"] = "lightgbm"
    params["model"]["lightgbm"]["n_estimators"] = 20
    project.write_yaml("lgbm-params.yaml", params)
    model = project.path / "models" / "model.joblib"
    before = model.read_bytes()
    logs = project.path.parent / "dask-logs-small"
    # One worker too small for its share, retried once at most.
    retries = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    try:
        rows.to_parquet(train_file, index=False, row_group_size=100_000)
        with running_cluster(
            project, logs, workers=1, memory_limit=TOO_SMALL, env=retries
        ) as small:
            started = time.monotonic()
            result = run_with(
                project,
                {},
                *("--params", "lgbm-params.yaml", "train", "--scheduler", small.address),
                timeout=600,
            )
            elapsed = time.monotonic() - started
    finally:
        train_file.write_bytes(kept)
    assert result.returncode == 1, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr, result.stderr
    assert error.startswith("error: data/prepared/train.parquet: "), result.stderr
    assert "--memory-limit" in error and "add workers" in error, error
    assert "exceeded 95% memory budget" in (logs / "worker-0.log").read_text()
    assert model.read_bytes() == before  # nothing written
    assert elapsed < 300, elapsed


def test_a_killed_worker_does_not_lose_the_job(project: Project, cluster: DaskCluster) -> None:
    rows = features(project, 16)
    write_parts(project.path / "busy", rows, BUSY_PARTS)
    rows.to_csv(project.path / "busy.csv", index=False)
    project.uv_run(project.package, "predict", "--input", "busy.csv", "--output", "busy-plain.csv")
    output = project.path / "busy-scored"
    env = {**project.env, "DASK_SCHEDULER_ADDRESS": cluster.address}
    job = subprocess.Popen(
        ["uv", "run", "--frozen", "--no-sync", project.package, "predict"]
        + ["--input", "busy", "--output", output.name, "--batch-rows", "50"],
        cwd=project.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Mid-job: the first parts are written into the temporary folder.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and job.poll() is None:
            written = [p for p in project.path.glob(".busy-scored*/part-*") if p.is_file()]
            if len(written) >= 2:
                break
            time.sleep(0.05)
        assert job.poll() is None, "the job ended before a worker could be killed"
        assert len(written) < BUSY_PARTS
        cluster.kill_worker(0)
        stdout, stderr = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == 0, stderr
    assert f"wrote {len(rows)} predictions to busy-scored" in stdout
    assert cluster.worker_names() == ["worker-1"]
    expected = pd.read_csv(project.path / "busy-plain.csv")
    pd.testing.assert_frame_equal(read_parts(output), expected)
    no_leftovers(output)
