"""Fast tier: the scale-out answers (tracking server, DVC remote) as rendered files.

The live behaviour against real servers is in test_team_stack.py (slow tier).
"""

from __future__ import annotations

import configparser
import re
import string
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.template import QUESTIONS, render
from tests.test_render import assert_parses

BIN = Path(sys.executable).parent
DVC_EXTRAS = {
    "none": "",
    "local": "",
    "s3": "[s3]",
    "gcs": "[gs]",
    "azure": "[azure]",
    "ssh": "[ssh]",
}
REMOTES = {
    "local": "/srv/dvc-storage",
    "s3": "s3://my-bucket/dvc",
    "gcs": "gs://my-bucket/dvc",
    "azure": "azure://my-container/dvc",
    "ssh": "ssh://user@example.com/srv/dvc",
}


def read_dvc_config(root: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string((root / ".dvc/config").read_text())
    return parser


def test_remote_choices_match_the_tests() -> None:
    assert set(QUESTIONS["dvc_remote"]["choices"].values()) == set(DVC_EXTRAS)


@pytest.mark.parametrize("remote", sorted(DVC_EXTRAS))
def test_dvc_config_and_extra_per_remote(tmp_path: Path, remote: str) -> None:
    root = render(tmp_path / "p", dvc_remote=remote)
    config = read_dvc_config(root)
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"dvc{DVC_EXTRAS[remote]}>=3.60,<4" in dependencies
    assert config["core"]["autostage"] == "true"
    # `dvc plots show` uses the vendored, offline page (issue 21)
    assert dict(config["plots"]) == {"html_template": "plots/offline.html"}  # in .dvc/
    if remote == "none":
        assert config.sections() == ["core", "plots"]
        assert "remote" not in config["core"]
        return
    # The default URL of each kind, as the question's help promises.
    assert config.sections() == ["core", "'remote \"storage\"'", "plots"]
    assert config["core"]["remote"] == "storage"
    assert dict(config["'remote \"storage\"'"]) == {"url": REMOTES[remote]}
    # Only the URL: keys, passwords and endpoints belong in .dvc/config.local.
    assert (root / ".dvc/.gitignore").read_text().splitlines()[0] == "/config.local"
    assert not (root / ".dvc/config.local").exists()


def test_custom_remote_url_is_written_as_given(tmp_path: Path) -> None:
    root = render(tmp_path / "p", dvc_remote="s3", dvc_remote_url="s3://team.data-1/projects/churn")
    assert read_dvc_config(root)["'remote \"storage\"'"]["url"] == "s3://team.data-1/projects/churn"


def test_local_tracking_has_no_server(tmp_path: Path) -> None:
    root = render(tmp_path / "p")
    tracking = (root / "src/my_ml_project/versioning/tracking.py").read_text()
    assert "SERVER" not in tracking
    assert 'return os.environ.get("MLFLOW_TRACKING_URI") or local_store_uri(root)' in tracking
    assert not (root / "compose.yaml").exists()
    assert not (root / "mlflow-server").exists()


def test_server_tracking_defaults_to_the_server(tmp_path: Path) -> None:
    uri = "https://mlflow.example.com:8443/team"
    root = render(tmp_path / "p", mlflow_tracking="server", mlflow_tracking_uri=uri)
    tracking = (root / "src/my_ml_project/versioning/tracking.py").read_text()
    assert f'SERVER = "{uri}"\n' in tracking
    assert 'return os.environ.get("MLFLOW_TRACKING_URI") or SERVER' in tracking
    assert ".env" in (root / ".gitignore").read_text().splitlines()


def assert_dask_services(services: dict[str, Any]) -> None:
    """A scheduler (8786, dashboard 8787) and two workers from the project's image,
    with the MLflow and MinIO settings of the mlflow service."""
    scheduler, worker = services["dask-scheduler"], services["dask-worker"]
    assert scheduler["build"] == "."
    assert scheduler["image"] == worker["image"] == "my-ml-project"
    assert [port.split(":") for port in scheduler["ports"]] == [
        ["8786", "8786"],
        ["8787", "8787"],
    ]
    assert scheduler["entrypoint"] == worker["entrypoint"] == ["dask"]
    assert scheduler["command"][:3] == ["scheduler", "--port", "8786"]
    assert "8787/health" in scheduler["healthcheck"]["test"][-1]
    assert worker["command"][:2] == ["worker", "tcp://dask-scheduler:8786"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["depends_on"]["dask-scheduler"] == {"condition": "service_healthy"}
    mlflow = services["mlflow"]["environment"]
    for env in (scheduler["environment"], worker["environment"]):
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        for key in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[key] == mlflow[key], key


@pytest.mark.parametrize(("remote", "docker"), [("none", True), ("s3", True), ("none", False)])
def test_compose_file_is_valid_and_holds_no_secret(
    tmp_path: Path, remote: str, docker: bool
) -> None:
    root = render(tmp_path / "p", mlflow_tracking="server", dvc_remote=remote, docker=docker)
    compose = root / "compose.yaml"
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", compose],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    spec = yaml.safe_load(compose.read_text())
    services = spec["services"]
    dask = {"dask-scheduler", "dask-worker"} if docker else set()
    assert set(services) == {"postgres", "minio", "buckets", "mlflow"} | dask
    if docker:
        assert_dask_services(services)
    assert set(spec["volumes"]) == {"postgres-data", "minio-data"}
    for name in ("postgres", "minio", "mlflow"):
        assert "test" in services[name]["healthcheck"], name
    for name in ("postgres", "minio", "buckets"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image
    mlflow = services["mlflow"]
    assert mlflow["build"] == "mlflow-server"
    assert mlflow["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "buckets": {"condition": "service_completed_successfully"},
    }
    env = mlflow["environment"]
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith(
        "postgresql+psycopg2://mlflow:${POSTGRES_PASSWORD:?"
    )
    assert env["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://mlflow/artifacts"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    # Every secret comes from the environment (.env), never from the file.
    secrets = {
        "POSTGRES_PASSWORD": services["postgres"]["environment"]["POSTGRES_PASSWORD"],
        "MINIO_ROOT_PASSWORD": services["minio"]["environment"]["MINIO_ROOT_PASSWORD"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
    }
    if docker:
        secrets["dask AWS_SECRET_ACCESS_KEY"] = services["dask-worker"]["environment"][
            "AWS_SECRET_ACCESS_KEY"
        ]
    for name, value in secrets.items():
        assert value.startswith("${") and ":?" in value, name
    buckets = services["buckets"]["command"][0]
    assert buckets.endswith("store/mlflow store/my-bucket" if remote == "s3" else "store/mlflow")
    dockerfile = root / "mlflow-server/Dockerfile"
    lint = subprocess.run([BIN / "hadolint", dockerfile], capture_output=True, text=True)
    assert lint.returncode == 0 and lint.stdout == "", lint.stdout
    pins = dockerfile.read_text()
    for package in ("mlflow==", "psycopg2-binary==", "boto3=="):
        assert package in pins


# Every refusal message of these questions is asserted verbatim in test_validators.py.


@pytest.mark.parametrize(
    "answers",
    [
        {"mlflow_tracking": "server", "mlflow_tracking_uri": "databricks"},
        {"mlflow_tracking": "server", "mlflow_tracking_uri": "http://10.0.0.5:5000/mlflow"},
        {
            "mlflow_tracking": "server",
            "mlflow_tracking_uri": "arn:aws:sagemaker:eu-west-1:123456789012:"
            "mlflow-tracking-server/team",
        },
        {
            "mlflow_tracking": "server",
            "mlflow_tracking_uri": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/x",
        },
        {"dvc_remote": "local", "dvc_remote_url": "../shared/dvc"},
        {"dvc_remote": "ssh", "dvc_remote_url": "ssh://dvc@nas.local:2222/volume1/dvc"},
        {"dvc_remote": "azure", "dvc_remote_url": "azure://ml-data"},
    ],
    ids=["databricks", "http-path", "sagemaker", "azureml", "relative-folder", "ssh-port", "azure"],
)
def test_good_answers_render(tmp_path: Path, answers: dict[str, str]) -> None:
    root = render(tmp_path / "p", **answers)
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    for name, value in answers.items():
        assert recorded[name] == value


@pytest.mark.parametrize(
    "answers",
    [
        {"mlflow_tracking": "server", "dvc_remote": "s3", "task": "regression"},
        {"mlflow_tracking": "local", "dvc_remote": "ssh"},
    ],
    ids=["server-s3", "local-ssh"],
)
def test_file_set_and_syntax_with_scale_answers(tmp_path: Path, answers: dict[str, str]) -> None:
    from tests.test_render import expected_files, rendered_files

    root = render(tmp_path / "p", **answers)
    recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
    files = rendered_files(root)
    assert files == expected_files(recorded)
    assert_parses(root)
    # The files these answers change (CI workflows hold `${{ }}` on purpose).
    scale_files = {
        ".dvc/config",
        "compose.yaml",
        "mlflow-server/Dockerfile",
        "pyproject.toml",
        "src/my_ml_project/versioning/tracking.py",
    }
    leftovers = [
        name
        for name in files & scale_files
        if re.search(r"{{|}}|{%|%}", (root / name).read_text(encoding="utf-8"))
    ]
    assert leftovers == []


URL_TEXT = st.one_of(
    st.text(alphabet=string.printable + "é日\u2028", max_size=40),
    st.builds(
        "".join,
        st.lists(
            st.sampled_from(["s3://", "gs://", "azure://", "ssh://", "http://", "https://", "/"])
            | st.sampled_from(
                ["a", "b-c", "x.y", "u@", ":p@", ":80", "/", '"', "\\", "#", " ", "?q", ",", "%"]
            ),
            max_size=8,
        ),
    ),
)


@pytest.mark.slow  # dozens of renders
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    remote=st.sampled_from(sorted(set(DVC_EXTRAS) - {"none"})),
    url=URL_TEXT,
    uri=st.one_of(URL_TEXT, st.sampled_from(["databricks", "http://127.0.0.1:5000"])),
)
def test_any_scale_answers_fail_clearly_or_render_valid_files(
    remote: str, url: str, uri: str
) -> None:
    """Whatever is typed: a validator message, or files that parse and hold the answer."""
    answers = {
        "mlflow_tracking": "server",
        "mlflow_tracking_uri": uri,
        "dvc_remote": remote,
        "dvc_remote_url": url,
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            root = render(Path(tmp) / "p", **answers)
        except ValueError as error:
            message = str(error)
            assert message.startswith("Validation error for question '"), message
            assert message.split("'")[1] in answers
            assert len(message.split(":", 1)[1].strip()) > 20
            return
        assert_parses(root)
        assert read_dvc_config(root)["'remote \"storage\"'"]["url"] == url
        tracking = root / "src/my_ml_project/versioning/tracking.py"
        namespace: dict[str, object] = {}
        server_line = next(
            line for line in tracking.read_text().splitlines() if line.startswith("SERVER = ")
        )
        exec(server_line, namespace)
        assert namespace["SERVER"] == uri
        yaml.safe_load((root / "compose.yaml").read_text())
