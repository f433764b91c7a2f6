"""Property: any answer set either fails with a validator's message or renders a
project whose TOML/YAML/JSON parse, whose Python compiles and whose answers file
records exactly what was answered.

1000 generated answer sets in the full tier (HYPOTHESIS_EXAMPLES overrides it);
the fast tier runs the same property on 60.
"""

from __future__ import annotations

import os
import shutil
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.template import QUESTIONS, TEMPLATE, render
from tests.test_render import assert_parses

# Characters that break naive templating: quotes, escapes, YAML/TOML/Jinja syntax,
# unicode letters, emoji, control characters and odd spaces.
SPECIALS = "\"'\\{}[]#:-=%&*!|>?@`$,~\n\t\r\x00\u00a0\u2028é日😀"
HOSTILE_WORDS = ["null", "true", "~", "---", "{{", "}}", "{%", '"""', "'''", "\\n", "key: v", "[a]"]

plausible = st.from_regex(r"[A-Za-z][A-Za-z0-9 ._-]{0,28}[A-Za-z0-9]", fullmatch=True)
text = st.one_of(
    plausible,
    plausible,
    plausible,
    st.text(alphabet=st.sampled_from(SPECIALS + string.ascii_letters), max_size=40),
    st.lists(st.sampled_from(HOSTILE_WORDS + ["Model", "ML", "x"]), min_size=1, max_size=5).map(
        " ".join
    ),
    st.text(min_size=0, max_size=20),
    st.text(alphabet="ab ", min_size=250, max_size=400),
)
emails = st.one_of(
    st.emails(),
    text,
    st.builds(
        lambda a, b: f"{a}@{b}.org",
        st.text(string.ascii_lowercase + ".+", min_size=1, max_size=12),
        st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    ),
)
choice = {
    name: st.sampled_from(list(spec["choices"].values()))
    for name, spec in QUESTIONS.items()
    if "choices" in spec
}

answer_sets = st.fixed_dictionaries(
    {},
    optional={
        "project_name": text,
        "package_name": st.one_of(text, st.from_regex(r"[a-z][a-z0-9_]{0,45}", fullmatch=True)),
        "description": text,
        "author_name": text,
        "author_email": emails,
        "license": choice["license"],
        "python_version": choice["python_version"],
        "task": choice["task"],
    },
)


@pytest.fixture(scope="module")
def plain_template() -> Iterator[Path]:
    """The working tree's template as a plain folder: renders without a git clone."""
    folder = Path(tempfile.mkdtemp(prefix="copier-mlops-src-"))
    shutil.copy(TEMPLATE / "copier.yml", folder)
    shutil.copytree(TEMPLATE / "template", folder / "template")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def check(answers: dict[str, Any], src: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "p"
        try:
            render(dst, src=src, **answers)
        except ValueError as error:
            message = str(error)
            assert message.startswith("Validation error for question '"), message
            question = message.split("'")[1]
            assert question in QUESTIONS
            assert message.split(":", 1)[1].strip(), "empty validator message"
            event(f"rejected by {question}")
            return
        event("rendered")
        assert_parses(dst)
        recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text(encoding="utf-8"))
        for name, value in answers.items():
            assert recorded[name] == value, name


def _examples(default: int) -> int:
    return int(os.environ.get("HYPOTHESIS_EXAMPLES", default))


@pytest.mark.slow
@settings(max_examples=_examples(1000), deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets)
def test_any_answers_fail_clearly_or_render_valid_files(
    answers: dict[str, Any], plain_template: Path
) -> None:
    check(answers, plain_template)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets)
def test_any_answers_smoke(answers: dict[str, Any], plain_template: Path) -> None:
    check(answers, plain_template)
