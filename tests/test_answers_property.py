"""Property: any answer set either fails with a validator's message or renders a
project whose TOML/YAML/JSON parse, whose Python compiles and whose answers file
records exactly what was answered.

200 generated answer sets in the full tier (about 100 s on 2 cores; 1,000 took
over 8 minutes, half of one worker's share of the suite); HYPOTHESIS_EXAMPLES
overrides it for a deeper run, e.g. HYPOTHESIS_EXAMPLES=2000 before a release.
The fast tier runs the same property on 60.
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
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from harness.template import QUESTIONS, TEMPLATE, render
from tests.questions import SUGGESTION, Questions, choice_values, reserved_names
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
    name: st.sampled_from(choice_values(name))
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
    # copier.yml imports its macros from template/.copier/ (copied with template/).
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
@pytest.mark.alone
@settings(max_examples=_examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets)
def test_any_answers_fail_clearly_or_render_valid_files(
    answers: dict[str, Any], plain_template: Path
) -> None:
    check(answers, plain_template)


@pytest.mark.slow  # dozens of renders
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets)
def test_any_answers_smoke(answers: dict[str, Any], plain_template: Path) -> None:
    check(answers, plain_template)


# Derived defaults and suggestions ---------------------------------------------------
#
# A default computed from another answer must pass its own validator, or
# `copier copy --defaults` fails on an answer the user never gave; a value a message
# suggests must be accepted, or the fix is another error.

QUESTIONS_JINJA = Questions()
# Names that pass project_name's validator, long ones included (up to its 60).
valid_project_names = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}", fullmatch=True),
    st.from_regex(r"[0-9][0-9 ._-]{0,20}[a-z]{1,38}", fullmatch=True),
    st.sampled_from(["Test", "Conftest", "Typing Extensions", "Starlette", "Setuptools", "Class"]),
    st.builds(lambda w: w.title(), st.sampled_from(reserved_names())),
).filter(lambda name: len(name) <= 60 and QUESTIONS_JINJA.problem("project_name", name) == "")


@pytest.mark.slow  # 500 examples
@settings(max_examples=_examples(500), deadline=None, suppress_health_check=list(HealthCheck))
@given(project_name=valid_project_names)
@example(project_name="Customer Lifetime Value Forecasting Model For Retail Stores")
@example(project_name="2" + "0" * 37 + " Test")
@example(project_name="Test")
def test_derived_package_name_passes_its_validator(project_name: str) -> None:
    package = QUESTIONS_JINJA.default("package_name", project_name=project_name)
    assert QUESTIONS_JINJA.problem("package_name", package) == "", (project_name, package)
    assert len(package) <= 40


@pytest.mark.slow  # hundreds of examples
@settings(max_examples=_examples(500), deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.one_of(text, st.from_regex(r"[a-z][a-z0-9_]{0,45}", fullmatch=True)))
@example(name="2fast")
@example(name="Class")
@example(name="a" * 34 + "_" + "b" * 10)
def test_every_package_name_suggestion_is_accepted(name: str) -> None:
    message = QUESTIONS_JINJA.problem("package_name", name)
    event("rejected" if message else "accepted")
    for suggestion in SUGGESTION.findall(message):
        assert QUESTIONS_JINJA.problem("package_name", suggestion) == "", (name, suggestion)


@pytest.mark.slow  # hundreds of examples
@settings(max_examples=_examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(name=text)
def test_every_project_name_suggestion_is_accepted(name: str) -> None:
    message = QUESTIONS_JINJA.problem("project_name", name)
    for suggestion in SUGGESTION.findall(message):
        assert QUESTIONS_JINJA.problem("project_name", suggestion) == "", (name, suggestion)


@pytest.mark.slow  # dozens of renders
@settings(max_examples=_examples(15), deadline=None, suppress_health_check=list(HealthCheck))
@given(project_name=valid_project_names)
def test_defaults_render_for_any_valid_project_name(
    project_name: str, plain_template: Path
) -> None:
    """The same property through Copier: `copier copy --defaults -d project_name=...`."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = render(Path(tmp) / "p", src=plain_template, project_name=project_name)
        package = yaml.safe_load((dst / ".copier-answers.yml").read_text())["package_name"]
        assert (dst / "src" / package / "__init__.py").is_file()
