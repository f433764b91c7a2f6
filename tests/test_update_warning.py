"""`_message_before_update`: which answers given to `copier update -d` warn, and how.

Copier renders the message before it reads the project's answers, with the `-d`
values as given (strings from the command line, typed values from the API). The
end-to-end case (a real update naming and keeping an edited serving/app.py) is in
test_update.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.template import SPEC
from tests.questions import Questions

# What migrations/keep_removed_edits.py does (tests/test_update.py runs it).
KEPT = (
    "Each file among them that you edited is named and kept beside its old name as\n"
    "<file>.orig, untracked (COPIER_MLOPS_KEEP_EDITS=no: edited files go too)."
)
RESTORE = "git restore --source=HEAD -- PATH      (or: git checkout HEAD -- PATH)"


def warning(data: dict[str, Any], *, defaults: bool = True) -> str:
    template = Questions().env.from_string(SPEC["_message_before_update"])
    return template.render(_copier_conf={"data": data, "defaults": defaults}).strip()


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (
            {"serving": "false"},
            [
                "serving=false: src/<package_name>/serving/, tests/test_serve.py, tests/test_observe.py"
            ],
        ),
        (
            {"serving": False},
            [
                "serving=false: src/<package_name>/serving/, tests/test_serve.py, tests/test_observe.py"
            ],
        ),
        (
            {"docker": "no"},
            ["docker=false: Dockerfile, .dockerignore, .github/workflows/docker.yml"],
        ),
        (
            {"ci_provider": "gitlab"},
            [
                "ci_provider=gitlab: .github/workflows/ (GitHub CI)",
                "ci_provider=gitlab: .github/dependabot.yml (Dependabot is GitHub only: the bot becomes renovate)",
            ],
        ),
        ({"ci_provider": "github"}, ["ci_provider=github: .gitlab-ci.yml (GitLab CI)"]),
        ({"dependency_bot": "dependabot"}, ["dependency_bot=dependabot: renovate.json"]),
        (
            {"mlflow_tracking": "local"},
            ["mlflow_tracking=local: compose.yaml, mlflow-server/Dockerfile"],
        ),
        ({"license": "Proprietary"}, ["license=Proprietary: LICENSE"]),
    ],
)
def test_a_file_choosing_answer_warns_with_its_files_and_the_way_back(
    data: dict[str, Any], lines: list[str]
) -> None:
    text = warning(data)
    assert text.startswith("Warning: this update deletes the files of the choices you change")
    for line in lines:
        assert f"\n  {line}\n" in text
    assert KEPT in text
    assert RESTORE in text


@pytest.mark.parametrize(
    "data", [{}, {"serving": "true"}, {"docker": True}, {"task": "regression"}]
)
def test_no_warning_when_no_file_goes(data: dict[str, Any]) -> None:
    assert warning(data) == ""


def test_an_interactive_update_gets_the_general_warning() -> None:
    text = warning({}, defaults=False)
    assert text.startswith("Warning: changing serving, docker, ci_provider, dependency_bot")
    assert KEPT in text
    assert RESTORE in text
