"""Slow tier: the real prediction server of a rendered project, on 127.0.0.1.

One project (default answers: classification, serving) is rendered, installed and
trained; `<package> serve` runs in its own process group for the whole module and
the tests talk to it over HTTP. The last test stops it and checks nothing is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from tests.project import Project
from tests.servers import free_port, stop_group

pytestmark = pytest.mark.slow

TARGET = "diagnosis"
# Serves the evaluate stage's MLflow model through `--model` URIs, in the project's
# environment (TestClient: the real server is covered by the other tests).
SERVE_MLFLOW_MODEL = """
import json, sys
from pathlib import Path
import mlflow
from mlflow.tracking import MlflowClient
from fastapi.testclient import TestClient
from {package}.serve import create_app
from {package}.tracking import tracking_uri
mlflow.set_tracking_uri(tracking_uri(Path.cwd()))
run_id, rows = sys.argv[1], json.loads(sys.argv[2])
version = mlflow.register_model(f"runs:/{run_id}/model", "demo")
MlflowClient().set_registered_model_alias("demo", "champion", version.version)
out = {}
for uri in (f"runs:/{run_id}/model", "models:/demo@champion"):
    client = TestClient(create_app(uri))
    out[uri] = {
        "health": client.get("/health").json(),
        "meta": client.get("/metadata").json(),
        "predict": client.post("/predict", json={"records": rows}).json(),
    }
print(json.dumps(out))
"""
SCHEMATHESIS = Path(sys.executable).parent / "st"


@dataclass
class Server:
    project: Project
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30)

    def post(self, records: Any, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + "/predict", json={"records": records}, timeout=60, **kwargs)


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop the server's process group (uv and python); return its exit code."""
    assert stop_group(process, timeout=30) == []
    return int(process.returncode)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("serving") / "project"
    project = Project.create(path, shared_venv)
    project.uv_run("dvc", "repro")
    port = free_port()
    log = path.parent / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["uv", "run", "--frozen", "--no-sync", project.package, "serve"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=path,
            env=project.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(project, f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if running.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no /health after 120 s\n{log.read_text()}"
            time.sleep(0.5)
        yield running
    finally:
        stop(process)
        assert not group_alive(process.pid), "the server left processes behind"


@pytest.fixture(scope="module")
def batch(server: Server, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The held-out rows scored by the batch `predict` command."""
    folder = tmp_path_factory.mktemp("batch")
    rows = pd.read_parquet(server.project.path / "data/prepared/test.parquet")
    rows.drop(columns=TARGET).to_csv(folder / "rows.csv", index=False)
    server.project.uv_run(
        server.project.package,
        "predict",
        "--input",
        folder / "rows.csv",
        "--output",
        folder / "scored.csv",
    )
    return pd.read_csv(folder / "scored.csv")


def features(batch: pd.DataFrame) -> pd.DataFrame:
    return batch[[c for c in batch.columns if c != "prediction" and "probability_" not in c]]


def probabilities(batch: pd.DataFrame) -> list[dict[str, float]]:
    columns = [c for c in batch.columns if c.startswith("probability_")]
    return [
        {c.removeprefix("probability_"): row[c] for c in columns}
        for row in batch.to_dict(orient="records")
    ]


def test_health_and_metadata_name_the_model(server: Server) -> None:
    lock = yaml.safe_load((server.project.path / "dvc.lock").read_text())
    train_outs = {o["path"]: o["md5"] for o in lock["stages"]["train"]["outs"]}
    version = train_outs["models/model.joblib"]
    assert server.get("/health").json() == {
        "status": "ok",
        "model_loaded": True,
        "model_version": version,
    }
    meta = server.get("/metadata").json()
    assert meta["model_version"] == version
    assert meta["version"] == "0.1.0"
    assert meta["features"] == server.project.read_json("models/schema.json")["features"]
    assert meta["metrics"] == server.project.read_json("reports/metrics.json")
    assert meta["classes"] == ["benign", "malignant"]
    assert meta["max_records"] == 1000


def test_predictions_equal_batch_predict(server: Server, batch: pd.DataFrame) -> None:
    records = features(batch).to_dict(orient="records")
    predictions: list[Any] = []
    scored: list[dict[str, float]] = []
    for start in range(0, len(records), 40):
        response = server.post(records[start : start + 40])
        assert response.status_code == 200, response.text
        body = response.json()
        predictions += body["predictions"]
        scored += body["probabilities"]
    assert predictions == batch["prediction"].tolist()
    for got, want in zip(scored, probabilities(batch), strict=True):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_bad_requests_get_422_naming_the_field(server: Server, batch: pd.DataFrame) -> None:
    record = features(batch).iloc[0].to_dict()
    first = next(iter(record))

    def fields(response: httpx.Response) -> list[list[Any]]:
        assert response.status_code == 422, response.text
        return [error["loc"] for error in response.json()["detail"]]

    missing = {k: v for k, v in record.items() if k != first}
    assert fields(server.post([record, missing])) == [["body", "records", 1, first]]
    assert fields(server.post([{**record, first: "big"}])) == [["body", "records", 0, first]]
    assert fields(server.post([])) == [["body", "records"]]
    assert fields(server.post([record] * 1001)) == [["body", "records"]]
    assert fields(httpx.post(server.url + "/predict", json={"rows": [record]})) == [
        ["body", "records"]
    ]
    not_json = httpx.post(
        server.url + "/predict", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_above_the_limit_get_413(server: Server, chunked: bool) -> None:
    """The default limit is 4 MiB; a 10 MB body is refused before it is parsed."""
    body = b'{"records": [' + b'{"x": 1},' * 1_000_000 + b'{"x": 1}]}'
    content: Any = (body[i : i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    headers = {"content-type": "application/json"}
    try:
        response = httpx.post(server.url + "/predict", content=content, headers=headers, timeout=60)
    except httpx.WriteError:  # the server may close before the client finished sending
        pytest.fail("the server closed the connection without answering 413")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("request body larger than 4194304 bytes")
    assert server.get("/health").status_code == 200


def test_schemathesis_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{server.url}/openapi.json"]
        + ["--checks", "not_a_server_error,status_code_conformance"]
        + ["--checks", "response_schema_conformance,content_type_conformance"]
        + ["--max-examples", "40", "--seed", "1", "--no-color"]
        + ["--phases", "examples,coverage,fuzzing"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # All three operations (health, metadata, predict) were tested, with many cases.
    assert re.search(r"Operations:\s+3 selected / 3 total", result.stdout), result.stdout
    cases = re.search(r"(\d+) passed\s+Seed", result.stdout)
    assert cases and int(cases.group(1)) >= 100, result.stdout
    assert "No issues found" in result.stdout


def test_concurrent_requests_all_succeed(server: Server, batch: pd.DataFrame) -> None:
    records = features(batch).to_dict(orient="records")
    expected = batch["prediction"].tolist()
    jobs = [i % len(records) for i in range(300)]

    async def send_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            return await asyncio.gather(
                *(client.post("/predict", json={"records": [records[i]]}) for i in jobs)
            )

    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [200] * len(jobs)
    # Each request gets its own row's prediction, however requests were batched.
    assert [r.json()["predictions"] for r in responses] == [[expected[i]] for i in jobs]


def test_mlflow_model_uris_are_served(server: Server, batch: pd.DataFrame) -> None:
    project = server.project
    run = project.last_mlflow_run()
    rows = features(batch).head(5)
    script = SERVE_MLFLOW_MODEL.replace("{package}", project.package)
    out = project.uv_run("python", "-c", script, run["run_id"], rows.to_json(orient="records"))
    served = json.loads(out.stdout.strip().splitlines()[-1])
    schema = project.read_json("models/schema.json")
    for uri, version in (
        (f"runs:/{run['run_id']}/model", None),
        ("models:/demo@champion", "demo/1"),
    ):
        answer = served[uri]
        assert answer["health"]["model_version"] == (version or uri)
        assert answer["meta"]["features"] == schema["features"]
        assert answer["meta"]["metrics"] == run["metrics"]
        assert answer["predict"]["predictions"] == batch["prediction"].head(5).tolist()


def test_server_stops_cleanly(server: Server) -> None:
    code = stop(server.process)
    # uv gets the SIGTERM too (it is in the group): 143 is its "stopped by SIGTERM".
    assert code in (0, 128 + signal.SIGTERM), server.log.read_text()
    assert not group_alive(server.process.pid)
    log = server.log.read_text()
    assert "Application startup complete" in log and "Finished server process" in log
