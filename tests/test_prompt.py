"""The interactive `copier copy`, driven through a real terminal (tmux, 80x30).

`--data` and `--defaults` skip the prompt, where choices are menus and a refused
answer is shown on one toolbar line: what a user sees there is only testable on a
terminal. Each test starts its own tmux server (own socket) running the copier of
this environment, types keys, and reads the screen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.template import QUESTIONS, TEMPLATE
from tests.questions import Questions

TMUX = shutil.which("tmux")
COPIER = str(Path(sys.executable).parent / "copier")
WIDTH, HEIGHT = 80, 30
EXIT = "copier exited with "

pytestmark = pytest.mark.skipif(TMUX is None, reason="needs tmux")


class Terminal:
    """One tmux session: send keys, wait for text on the screen."""

    def __init__(self, socket: str, command: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.tmux = [str(TMUX), "-L", socket, "-f", os.devnull]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), command],
            env=env,
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """The screen once it shows `text`; fails with the screen if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")
            time.sleep(0.2)

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "0", *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[object]:
    """Start `copier copy` of the working tree into tmp_path/p on a terminal."""
    started: list[Terminal] = []
    settings = tmp_path / "copier-settings.yml"
    settings.write_text("defaults: {}\ntrust: []\n")
    env = {**os.environ, "COPIER_SETTINGS_PATH": str(settings), "TERM": "xterm-256color"}
    command = (
        f"{COPIER} copy --vcs-ref HEAD {TEMPLATE} {tmp_path / 'p'}; echo '{EXIT}'$?; sleep 600"
    )

    def start() -> Terminal:
        term = Terminal(f"copier-prompt-{os.getpid()}-{tmp_path.name}", command, env)
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()


def help_of(question: str) -> str:
    return str(QUESTIONS[question]["help"])


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_help_fits_on_one_line(question: str) -> None:
    """The prompt shows "🎤 <help>" (the emoji is 2 columns wide) and cuts at the width."""
    assert len(help_of(question)) + 3 <= WIDTH


def answer_defaults_until(term: Terminal, question: str, after: str | None = None) -> None:
    """Press Enter on every question Copier asks (at its default) before `question`,
    starting after the question `after` (the first one when None)."""
    names = [name for name in QUESTIONS if Questions().asked(name)]
    start = names.index(after) + 1 if after else 0
    for name in names[start:]:
        term.wait_for(help_of(name))
        if name == question:
            return
        term.send("Enter")  # the next help must appear before the next key goes out
    raise AssertionError(f"{question} is never asked")


@pytest.mark.slow  # drives copier's prompt in tmux
def test_dependabot_is_greyed_out_on_gitlab_and_cannot_be_picked(
    terminal: object, tmp_path: Path
) -> None:
    term = terminal()  # type: ignore[operator]
    answer_defaults_until(term, "ci_provider")
    term.send("Down")
    term.wait_for("» GitLab CI")
    term.send("Enter")
    answer_defaults_until(term, "dependency_bot", after="ci_provider")
    screen = term.wait_for(help_of("dependency_bot"))
    reason = Questions().choice_problem("dependency_bot", "dependabot", ci_provider="gitlab")
    # The choice is listed, marked unavailable, with the whole reason on one line.
    assert f"   - Dependabot (GitHub only) ({reason})" in screen.splitlines()
    assert "» Renovate" in screen
    term.send("Down")  # the pointer skips the unavailable choice
    term.wait_for("» None")
    term.send("Up")
    term.wait_for("» Renovate")
    term.send("Down")
    term.wait_for("» None")
    term.send("Enter")
    term.wait_for(EXIT + "0", timeout=120)
    answers = yaml.safe_load((tmp_path / "p/.copier-answers.yml").read_text())
    assert answers["ci_provider"] == "gitlab"
    assert answers["dependency_bot"] == "none"
    assert not (tmp_path / "p/.github").exists()


@pytest.mark.slow  # drives copier's prompt in tmux
def test_refused_package_name_stays_on_the_question_until_fixed(
    terminal: object, tmp_path: Path
) -> None:
    term = terminal()  # type: ignore[operator]
    answer_defaults_until(term, "package_name")
    term.send("C-u", "test", "Enter")
    screen = term.wait_for("Validation error for question 'package_name'")
    message = Questions().problem("package_name", "test")
    shown = f"Validation error for question 'package_name': {message}"
    # Copier shows the refusal on one toolbar line of the terminal's width.
    assert shown[:WIDTH] in screen.splitlines()
    assert help_of("description") not in screen  # not accepted: still asking
    term.send("C-u", "test_model", "Enter")
    answer_defaults_until(term, "dependency_bot", after="package_name")
    term.send("Enter")
    term.wait_for(EXIT + "0", timeout=120)
    assert (tmp_path / "p/src/test_model/__init__.py").is_file()
