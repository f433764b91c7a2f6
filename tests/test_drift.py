"""The generated project's drift check: `python scripts/check_template_drift.py`.

Run in a project rendered from a tagged copy of the template, against that copy as
the template source: behind, up to date, and every way the source can be out of
reach (which must warn and pass).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.servers import free_port
from harness.template_repo import TemplateRepo, git

SCRIPT = "scripts/check_template_drift.py"


@pytest.fixture(autouse=True)
def isolated_copier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tmp_path / "copier-settings.yml"
    settings.write_text("defaults: {}\ntrust: []\n")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> TemplateRepo:
    template = TemplateRepo.create(tmp_path / "template")
    template.release("1.0.0")
    return template


@pytest.fixture
def project(repo: TemplateRepo, tmp_path: Path) -> Path:
    return repo.render(tmp_path / "project", "1.0.0")


def drift(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def set_source(project: Path, src_path: str) -> None:
    answers = project / ".copier-answers.yml"
    lines = answers.read_text().splitlines(keepends=True)
    answers.write_text(
        "".join(
            f"_src_path: {src_path}\n" if line.startswith("_src_path:") else line for line in lines
        )
    )


def test_up_to_date(project: Path, repo: TemplateRepo) -> None:
    result = drift(project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"template drift: up to date with {repo.path} 1.0.0 (project is on 1.0.0)\n"
    )
    assert result.stderr == ""


def test_behind_warns_and_passes_or_fails_with_strict(project: Path, repo: TemplateRepo) -> None:
    repo.write("template/NEW.md", "new in 1.1.0\n")
    repo.release("1.1.0")
    repo.release("1.2.0rc1")  # pre-releases are not offered, as with Copier

    result = drift(project)

    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"warning: template drift: this project was rendered from release 1.0.0 of "
        f"{repo.path}, whose latest release is 1.1.0. Update with `uvx copier update --defaults`"
    )
    strict = drift(project, "--strict")
    assert strict.returncode == 1
    assert "whose latest release is 1.1.0" in strict.stderr


def test_behind_on_github_actions_adds_an_annotation(project: Path, repo: TemplateRepo) -> None:
    repo.release("1.1.0")
    result = drift(project, GITHUB_ACTIONS="true")
    assert result.returncode == 0
    assert result.stdout.startswith("::warning title=Template drift::template drift: this project")


def test_versions_compare_as_numbers_not_strings(tmp_path: Path, repo: TemplateRepo) -> None:
    repo.release("1.9.0")
    project = repo.render(tmp_path / "p19", "1.9.0")
    repo.release("1.10.0")
    result = drift(project)
    assert "rendered from release 1.9.0" in result.stderr
    assert "latest release is 1.10.0" in result.stderr


def test_render_from_a_commit_after_a_tag(tmp_path: Path, repo: TemplateRepo) -> None:
    repo.write("template/NOTES.md", "unreleased\n")
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-qm", "after 1.0.0, not released")
    project = repo.render(tmp_path / "p", "HEAD")
    commit = git(project, "show", "HEAD:.copier-answers.yml")
    assert "_commit: 1.0.0-1-g" in commit

    assert drift(project).stdout.startswith("template drift: up to date with")
    repo.release("1.0.1")
    behind = drift(project)
    assert "rendered from release 1.0.0 of" in behind.stderr
    assert "latest release is 1.0.1" in behind.stderr


def test_moved_template_folder_warns_and_passes(project: Path, repo: TemplateRepo) -> None:
    repo.path.rename(repo.path.with_name("moved"))
    for args in ((), ("--strict",)):
        result = drift(project, *args)
        assert result.returncode == 0
        assert result.stderr == (
            f"warning: template drift not checked: template folder {repo.path} does not "
            "exist on this machine (project is on 1.0.0)\n"
        )


def test_refused_connection_warns_and_passes(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/copier-mlops.git"
    set_source(project, url)
    result = drift(project, "--strict")
    assert result.returncode == 0
    assert result.stderr.startswith(
        f"warning: template drift not checked: cannot read tags of {url}: "
    )


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


def test_unresponsive_source_times_out_warns_and_passes(project: Path, silent_server: int) -> None:
    url = f"http://127.0.0.1:{silent_server}/copier-mlops.git"
    set_source(project, url)
    result = drift(project, "--timeout", "1", "--strict")
    assert result.returncode == 0
    assert result.stderr == (
        f"warning: template drift not checked: no answer from {url} within 1 s "
        "(project is on 1.0.0)\n"
    )


def test_no_release_tags_yet(tmp_path: Path) -> None:
    repo = TemplateRepo.create(tmp_path / "untagged")
    project = repo.render(tmp_path / "p", "HEAD")
    result = drift(project)
    assert result.returncode == 0
    assert result.stdout.startswith(f"template drift: {repo.path} has no release tags yet")


def test_missing_answers_file_is_an_error_naming_the_fix(project: Path) -> None:
    (project / ".copier-answers.yml").unlink()
    result = drift(project)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read .copier-answers.yml (FileNotFoundError)")
    assert "git checkout -- .copier-answers.yml" in result.stderr
