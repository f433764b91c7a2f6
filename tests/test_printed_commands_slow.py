"""Slow tier: every shell command we print works as printed.

The after-copy message, the generated README's command tables and quick start,
and the getting-started page: each shell command they show is extracted and run,
in order, in a project rendered with the default answers (the documented
placeholders filled: `<package_name>`, `new.csv`). A command that cannot run here
is listed in NOT_HERE with the reason and where it is tested instead, and the list
must match what the texts show, so a new or changed command cannot slip past.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from harness.env import GIT_IDENTITY
from harness.project import Project, private_site_cache_dir
from harness.template import TEMPLATE
from tests.test_docs import message_after_copy

pytestmark = pytest.mark.slow

PACKAGE = "my_ml_project"
NAME, EMAIL = GIT_IDENTITY
IDENTITY = {
    "GIT_AUTHOR_NAME": NAME,
    "GIT_AUTHOR_EMAIL": EMAIL,
    "GIT_COMMITTER_NAME": NAME,
    "GIT_COMMITTER_EMAIL": EMAIL,
}
PROGRAMS = ("uv ", "uvx ", "git ", "docker ", "cd ", "DASK_SCHEDULER_ADDRESS=")
# command -> why it does not run here (and where it is covered)
NOT_HERE = {
    "uvx copier copy <template> my-project": "renders a project: the test renders "
    "with the same Copier (copier.run_copy, harness/template.py)",
    "uvx copier copy --defaults <template> my-project": "as above",
    'uvx copier copy --defaults --data project_name="Churn Model" --data task=classification '
    "--data serving=false <template> churn-model": "as above, answers as in tests/test_render.py",
    "cd my-project": "the commands run in the project folder",
    "uv run poe ui": "a server that runs until Ctrl+C; tests/test_serving.py starts the "
    "MLflow UI the same way",
    f"uv run {PACKAGE} serve --host 127.0.0.1 --port 8000": "a server that runs until "
    "Ctrl+C; tests/test_serving.py serves and queries it",
    f"uv run {PACKAGE} serve --port 8000": "as above",
    "uv run jupyter lab": "a server that runs until Ctrl+C (and refuses root without "
    "--allow-root); the project's tests execute the notebook with nbclient and "
    "tests/test_deep_learning.py runs `jupyter lab --version`",
    "docker build -t my-ml-project .": "needs a Docker engine; tests/test_container.py "
    "builds the image with buildah",
    "docker run --rm -p 8000:8000 my-ml-project": "needs a Docker engine; "
    "tests/test_container.py runs the image",
    "uvx copier update --defaults --trust": "needs a clean tree and a tagged template; "
    "tests/test_update.py updates projects from tagged template repositories",
    "DASK_SCHEDULER_ADDRESS=tcp://host:8786 uv run dvc exp run -S tune.n_trials=50": "needs "
    "a Dask scheduler; tests/test_scaling.py tunes on a local cluster",
    f"uv run {PACKAGE} train --scheduler tcp://host:8786": "needs a Dask scheduler; "
    "tests/test_scaling.py trains on a local cluster",
    # Run elsewhere on this same default render, not twice (each takes minutes):
    "uv run pytest": "the project's own suite, minutes long: tests/test_ci_slow_github.py "
    "runs it as CI's `tests` job does (`poe test`: pytest) on a default render, "
    "test_story_slow.py on a user's own data",
    "uv run mypy": "strict mypy on a default render: CI's `types` job (`poe types`: mypy) "
    "in tests/test_ci_slow_github.py",
}
# command -> the same command, cheaper (the reason in the comment)
CHEAPER = {
    # 50 trials take many minutes here; 2 run the same code
    "uv run dvc exp run -S tune.n_trials=50": "uv run dvc exp run -S tune.n_trials=2",
}


def shell_lines(block: str) -> list[str]:
    """The commands of a shell block: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", "", block)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line.startswith(PROGRAMS):
            commands.append(re.sub(r"\s+", " ", line))
    return commands


def markdown_commands(text: str) -> list[str]:
    """The commands of ```bash blocks and of the last column of tables."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        commands += shell_lines(block)
    for row in re.findall(r"^\|.*\|\s*$", text, re.M):
        last = row.strip().strip("|").split("|")[-1]
        commands += [c for c in re.findall(r"`([^`]+)`", last) if c.startswith(PROGRAMS)]
    return commands


def fill(command: str) -> str:
    return command.replace("<package_name>", PACKAGE).replace("<package>", PACKAGE)


def run(project: Project, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", command],
        cwd=project.path,
        env=project.env | IDENTITY,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def test_every_printed_command_runs_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_venv: Path
) -> None:
    path = tmp_path / "my-project"
    message = message_after_copy(path, capsys)
    texts = {
        "the after-copy message": shell_lines(message),
        "README.md": markdown_commands((path / "README.md").read_text()),
        "docs/getting-started.md": markdown_commands(
            (TEMPLATE / "docs" / "getting-started.md").read_text()
        ),
    }
    project = Project(path=path, venv=shared_venv, answers={"package_name": PACKAGE})
    shown = [fill(c) for commands in texts.values() for c in commands]
    assert set(NOT_HERE) <= set(shown), set(NOT_HERE) - set(shown)
    assert len(shown) > 25

    private_site_cache_dir(path)
    # The printed `uv sync` then installs from this lock: the versions an online
    # lock picks, resolved from uv's cache (an online resolve waited 10.8 s).
    project.lock()
    done: set[str] = set()
    for source, commands in texts.items():
        for command in map(fill, commands):
            if command in NOT_HERE or command in done:
                continue
            done.add(command)
            if command.startswith(f"cd {path}") or command.startswith("cd '"):
                continue  # the message's `cd` into the new project: we are there
            if "new.csv" in command and not (path / "new.csv").exists():
                # rows like the training data: `monitor` finds no drift in them
                rows = pd.read_csv(path / "data/raw/demo.csv").sample(200, random_state=0)
                rows.drop(columns="diagnosis").to_csv(path / "new.csv", index=False)
            result = run(project, CHEAPER.get(command, command))
            nothing_to_commit = "git commit" in command and "nothing to commit" in result.stdout
            assert result.returncode == 0 or nothing_to_commit, (
                f"{source}: `{command}` exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
    assert (path / "predictions/scored.csv").is_file()
