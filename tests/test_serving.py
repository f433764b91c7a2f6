"""Slow tier: the real prediction server of a rendered project, on 127.0.0.1.

One project (default answers: classification, serving) is rendered, installed and
trained; `<package> serve` runs in its own process group for the whole module and
the tests talk to it over HTTP. The last test stops it and checks nothing is left.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from harness.project import Project
from harness.servers import HOST, Server, free_port, group_members

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
from {package}.serving import create_app
from {package}.versioning.tracking import tracking_uri
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
class Served:
    """The project and its running `serve` process."""

    project: Project
    server: Served

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30)

    def post(self, records: Any, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + "/predict", json={"records": records}, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def server(trained_project: Any) -> Iterator[Served]:
    project: Project = trained_project("serving")
    path = project.path
    port = free_port()
    server = Server.start(
        "serve",
        ["uv", "run", "--frozen", "--no-sync", project.package, "serve"]
        + ["--host", HOST, "--port", str(port)],
        path.parent / "server.log",
        env=project.env,
        cwd=path,
        url=f"http://{HOST}:{port}",
    )
    try:
        server.wait_http("/health", timeout=120)
        yield Served(project, server)
    finally:
        # uv and python are in the server's process group: nothing of it may be left.
        assert server.stop(timeout=30) == [], "the server left processes behind"


@pytest.fixture(scope="module")
def batch(server: Served, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
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


def test_health_and_metadata_name_the_model(server: Served) -> None:
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
    report = server.project.read_json("reports/metrics.json")
    # the test-set numbers; metrics.json's sections (baseline, cv, ci) stay in the file
    assert meta["metrics"] == {k: v for k, v in report.items() if not isinstance(v, dict)}
    assert meta["classes"] == ["benign", "malignant"]
    assert meta["max_records"] == 1000


def test_predictions_equal_batch_predict(server: Served, batch: pd.DataFrame) -> None:
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


def test_bad_requests_get_422_naming_the_field(server: Served, batch: pd.DataFrame) -> None:
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
def test_bodies_above_the_limit_get_413(server: Served, chunked: bool) -> None:
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


def test_schemathesis_finds_no_server_error(server: Served, tmp_path: Path) -> None:
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
    # All four operations (health, metadata, predict, explain) were tested, with many cases.
    assert re.search(r"Operations:\s+4 selected / 4 total", result.stdout), result.stdout
    cases = re.search(r"(\d+) passed\s+Seed", result.stdout)
    assert cases and int(cases.group(1)) >= 100, result.stdout
    assert "No issues found" in result.stdout


def test_concurrent_requests_all_succeed(server: Served, batch: pd.DataFrame) -> None:
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


def test_mlflow_model_uris_are_served(server: Served, batch: pd.DataFrame) -> None:
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


def test_server_stops_cleanly(server: Served) -> None:
    assert server.server.stop(timeout=30) == []
    code = server.server.process.returncode
    log = server.server.log.read_text()
    # uv gets the SIGTERM too (it is in the group): 143 is its "stopped by SIGTERM".
    assert code in (0, 128 + signal.SIGTERM), log
    assert group_members(server.server.pid) == []
    assert "Application startup complete" in log and "Finished server process" in log
