"""The generated project's drift check: `poe drift`, Copier's own `copier check-update`.

Run in a project rendered from a tagged copy of the template (`repo`, released as
1.0.0), against that copy as the template source: up to date, behind after a newer
tag, and every way the source can be out of reach, which must warn and pass. The
task is run by poe, as CI and pre-commit run it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.servers import free_port
from harness.template import TEMPLATE
from harness.template_repo import TemplateRepo, conflicted_files, git, update

# Slow tier: every test renders from a template repository and runs the check.
pytestmark = [pytest.mark.usefixtures("isolated_copier"), pytest.mark.slow]

POE = ["uvx", "--quiet", "--from", "poethepoet>=0.30", "poe", "--quiet"]
UP_TO_DATE = "Project is up-to-date!\n"
NOT_CHECKED = "warning: template drift not checked: "
OLD_SCRIPT = "scripts/check_template_drift.py"


@pytest.fixture
def project(repo: TemplateRepo, tmp_path: Path) -> Path:
    return repo.render(tmp_path / "project", "1.0.0")


def drift(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`poe drift` in `project`, as CI runs it."""
    return subprocess.run(
        [*POE, "drift"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def copier_command(project: Path) -> list[str]:
    """The Copier the task runs (`uvx --from 'copier...' copier`), from pyproject.toml."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    shell = pyproject["tool"]["poe"]["tasks"]["drift"]["shell"]
    spec = shell.split("--from '", 1)[1].split("'", 1)[0]
    return ["uvx", "--quiet", "--from", spec, "copier"]


def set_source(project: Path, src_path: str) -> None:
    answers = project / ".copier-answers.yml"
    lines = answers.read_text().splitlines(keepends=True)
    answers.write_text(
        "".join(
            f"_src_path: {src_path}\n" if line.startswith("_src_path:") else line for line in lines
        )
    )


def test_up_to_date(project: Path) -> None:
    result = drift(project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == UP_TO_DATE
    assert NOT_CHECKED not in result.stderr


def test_behind_after_a_newer_release_tag(project: Path, repo: TemplateRepo) -> None:
    repo.write("template/NEW.md", "new in 1.1.0\n")
    repo.release("1.1.0")
    repo.release("1.2.0rc1")  # pre-releases are not offered

    result = drift(project)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "New template version available.\nCurrent version is 1.0.0, latest version is 1.1.0.\n"
    )
    # What the docs give a scheduled job that should turn red: exit 2 when behind.
    strict = subprocess.run(
        [*copier_command(project), "check-update", "--quiet"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert strict.returncode == 2, strict.stderr


def test_versions_compare_as_numbers_not_strings(tmp_path: Path, repo: TemplateRepo) -> None:
    repo.release("1.9.0")
    project = repo.render(tmp_path / "p19", "1.9.0")
    repo.release("1.10.0")
    assert "Current version is 1.9.0, latest version is 1.10.0." in drift(project).stdout


def test_render_from_a_commit_after_a_tag(tmp_path: Path, repo: TemplateRepo) -> None:
    repo.write("template/NOTES.md", "unreleased\n")
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-qm", "after 1.0.0, not released")
    project = repo.render(tmp_path / "p", "HEAD")
    assert "_commit: 1.0.0-1-g" in (project / ".copier-answers.yml").read_text()

    assert drift(project).stdout == UP_TO_DATE
    repo.release("1.0.1")
    assert "latest version is 1.0.1." in drift(project).stdout


def test_moved_template_folder_warns_and_passes(project: Path, repo: TemplateRepo) -> None:
    repo.path.rename(repo.path.with_name("moved"))
    result = drift(project)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == f"{NOT_CHECKED}Checking is only supported in git-tracked templates.\n"


def test_refused_connection_warns_and_passes(project: Path) -> None:
    port = free_port()
    set_source(project, f"http://127.0.0.1:{port}/copier-mlops.git")
    result = drift(project)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"{NOT_CHECKED}fatal: unable to access 'http://127.0.0.1:{port}/copier-mlops.git/': "
    ), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_unresponsive_source_gives_up_warns_and_passes(project: Path, silent_server: int) -> None:
    set_source(project, f"http://127.0.0.1:{silent_server}/copier-mlops.git")
    # The task waits 20 s for a byte by default; the same setting, shortened.
    result = drift(project, GIT_HTTP_LOW_SPEED_TIME="1")
    assert result.returncode == 0
    assert result.stderr.startswith(NOT_CHECKED), result.stderr
    assert "Operation too slow" in result.stderr


def test_missing_answers_file_warns_naming_it(project: Path) -> None:
    (project / ".copier-answers.yml").unlink()
    result = drift(project)
    assert result.returncode == 0
    assert result.stderr.startswith(NOT_CHECKED)
    assert ".copier-answers.yml" in result.stderr


def last_commit_with(path: str) -> str:
    """The newest commit of this repository whose template still has `path`."""
    last = git(TEMPLATE, "rev-list", "-1", "HEAD", "--", path).strip()
    assert last, f"{path} is in no commit of this repository"
    present = git(TEMPLATE, "ls-tree", "--name-only", last, "--", path).strip()
    return last if present else f"{last}^"


def test_update_removes_the_old_drift_script(tmp_path: Path) -> None:
    """Projects from releases with scripts/check_template_drift.py lose it cleanly."""
    repo = TemplateRepo.from_commit(
        tmp_path / "template", last_commit_with(f"template/{OLD_SCRIPT}")
    )
    repo.release("0.2.0")
    project = repo.render(tmp_path / "project", "0.2.0")
    assert (project / OLD_SCRIPT).is_file()
    repo.copy_from(TEMPLATE)
    repo.release("9.0.0")

    update(project, "9.0.0", trust=True)

    assert conflicted_files(project) == []
    assert not (project / "scripts").exists()
    assert OLD_SCRIPT not in (project / "pyproject.toml").read_text()
    assert OLD_SCRIPT not in (project / ".pre-commit-config.yaml").read_text()
    assert drift(project).stdout == UP_TO_DATE
