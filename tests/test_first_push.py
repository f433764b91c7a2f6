"""The first push runs CI, and the MLflow UI the next steps name starts and stops cleanly.

The printed next steps and the generated README create the repository with
`git init -b main`; on a git whose default branch is still `master` that must
still give a branch the workflows run on. The commands are taken from the
message and the README and run as written.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import copier
import httpx
import pytest
import yaml

from harness.project import Project
from harness.servers import HOST, Server, free_port, group_members
from harness.template import QUESTIONS, TEMPLATE, render


def printed_message(dst: Path, capsys: pytest.CaptureFixture[str], **data: Any) -> str:
    assert not set(data) - set(QUESTIONS)
    capsys.readouterr()
    copier.run_copy(
        str(TEMPLATE), dst, data=data, defaults=True, vcs_ref="HEAD", quiet=False, unsafe=False
    )
    return capsys.readouterr().err


def git_init_line(text: str) -> str:
    """The `git init ... && git commit ...` command of a message or README."""
    (line,) = [line.strip() for line in text.splitlines() if line.strip().startswith("git init")]
    return line.split("#")[0].strip()


def branch_after(command: str, project: Path, tmp_path: Path) -> str:
    """Run `command` in `project` with a git that still defaults to `master`."""
    config = tmp_path / "old-git.gitconfig"
    config.write_text(
        "[user]\n\tname = A User\n\temail = user@example.com\n[init]\n\tdefaultBranch = master\n"
    )
    env = os.environ | {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["bash", "-ec", command], cwd=project, env=env, check=True, capture_output=True)
    return subprocess.run(
        ["git", "branch", "--show-current"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def github_push_branches(project: Path) -> dict[str, list[str]]:
    """The branches each workflow runs on when pushed to (scheduled ones are left out)."""
    found = {}
    for workflow in sorted((project / ".github" / "workflows").glob("*.yml")):
        data = yaml.safe_load(workflow.read_text())
        triggers = data.get("on", data.get(True))  # YAML 1.1 reads `on` as True
        if "push" in triggers:
            found[workflow.name] = triggers["push"]["branches"]
    return found


def gitlab_rule_matches(condition: str, variables: dict[str, str]) -> bool:
    """GitLab's `if:` for the forms the template uses: $A, $A && $B, $A == $B / "x"."""

    def value(term: str) -> str | None:
        term = term.strip()
        if term.startswith("$"):
            return variables.get(term[1:]) or None
        return term.strip('"')

    def clause(text: str) -> bool:
        if "==" in text:
            left, right = text.split("==")
            return value(left) == value(right)
        return value(text) is not None

    return all(clause(part) for part in condition.split("&&"))


def gitlab_push_pipeline_runs(project: Path, branch: str) -> bool:
    """Whether the workflow rules create a pipeline for a push to `branch`."""
    config = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_BRANCH": branch,
        "CI_DEFAULT_BRANCH": branch,
    }
    for rule in config["workflow"]["rules"]:
        if gitlab_rule_matches(rule["if"], variables):
            return rule.get("when") != "never"
    return False


@pytest.mark.slow  # renders, commits and runs the CI rules
@pytest.mark.parametrize("ci_provider", ["github", "gitlab"])
def test_the_first_push_runs_ci(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ci_provider: str
) -> None:
    message = printed_message(tmp_path / "printed", capsys, ci_provider=ci_provider)
    readme_project = render(tmp_path / "readme", ci_provider=ci_provider)
    readme = (readme_project / "README.md").read_text()
    for source, text in (("message", message), ("README", readme)):
        command = git_init_line(text)
        assert "git init -b main" in command, (source, command)
        project = tmp_path / f"run-{source}"
        render(project, ci_provider=ci_provider)
        branch = branch_after(command, project, tmp_path)
        assert branch == "main", (source, branch)
        if ci_provider == "github":
            branches = github_push_branches(project)
            assert set(branches) == {"ci.yml", "docker.yml"}
            for workflow, listed in branches.items():
                assert branch in listed, (source, workflow, listed)
        else:
            assert gitlab_push_pipeline_runs(project, branch)


def test_gitlab_rules_reading() -> None:
    """The small rule reader above agrees with GitLab on the template's forms."""
    variables = {"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
    assert gitlab_rule_matches("$CI_COMMIT_BRANCH", variables)
    assert not gitlab_rule_matches("$CI_COMMIT_TAG", variables)
    assert not gitlab_rule_matches("$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", variables)
    assert gitlab_rule_matches("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", variables)
    assert not gitlab_rule_matches('$CI_PIPELINE_SOURCE == "merge_request_event"', variables)


def test_readme_and_message_name_poe_ui(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = printed_message(tmp_path / "printed", capsys)
    assert "uv run poe ui" in message and "mlflow ui --backend" not in message
    project = render(tmp_path / "local")
    assert "`uv run poe ui`" in (project / "README.md").read_text()
    server = render(tmp_path / "server", mlflow_tracking="server")
    assert "[tool.poe.tasks.ui]" not in (server / "pyproject.toml").read_text()
    assert "poe ui" not in (server / "README.md").read_text()


@pytest.mark.slow
def test_poe_ui_starts_serves_and_stops_without_leftovers(trained_project: Any) -> None:
    # the default render after its first `dvc repro` (the session's shared copy)
    project: Project = trained_project("poe-ui")
    port = free_port()
    log = project.path.parent / "ui.log"
    server = Server.start(
        "poe ui",
        ["uv", "run", "--frozen", "--no-sync", "poe", "ui", "--port", str(port)],
        log,
        env=project.env,
        cwd=project.path,
        url=f"http://{HOST}:{port}",
    )
    try:
        server.wait_http("/", timeout=120)
        page = httpx.get(server.url + "/", timeout=10)
        assert "MLflow" in page.text
        experiments = httpx.post(
            server.url + "/api/2.0/mlflow/experiments/search", json={"max_results": 10}, timeout=10
        ).json()
        names = [e["name"] for e in experiments["experiments"]]
        assert len(names) >= 2, names  # Default and the project's experiment
        # Ctrl+C in a terminal: SIGINT to the whole foreground process group.
        os.killpg(server.pid, signal.SIGINT)
        for _ in range(300):
            if not group_members(server.pid):
                break
            time.sleep(0.1)
        left = group_members(server.pid)
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in left]
        assert left == [], f"left running after Ctrl+C: {commands}"
        assert not re.search(r"huey", log.read_text()), log.read_text()
    finally:
        assert server.stop() == []
