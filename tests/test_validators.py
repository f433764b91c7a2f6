"""Fast tier: every validator rejects bad answers with a message saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.template import render

# (question, bad answer, words the message must contain)
REJECTED = [
    ("project_name", "", "must not be empty"),
    ("project_name", "  padded ", 'must not start or end with spaces: use "padded"'),
    ("project_name", "x" * 61, "use 60 or fewer"),
    ("project_name", 'Say "hi"', 'may only contain letters, digits, spaces, "-", "_" and "."'),
    ("project_name", "-dash first", "must start with a letter or digit"),
    ("project_name", "日本語", "needs at least one ASCII letter or digit"),
    ("package_name", "My-Package", "must be a lowercase Python identifier (a-z, 0-9, _; starting"),
    ("package_name", "1model", "starting with a letter"),
    ("package_name", "model\n", "must be a lowercase Python identifier"),
    ("package_name", "a" * 41, "use 40 or fewer"),
    ("package_name", "class", 'is a Python keyword: pick another name, such as "class_model"'),
    ("package_name", "json", "would shadow the standard-library module"),
    ("package_name", "statistics", "would shadow the standard-library module"),
    ("package_name", "mlflow", "would shadow a package the project depends on"),
    ("package_name", "tests", "would shadow a package the project depends on or a project folder"),
    ("description", " ", "must not be empty"),
    ("description", "two\nlines", "must be a single line"),
    ("description", "d" * 301, "300 or fewer"),
    ("author_name", "", "must not be empty"),
    ("author_name", 'Jane "JD" Doe', "without quotes, backslashes or angle brackets"),
    ("author_name", "Jane <jd>", "without quotes, backslashes or angle brackets"),
    ("author_name", "n" * 101, "use 100 or fewer"),
    ("author_email", "jane", "must look like name@example.com"),
    ("author_email", "jane doe@example.com", "must look like name@example.com"),
    ("author_email", "jane@localhost", "must look like name@example.com"),
    ("author_email", '"jane"@example.com', "must look like name@example.com"),
]


@pytest.mark.parametrize(
    ("question", "answer", "message"),
    REJECTED,
    ids=[f"{q}-{i}" for i, (q, _, _) in enumerate(REJECTED)],
)
def test_bad_answer_is_rejected_with_a_fix(
    tmp_path: Path, question: str, answer: str, message: str
) -> None:
    with pytest.raises(ValueError) as error:
        render(tmp_path / "p", **{question: answer})
    text = str(error.value)
    assert text.startswith(f"Validation error for question '{question}': {question}")
    assert message in text
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


@pytest.mark.parametrize(
    ("project_name", "package_name"),
    [
        ("My ML Project", "my_ml_project"),
        ("Churn-Model v2.1", "churn_model_v2_1"),
        ("2024 Forecast", "ml_2024_forecast"),
        ("Café Prédiction", "caf_pr_diction"),
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
