"""migrations/keep_removed_edits.py when it cannot do its work: one line, no
traceback, exit 0, so that `copier update` goes on as Copier does it.

The updates it takes part in (edited files named and kept, nothing named when no
file goes, COPIER_MLOPS_KEEP_EDITS=no, answers given at the prompt) are in
tests/test_update.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.env import commit_all, git
from harness.template import TEMPLATE

SCRIPT = TEMPLATE / "migrations/keep_removed_edits.py"


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def project_from(tmp_path: Path, src: Path) -> Path:
    """A committed project whose answers name `src` as the template."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".copier-answers.yml").write_text(
        f"_commit: 1.0.0\n_src_path: {src}\nserving: true\n", encoding="utf-8"
    )
    (project / "Dockerfile").write_text("FROM python:3.11-slim\n# ours\n", encoding="utf-8")
    commit_all(project, "project")
    return project


def test_a_template_that_is_not_a_git_repository_gets_one_line_and_the_update_goes_on(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "plain-template"
    plain.mkdir()
    project = project_from(tmp_path, plain)

    result = run(project, "before", ".copier-answers.yml", "1.0.0", "1.1.0", '{"docker": "false"}')

    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    # Copier renders a folder without copier.yml as nothing: said, not read as
    # "nothing goes".
    assert lines[0] == (
        f"copier-mlops: edited files this update removes are not kept: {plain} at 1.0.0 "
        "rendered no project (is it the template?); "
        "git restore --source=HEAD -- PATH brings one back"
    )
    assert "Traceback" not in result.stderr
    # Nothing recorded for the `after` step, nothing written in the project.
    assert not (project / ".git" / "copier-mlops-removed.json").exists()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_after_a_failed_render_the_deleted_files_are_left_as_copier_left_them(
    tmp_path: Path,
) -> None:
    gone = tmp_path / "gone"
    project = project_from(tmp_path, gone)  # the template moved away
    (project / "Dockerfile").unlink()  # what Copier deleted

    result = run(project, "after", ".copier-answers.yml", "1.0.0")

    assert result.returncode == 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(
        f"copier-mlops: edited files this update removes are not kept: rendering {gone} at "
        "1.0.0 failed: "
    )
    assert not list(project.rglob("*.orig"))


def test_wrong_arguments_print_the_usage(tmp_path: Path) -> None:
    result = run(tmp_path, "during")
    assert result.returncode == 2
    assert "Usage (from `_migrations` in copier.yml" in result.stderr
