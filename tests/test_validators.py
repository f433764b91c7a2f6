"""Fast tier: every validator rejects bad answers with one message naming the answer
and the fix, early enough to survive an 80-column prompt, and every value a message
suggests is itself accepted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from docs_hooks import questions as reference
from harness.template import QUESTIONS, render
from tests.questions import SUGGESTION, VISIBLE, Questions, validated

# Many short tests sharing nothing costly: both workers take them (conftest.py).
pytestmark = pytest.mark.spread

# (question, bad answer, other answers, the message verbatim, its fix: a part of
# the message that must lie within its first VISIBLE characters)
REJECTED: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "project_name",
        "",
        {},
        'project_name must not be empty: give a name such as "Churn Model".',
        'give a name such as "Churn Model"',
    ),
    (
        "project_name",
        "  padded ",
        {},
        'project_name must not start or end with spaces: use "padded".',
        'use "padded"',
    ),
    (
        "project_name",
        "x" * 61,
        {},
        "project_name is 61 characters long: use 60 or fewer (it names the distribution and the MLflow experiment).",
        "use 60 or fewer",
    ),
    (
        "project_name",
        'Say "hi"',
        {},
        'project_name must use only letters, digits, spaces, - _ . (letter or digit first): got "Say \\"hi\\"".',
        "use only letters, digits, spaces, - _ .",
    ),
    (
        "project_name",
        "-dash first",
        {},
        'project_name must use only letters, digits, spaces, - _ . (letter or digit first): got "-dash first".',
        "use only letters, digits, spaces, - _ .",
    ),
    (
        "project_name",
        ' "quoted" ',
        {},
        'project_name must use only letters, digits, spaces, - _ . (letter or digit first): got " \\"quoted\\" ".',
        "use only letters, digits, spaces, - _ .",
    ),
    (
        "project_name",
        "日本語",
        {},
        'project_name needs an ASCII letter or digit: try "日本語 ML" (it names the distribution).',
        'try "日本語 ML"',
    ),
    (
        "project_name",
        "日本語 ",
        {},
        'project_name needs an ASCII letter or digit: try "日本語 ML" (it names the distribution).',
        'try "日本語 ML"',
    ),
    (
        "package_name",
        "My-Package",
        {},
        'package_name must be lowercase a-z, 0-9, _ (letter first): try "my_package"; got "My-Package".',
        'try "my_package"',
    ),
    (
        "package_name",
        "2fast",
        {},
        'package_name must be lowercase a-z, 0-9, _ (letter first): try "ml_2fast"; got "2fast".',
        'try "ml_2fast"',
    ),
    (
        "package_name",
        "Class",
        {},
        'package_name must be lowercase a-z, 0-9, _ (letter first): try "class_model"; got "Class".',
        'try "class_model"',
    ),
    (
        "package_name",
        "model\n",
        {},
        'package_name must be lowercase a-z, 0-9, _ (letter first): try "model"; got "model\\n".',
        'try "model"',
    ),
    (
        "package_name",
        "---",
        {},
        'package_name must be lowercase a-z, 0-9, _ (letter first): try "ml_project"; got "---".',
        'try "ml_project"',
    ),
    (
        "package_name",
        "a" * 41,
        {},
        f'package_name is 41 characters long: use 40 or fewer, such as "{"a" * 40}".',
        "use 40 or fewer",
    ),
    (
        "package_name",
        "class",
        {},
        'package_name "class" is a Python keyword: add a suffix, such as "class_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "json",
        {},
        'package_name "json" shadows an imported module: add a suffix, such as "json_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "test",
        {},
        'package_name "test" shadows an imported module: add a suffix, such as "test_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "conftest",
        {},
        'package_name "conftest" shadows an imported module: add a suffix, such as "conftest_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "typing_extensions",
        {},
        'package_name "typing_extensions" shadows an imported module: add a suffix, such as "typing_extensions_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "starlette",
        {},
        'package_name "starlette" shadows an imported module: add a suffix, such as "starlette_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "setuptools",
        {},
        'package_name "setuptools" shadows an imported module: add a suffix, such as "setuptools_model".',
        "add a suffix",
    ),
    (
        "package_name",
        "tests",
        {},
        'package_name "tests" shadows an imported module: add a suffix, such as "tests_model".',
        "add a suffix",
    ),
    (
        "description",
        " ",
        {},
        "description must not be empty: write one line saying what the model does.",
        "write one line",
    ),
    (
        "description",
        "two\nlines",
        {},
        "description must be one line: remove newlines, tabs and control characters.",
        "remove newlines",
    ),
    (
        "description",
        "d" * 301,
        {},
        "description is 301 characters long: keep it to one line of 300 or fewer.",
        "300 or fewer",
    ),
    (
        "author_name",
        "",
        {},
        "author_name must not be empty: give a person's or a team's name.",
        "give a person's or a team's name",
    ),
    (
        "author_name",
        'Jane "JD" Doe',
        {},
        'author_name: remove the quotes, backslashes, <> or line breaks; got "Jane \\"JD\\" Doe".',
        "remove the quotes",
    ),
    (
        "author_name",
        "Jane <jd>",
        {},
        'author_name: remove the quotes, backslashes, <> or line breaks; got "Jane <jd>".',
        "remove the quotes",
    ),
    (
        "author_name",
        "n" * 101,
        {},
        "author_name is 101 characters long: use 100 or fewer.",
        "use 100 or fewer",
    ),
    (
        "author_email",
        "jane",
        {},
        'author_email must look like name@example.com (no spaces, quotes or angle brackets): got "jane".',
        "must look like name@example.com",
    ),
    (
        "author_email",
        "jane doe@example.com",
        {},
        'author_email must look like name@example.com (no spaces, quotes or angle brackets): got "jane doe@example.com".',
        "must look like name@example.com",
    ),
    (
        "author_email",
        "jane@localhost",
        {},
        'author_email must look like name@example.com (no spaces, quotes or angle brackets): got "jane@localhost".',
        "must look like name@example.com",
    ),
    (
        "author_email",
        "j@" + "a" * 250 + ".com",
        {},
        "author_email is 256 characters long: use 254 or fewer (an address's limit).",
        "use 254 or fewer",
    ),
    (
        "mlflow_tracking_uri",
        " ",
        {"mlflow_tracking": "server"},
        "mlflow_tracking_uri must not be empty: give a URL, such as http://host:5000.",
        "give a URL, such as http://host:5000",
    ),
    (
        "mlflow_tracking_uri",
        "http://host :5000",
        {"mlflow_tracking": "server"},
        'mlflow_tracking_uri must not contain spaces or line breaks: remove them; got "http://host :5000".',
        "remove them",
    ),
    (
        "mlflow_tracking_uri",
        "sqlite:///mlflow.db",
        {"mlflow_tracking": "server"},
        'mlflow_tracking_uri: a local store needs mlflow_tracking=local, not a URI; got "sqlite:///mlflow.db" (or give the server\'s http(s):// URL).',
        "needs mlflow_tracking=local",
    ),
    (
        "mlflow_tracking_uri",
        "https://me:secret@mlflow.example.com",
        {"mlflow_tracking": "server"},
        'mlflow_tracking_uri: move the credentials to MLFLOW_TRACKING_* variables; use "https://mlflow.example.com" and set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN): the URI is committed.',
        "move the credentials to MLFLOW_TRACKING_* variables",
    ),
    (
        "mlflow_tracking_uri",
        "https://me:pw@host/?q=1",
        {"mlflow_tracking": "server"},
        "mlflow_tracking_uri: move the credentials to MLFLOW_TRACKING_* variables; remove them and set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN): the URI is committed.",
        "move the credentials to MLFLOW_TRACKING_* variables",
    ),
    (
        "mlflow_tracking_uri",
        "ftp://host",
        {"mlflow_tracking": "server"},
        'mlflow_tracking_uri must be an http(s) URL such as http://host:5000, "databricks", a SageMaker MLflow ARN or an azureml:// URI (no query string): got "ftp://host".',
        "must be an http(s) URL such as http://host:5000",
    ),
    (
        "dvc_remote_url",
        "",
        {"dvc_remote": "ssh"},
        "dvc_remote_url is empty: give one such as ssh://user@example.com/srv/dvc.",
        "give one such as ssh://user@example.com/srv/dvc",
    ),
    (
        "dvc_remote_url",
        " /srv/dvc",
        {"dvc_remote": "local"},
        'dvc_remote_url must be one line: remove line breaks and outer spaces; got " /srv/dvc".',
        "remove line breaks and outer spaces",
    ),
    (
        "dvc_remote_url",
        "s3://bucket/dvc",
        {"dvc_remote": "local"},
        'dvc_remote_url must be a folder (dvc_remote=local), such as /srv/dvc-storage; got "s3://bucket/dvc" (for a cloud URL pick its dvc_remote).',
        "must be a folder (dvc_remote=local), such as /srv/dvc-storage",
    ),
    (
        "dvc_remote_url",
        "s3://bucket/a#b",
        {"dvc_remote": "s3"},
        'dvc_remote_url must not contain quotes, ",", "#" or ";": remove them (DVC\'s config would cut the value there); got "s3://bucket/a#b".',
        "remove them",
    ),
    (
        "dvc_remote_url",
        "gs://bucket/dvc",
        {"dvc_remote": "s3"},
        'dvc_remote_url must start with s3:// for dvc_remote=s3, such as s3://my-bucket/dvc: got "gs://bucket/dvc".',
        "must start with s3://",
    ),
    (
        "dvc_remote_url",
        "ssh://me:pw@host/dvc",
        {"dvc_remote": "ssh"},
        'dvc_remote_url must not contain a password: use "ssh://me@host/dvc" with an SSH key or `dvc remote modify --local storage password ...` (the URL is committed).',
        'use "ssh://me@host/dvc"',
    ),
    (
        "dvc_remote_url",
        "ssh://me:pw@host",
        {"dvc_remote": "ssh"},
        "dvc_remote_url must not contain a password: remove it; use an SSH key or `dvc remote modify --local storage password ...` (the URL is committed).",
        "remove it; use an SSH key",
    ),
    (
        "dvc_remote_url",
        "s3://key:secret@bucket/dvc",
        {"dvc_remote": "s3"},
        "dvc_remote_url must not contain credentials: put them in .dvc/config.local (`dvc remote modify --local storage ...`) or environment variables; the URL is committed.",
        "put them in .dvc/config.local",
    ),
    (
        "dvc_remote_url",
        "s3://B/dvc",
        {"dvc_remote": "s3"},
        'dvc_remote_url needs a valid S3 bucket, such as s3://my-bucket/dvc (3-63 lowercase letters, digits, "." or "-", then an optional path): got "s3://B/dvc".',
        "such as s3://my-bucket/dvc",
    ),
    (
        "dvc_remote_url",
        "gs://B/dvc",
        {"dvc_remote": "gcs"},
        'dvc_remote_url needs a valid GCS bucket, such as gs://my-bucket/dvc (lowercase letters, digits, ".", "-" or "_", then an optional path): got "gs://B/dvc".',
        "such as gs://my-bucket/dvc",
    ),
    (
        "dvc_remote_url",
        "azure://a--b/dvc",
        {"dvc_remote": "azure"},
        'dvc_remote_url needs an Azure container, such as azure://my-container/dvc (3-63 lowercase letters, digits and single "-", then an optional path): got "azure://a--b/dvc".',
        "such as azure://my-container/dvc",
    ),
    (
        "dvc_remote_url",
        "ssh://host",
        {"dvc_remote": "ssh"},
        'dvc_remote_url must look like ssh://user@host/path/to/storage (optional :port after the host): got "ssh://host".',
        "must look like ssh://user@host/path/to/storage",
    ),
    (
        "dvc_remote_url",
        "s3://x/y",
        {"dvc_remote": "none"},
        "dvc_remote_url is only used with a DVC remote: also pass dvc_remote (local, s3, gcs, azure or ssh), or drop dvc_remote_url.",
        "also pass dvc_remote",
    ),
]
IDS = [f"{q}-{i}" for i, (q, *_) in enumerate(REJECTED)]


@pytest.fixture(scope="module")
def questions() -> Questions:
    return Questions()


@pytest.mark.parametrize(("question", "answer", "others", "message", "fix"), REJECTED, ids=IDS)
def test_bad_answer_is_rejected_with_a_fix(
    tmp_path: Path, question: str, answer: str, others: dict[str, Any], message: str, fix: str
) -> None:
    """Through Copier itself: the message verbatim, and nothing written."""
    with pytest.raises(ValueError) as error:
        render(tmp_path / "p", **others, **{question: answer})
    assert str(error.value) == f"Validation error for question '{question}': {message}"
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


@pytest.mark.parametrize(("question", "answer", "others", "message", "fix"), REJECTED, ids=IDS)
def test_message_names_the_answer_and_the_fix_before_the_cut(
    questions: Questions,
    question: str,
    answer: str,
    others: dict[str, Any],
    message: str,
    fix: str,
) -> None:
    assert questions.problem(question, answer, **others) == message
    visible = message[:VISIBLE]
    assert visible.startswith(question), visible
    assert fix in visible, f"the fix {fix!r} is cut off: {visible!r}"


@pytest.mark.parametrize(("question", "answer", "others", "message", "fix"), REJECTED, ids=IDS)
def test_every_suggested_value_is_accepted(
    questions: Questions,
    question: str,
    answer: str,
    others: dict[str, Any],
    message: str,
    fix: str,
) -> None:
    for suggestion in SUGGESTION.findall(message):
        if question in {"dvc_remote_url", "mlflow_tracking_uri"} and "://" not in suggestion:
            continue  # "databricks" and the like are examples of another shape
        assert questions.problem(question, suggestion, **others) == "", suggestion


def test_every_message_is_tested() -> None:
    """Each message of each validator is produced by at least one case above."""
    for question in validated():
        messages = reference.validator_messages(QUESTIONS[question]["validator"])
        produced = [m for q, _, _, m, _ in REJECTED if q == question]
        for template in messages:
            pattern = "".join(
                ".*?" if part.startswith("{{") else re.escape(part)
                for part in re.split(r"(\{\{.*?\}\})", template)
            )
            assert any(re.fullmatch(pattern, m, flags=re.S) for m in produced), (
                f"{question}: no case produces {template!r}"
            )


@pytest.mark.parametrize(
    ("project_name", "package_name"),
    [
        ("My ML Project", "my_ml_project"),
        ("Churn-Model v2.1", "churn_model_v2_1"),
        ("2024 Forecast", "ml_2024_forecast"),
        ("Café Prédiction", "caf_pr_diction"),
        ("Test", "test_model"),
        ("Typing Extensions", "typing_extensions_model"),
        ("Class", "class_model"),
        ("x" * 59, "x" * 40),
        ("A" + " b" * 29, "a" + "_b" * 19),  # cut at 40, trailing "_" dropped
    ],
)
def test_package_name_default_follows_project_name(
    tmp_path: Path, project_name: str, package_name: str
) -> None:
    root = render(tmp_path / "p", project_name=project_name)
    assert (root / "src" / package_name / "__init__.py").is_file()


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("project_name", "Ünïcode Model 3"),
        ("package_name", "fraud_detector"),
        ("description", "Predicts churn: 'quoted', \"double\", back\\slash, # not a comment"),
        ("author_name", "Zoë O'Brien-Smith"),
        ("author_email", "first.last+ml@sub.example.co.uk"),
    ],
)
def test_good_answers_render(tmp_path: Path, question: str, answer: str) -> None:
    root = render(tmp_path / "p", **{question: answer})
    assert (root / "pyproject.toml").is_file()


def test_dependabot_is_unavailable_on_gitlab_with_a_reason_that_fits(
    questions: Questions,
) -> None:
    reason = questions.choice_problem("dependency_bot", "dependabot", ci_provider="gitlab")
    assert reason == "ci_provider is gitlab: choose renovate or none"
    # The prompt shows "   - <label> (<reason>)" on one 80-column line.
    label = next(
        label
        for label, value in QUESTIONS["dependency_bot"]["choices"].items()
        if isinstance(value, dict)
    )
    assert len(f"   - {label} ({reason})") <= 80
    for provider in ("github", "none"):
        assert questions.choice_problem("dependency_bot", "dependabot", ci_provider=provider) == ""
