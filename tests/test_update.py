"""`copier update` never loses a user's work (scenarios 1-4, migrations).

Each test copies the template into its own git repository (harness/template_repo.py),
tags versions there, renders a project from one tag, commits it as a user would,
and updates it to a later tag. Assertions are on file contents.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from copier.errors import UnsafeTemplateError
from packaging.version import Version

from harness.template import TEMPLATE
from harness.template_repo import (
    TemplateRepo,
    answers,
    conflict_blocks,
    conflicted_files,
    git,
    tree,
    update,
)

PACKAGE = "my_ml_project"
MODULE = f"src/{PACKAGE}"
TASK_MODULE = f"{MODULE}/modeling/tasks/classification.py"
TASK_SOURCE = "template/src/{{package_name}}/modeling/tasks/{% if task == 'classification' %}classification.py{% endif %}"


# No user-level Copier settings leak in; `repo` (tests/conftest.py) is this
# template released as 1.0.0 in a throwaway repository.
# Slow tier: every test makes template repositories and runs copier update.
pytestmark = [pytest.mark.usefixtures("isolated_copier"), pytest.mark.slow]


def fresh(repo: TemplateRepo, dst: Path, vcs_ref: str, project: Path) -> Path:
    """A new render at `vcs_ref` with the answers `project` has now."""
    data = {k: v for k, v in answers(project).items() if not k.startswith("_")}
    return repo.render(dst, vcs_ref, **data)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def change_template_everywhere(repo: TemplateRepo) -> None:
    """A release that adds, changes and deletes template files."""
    repo.write(
        "template/src/{{package_name}}/report.py",
        '"""Added in 1.1.0: a summary of the last run."""\n',
    )
    repo.replace(
        "template/params.yaml.jinja",
        "    min_samples_leaf: 2\n",
        "    min_samples_leaf: 1\n",
    )
    repo.replace("template/pyproject.toml.jinja", '  "mlflow>=3.4,<4",\n', '  "mlflow>=3.5,<4",\n')
    repo.replace(
        "template/README.md.jinja",
        "| Browse runs | `uv run poe ui`",
        "| Summarise the last run | `uv run python -m {{ package_name }}.report` |\n"
        "| Browse runs | `uv run poe ui`",
    )
    (repo.path / "template/.dvcignore").unlink()


# Scenario 1: untouched project ----------------------------------------------------


def test_untouched_project_updates_to_exactly_a_fresh_render(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    project = repo.render(tmp_path / "project", "1.0.0")
    change_template_everywhere(repo)
    repo.release("1.1.0")

    update(project, "1.1.0")

    assert conflicted_files(project) == []
    assert answers(project)["_commit"] == "1.1.0"
    assert tree(project) == tree(fresh(repo, tmp_path / "fresh", "1.1.0", project))
    assert (project / MODULE / "report.py").is_file()
    assert not (project / ".dvcignore").exists()


# Scenario 2: the user's edits, the template's nearby changes ----------------------

USER_MODULE = '''"""Customer segments: written by the user, unknown to the template."""


def segment(spend: float) -> str:
    return "high" if spend > 100 else "low"
'''
USER_TEST = f"""from {PACKAGE}.segments import segment


def test_segment() -> None:
    assert segment(150) == "high"
"""
USER_README = (
    "Our data: the nightly churn extract from the warehouse; see docs/data.md.\n"
    "Ask #data-platform before changing its columns.\n"
)
USER_CARD = "Used by the retention team to rank customers for a weekly call list.\n"
CARD_PROMPT = "- Primary use: what decision do the predictions support, and who makes it?\n"


def user_edits(project: Path) -> None:
    """What a user does in the first weeks, committed."""
    # params.yaml: two values
    edit(project / "params.yaml", "  n_estimators: 100\n", "  n_estimators: 500\n")
    edit(project / "params.yaml", "  max_categories: 20\n", "  max_categories: 50\n")
    # pyproject.toml: a dependency added the usual way (edits the file, no network)
    subprocess.run(
        ["uv", "add", "--frozen", "httpx"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    # a module and its test
    (project / MODULE / "segments.py").write_text(USER_MODULE)
    (project / "tests/test_segments.py").write_text(USER_TEST)
    # README: a paragraph of their own at the end of a section
    edit(project / "README.md", "\n## Layout\n", f"\n{USER_README}\n## Layout\n")
    # a hyperparameter default in the code
    edit(project / TASK_MODULE, "max_iter=1000", "max_iter=5000")
    # a template file they do not want
    (project / "tests/test_paths.py").unlink()
    # the model card's prose (the card template is user-owned)
    edit(project / "cards/model_card.md.j2", CARD_PROMPT, f"- Primary use: {USER_CARD}")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Our changes")


def template_changes_nearby(repo: TemplateRepo) -> None:
    """A release touching lines near the user's edits, and one line they changed."""
    params = "template/params.yaml.jinja"
    # one unchanged line (max_depth) between this and the user's n_estimators
    repo.replace(
        params,
        "    min_samples_leaf: 2\n",
        "    min_samples_leaf: 1\n",
    )
    # the very line the user changed: a genuine conflict
    repo.replace(
        params,
        "  max_categories: 20\n",
        "  max_categories: 30\n",
    )
    pyproject = "template/pyproject.toml.jinja"
    repo.replace(pyproject, '  "mlflow>=3.4,<4",\n', '  "mlflow>=3.5,<4",\n')
    # a new template dependency at the end of the template's block: right above the
    # marker line, under which `uv add` put the user's
    marker = "  # Your dependencies go below this line"
    repo.replace(pyproject, marker, '  "tabulate>=0.9",\n' + marker)
    repo.replace(
        "template/README.md.jinja",
        "If the data does not fit, the stage stops with one line naming the file or column\n",
        "If the data does not fit, the stage stops with one line that names the file or column\n",
    )
    repo.replace(
        TASK_SOURCE,
        '    """Logistic regression (lbfgs, deterministic: the seed is not needed)."""\n',
        '    """Logistic regression (lbfgs: deterministic, so the seed is not needed)."""\n',
    )
    repo.replace(
        "template/cards/model_card.md.j2",
        "- Primary users:",
        "- Primary users (teams, services):",
    )


def test_user_edits_survive_and_conflict_only_where_both_changed_a_line(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    project = repo.render(tmp_path / "project", "1.0.0")
    user_edits(project)
    card_before = (project / "cards/model_card.md.j2").read_text()
    template_changes_nearby(repo)
    repo.release("1.1.0")

    update(project, "1.1.0")

    # Exactly one conflict: params.yaml, the max_categories line both sides changed.
    assert conflicted_files(project) == ["params.yaml"]
    params = (project / "params.yaml").read_text()
    assert conflict_blocks(params) == [
        (
            "  max_categories: 50",
            "  max_categories: 30",
        )
    ]
    # Around it, both sides' other changes merged without markers.
    assert "    n_estimators: 500\n" in params
    assert "    min_samples_leaf: 1\n" in params
    taken = re.sub(r"<<<<<<< .*?\n=======\n(.*?)>>>>>>> [^\n]*\n", r"\1", params, flags=re.S)
    assert yaml.safe_load(taken)["features"]["max_categories"] == 30

    # pyproject.toml: the template's bump and new pin, and the user's dependency last.
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    dependencies = pyproject["project"]["dependencies"]
    assert "mlflow>=3.5,<4" in dependencies and "mlflow>=3.4,<4" not in dependencies
    assert "tabulate>=0.9" in dependencies
    assert dependencies[-1] == "httpx"

    # The user's files, byte for byte; their edits inside template files, kept.
    assert (project / MODULE / "segments.py").read_text() == USER_MODULE
    assert (project / "tests/test_segments.py").read_text() == USER_TEST
    readme = (project / "README.md").read_text()
    assert USER_README in readme
    assert "stops with one line that names the file or column" in readme
    task = (project / TASK_MODULE).read_text()
    assert "max_iter=5000" in task and "max_iter=1000" not in task
    assert '"""Logistic regression (lbfgs: deterministic, so the seed is not needed)."""' in task
    # A template file the user deleted stays deleted.
    assert not (project / "tests/test_paths.py").exists()
    # The model card template is user-owned: left exactly as the user had it.
    assert (project / "cards/model_card.md.j2").read_text() == card_before
    assert USER_CARD in card_before
    assert list(project.rglob("*.rej")) == []


# params.yaml: a release never fights the user's data settings ---------------------

# What `dvc exp run -S` runs to write params.yaml (dvc.utils.hydra.apply_overrides),
# with the DVC the generated project pins.
DVC_SET = (
    "uv",
    "run",
    "--no-project",
    "--quiet",
    "--with",
    "dvc>=3.60,<4",
    "python",
    "-c",
    "import sys; from dvc.utils.hydra import apply_overrides; "
    "apply_overrides('params.yaml', sys.argv[1:])",
)
OWN_DATA = {"path": "data/raw/wine.csv", "target": "quality", "drop": ["id"]}


def reword_every_comment(text: str) -> str:
    """A release that rewords each comment line of params.yaml."""
    return "".join(
        f"{line.rstrip()} (reworded)\n" if line.lstrip().startswith("#") else line
        for line in text.splitlines(keepends=True)
    )


def test_a_release_rewording_params_merges_with_own_data_after_dvc_exp_run(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    project = repo.render(tmp_path / "project", "1.0.0")
    params = project / "params.yaml"
    # The user's data, by hand as the README says (a list one `- item` line each).
    edit(params, "  path: data/raw/demo.csv\n", f"  path: {OWN_DATA['path']}\n")
    edit(params, "  target: diagnosis\n", f"  target: {OWN_DATA['target']}\n")
    edit(params, "  drop: []\n", "  drop:\n  - id\n")
    git(project, "commit", "-qam", "Our data")
    before = params.read_text()
    # An experiment, kept: DVC writes params.yaml and changes only that value.
    subprocess.run([*DVC_SET, "model.random_forest.n_estimators=300"], cwd=project, check=True)
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), params.read_text().splitlines(), strict=True)
        if old != new
    ]
    assert changed == [("    n_estimators: 100", "    n_estimators: 300")]
    git(project, "commit", "-qam", "Keep the experiment")

    # The release: every comment reworded, a default changed, a key added.
    source = "template/params.yaml.jinja"
    repo.write(source, reword_every_comment(repo.read(source)))
    repo.replace(source, "    min_samples_leaf: 2\n", "    min_samples_leaf: 1\n")
    repo.replace(source, "  max_categories: 20\n", "  max_categories: 20\n  min_frequency: 5\n")
    repo.release("1.1.0")

    update(project, "1.1.0")

    assert conflicted_files(project) == []
    merged = yaml.safe_load(params.read_text())
    assert {key: merged["data"][key] for key in OWN_DATA} == OWN_DATA
    assert merged["model"]["random_forest"]["n_estimators"] == 300
    assert merged["model"]["random_forest"]["min_samples_leaf"] == 1
    assert merged["features"]["min_frequency"] == 5
    text = params.read_text()
    fresh_text = (fresh(repo, tmp_path / "fresh", "1.1.0", project) / "params.yaml").read_text()
    # Every comment this project renders is the reworded one (the template's
    # deep-learning block is not rendered here).
    assert text.count("(reworded)") == fresh_text.count("(reworded)") > 50
    # Exactly the user's lines differ from a fresh render of the release.
    differ = [line for line in text.splitlines() if line not in fresh_text.splitlines()]
    assert differ == [
        f"  path: {OWN_DATA['path']}",
        f"  target: {OWN_DATA['target']}",
        "  drop:",
        "  - id",
        "    n_estimators: 300",
    ]


def test_deleted_user_owned_file_comes_back_at_the_new_version(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    """How a user takes the template's new model card: delete theirs, update."""
    project = repo.render(tmp_path / "project", "1.0.0")
    (project / "cards/model_card.md.j2").unlink()
    git(project, "commit", "-qam", "Take the template's card on the next update")
    repo.replace(
        "template/cards/model_card.md.j2", "## Intended use\n", "## Intended use and users\n"
    )
    repo.release("1.1.0")

    update(project, "1.1.0")

    assert "## Intended use and users\n" in (project / "cards/model_card.md.j2").read_text()


# Scenario 3: an answer changes during the update ----------------------------------

ANSWER_CHANGES = [
    pytest.param({"docker": False}, id="docker=false"),
    pytest.param({"ci_provider": "gitlab"}, id="ci_provider=gitlab"),
    pytest.param({"serving": False}, id="serving=false"),
    pytest.param({"dependency_bot": "dependabot"}, id="dependency_bot=dependabot"),
]


@pytest.mark.parametrize("change", ANSWER_CHANGES)
def test_changed_answer_swaps_the_files_of_that_choice(
    repo: TemplateRepo, tmp_path: Path, change: dict[str, object]
) -> None:
    project = repo.render(tmp_path / "project", "1.0.0")
    (project / MODULE / "segments.py").write_text(USER_MODULE)
    edit(project / "params.yaml", "  n_estimators: 100\n", "  n_estimators: 500\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Our changes")
    change_template_everywhere(repo)
    repo.release("1.1.0")

    update(project, "1.1.0", **change)

    assert conflicted_files(project) == []
    recorded = answers(project)
    assert {key: recorded[key] for key in change} == change
    expected = tree(fresh(repo, tmp_path / "fresh", "1.1.0", project))
    unchanged = tree(repo.render(tmp_path / "old-choice", "1.1.0"))
    result = tree(project)
    # The old choice's files are gone and the new choice's have come: every
    # template file is what a fresh render with the new answer writes ...
    user_files = {f"{MODULE}/segments.py", "params.yaml"}
    assert set(unchanged) - set(expected) - user_files == set(unchanged) - set(result)
    assert {k: v for k, v in result.items() if k not in user_files} == {
        k: v for k, v in expected.items() if k not in user_files
    }
    # ... and the user's work is still there, next to the template's change.
    assert result[f"{MODULE}/segments.py"] == USER_MODULE
    assert "  n_estimators: 500\n" in result["params.yaml"]
    assert "    min_samples_leaf: 1\n" in result["params.yaml"]


def test_dependency_bot_switch_replaces_renovate_with_dependabot(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    """The one answer change whose files this branch owns, spelled out."""
    project = repo.render(tmp_path / "project", "1.0.0")
    assert (project / "renovate.json").is_file()

    update(project, "1.0.0", dependency_bot="dependabot")

    assert not (project / "renovate.json").exists()
    assert "package-ecosystem: uv" in (project / ".github/dependabot.yml").read_text()


# Migrations -----------------------------------------------------------------------


def as_drafted_with_ci(repo: TemplateRepo) -> None:
    """The template as drafted before 0.1.0: the CI question was named `ci`."""
    for path in [repo.path / "copier.yml", *(repo.path / "template").rglob("*")]:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="surrogateescape")
            if "ci_provider" in text:
                path.write_bytes(
                    text.replace("ci_provider", "ci").encode("utf-8", "surrogateescape")
                )
    for path in sorted((repo.path / "template").rglob("*ci_provider*"), reverse=True):
        path.rename(path.with_name(path.name.replace("ci_provider", "ci")))
    spec = yaml.safe_load(repo.read("copier.yml"))
    assert "ci" in spec and "ci_provider" not in spec


def test_migration_renames_the_answer_and_needs_trust(tmp_path: Path) -> None:
    repo = TemplateRepo.create(tmp_path / "template")
    as_drafted_with_ci(repo)
    repo.release("0.0.1")
    project = repo.render(tmp_path / "project", "0.0.1", ci="gitlab")
    assert answers(project)["ci"] == "gitlab"
    repo.copy_from(TEMPLATE)  # release 0.1.0: the template as it is now
    repo.release("0.1.0")

    # Without --trust Copier refuses, naming the reason, and changes nothing.
    with pytest.raises(UnsafeTemplateError, match="migrations"):
        update(project, "0.1.0", trust=False)
    assert answers(project)["_commit"] == "0.0.1"

    update(project, "0.1.0", trust=True)

    recorded = answers(project)
    assert recorded["ci_provider"] == "gitlab" and "ci" not in recorded
    assert conflicted_files(project) == []
    assert tree(project) == tree(fresh(repo, tmp_path / "fresh", "0.1.0", project))


def test_migration_script_is_idempotent(tmp_path: Path) -> None:
    script = TEMPLATE / "migrations/rename_answer.py"
    answers_file = tmp_path / ".copier-answers.yml"
    header = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    answers_file.write_text(f"{header}_commit: 0.0.1\nci: none\n")
    command = [sys.executable, str(script), str(answers_file), "ci", "ci_provider"]

    first = subprocess.run(command, capture_output=True, text=True, check=True)

    assert "renamed answer 'ci' to 'ci_provider'" in first.stderr
    text = answers_file.read_text()
    assert text.startswith(header)
    assert yaml.safe_load(text) == {"_commit": "0.0.1", "ci_provider": "none"}
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "nothing to rename" in second.stderr
    assert answers_file.read_text() == text


# Scenario 4: every release of this repository to HEAD -----------------------------


def release_tags() -> list[str]:
    """This repository's own release tags (PEP 440), oldest first."""
    tags = []
    for tag in git(TEMPLATE, "tag", "--list").split():
        try:
            tags.append((Version(tag), tag))
        except ValueError:
            continue
    return [tag for _, tag in sorted(tags)]


def root_commit() -> str:
    return git(TEMPLATE, "rev-list", "--max-parents=0", "HEAD").split()[0]


LAST_RELEASE = "0.2.0"


def release_ref(version: str) -> str:
    """The release's tag, or (in a clone without tags) its release commit."""
    if version in release_tags():
        return version
    found = git(TEMPLATE, "log", "--format=%H", f"--grep=^release {version}:", "HEAD")
    assert found.split(), f"no tag or release commit for {version}"
    return found.split()[-1]


# Until the first release, the oldest commit stands in so the path is exercised. In
# a clone without tags, the last release's commit (found by its message) runs too.
STARTS = release_tags() or [
    f"first-commit:{root_commit()}",
    f"{LAST_RELEASE}:{release_ref(LAST_RELEASE)}",
]


@pytest.mark.parametrize("start", STARTS)
def test_update_from_each_release_to_head_has_no_conflict(start: str, tmp_path: Path) -> None:
    label, _, ref = start.rpartition(":")
    ref = ref or start
    old_tag = "0.0.0" if label == "first-commit" else (label or start)
    repo = TemplateRepo.from_commit(tmp_path / "template", ref)
    repo.release(old_tag)
    project = repo.render(tmp_path / "project", old_tag)
    # HEAD (with the working tree's changes) as the release after every tag and
    # every migration, so each migration that applies runs.
    repo.copy_from(TEMPLATE)
    spec = yaml.safe_load(repo.read("copier.yml"))
    # (keep_removed_edits.py has no version: it runs on every update)
    versions = [Version(m["version"]) for m in spec["_migrations"] if "version" in m]
    newest = max([Version(old_tag), *versions])
    head_tag = f"{newest.major}.{newest.minor}.{newest.micro + 1}"
    repo.release(head_tag)

    card = (project / "cards/model_card.md.j2").read_text()
    update(project, head_tag, trust=True)

    assert conflicted_files(project) == []
    expected = tree(fresh(repo, tmp_path / "fresh", head_tag, project))
    # The card template is user-owned (_skip_if_exists): it stays as it was.
    expected["cards/model_card.md.j2"] = card
    assert tree(project) == expected


# An answer change deletes files: the edited ones are named first and kept ---------

SERVING = f"{MODULE}/serving"
EDITED_LINE = "\n# our rate limiter lives here\n"


KEEP_SCRIPT = TEMPLATE / "migrations/keep_removed_edits.py"


def copier_cli(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`copier ARGS...` in `project`, as a user runs it."""
    copier = str(Path(sys.executable).parent / "copier")
    return subprocess.run(
        [copier, *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def test_update_that_drops_serving_names_the_edited_files_and_keeps_them(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    """`copier update --trust -d serving=false` on a project whose serving module and
    observe test were edited: both named before Copier deletes, both kept as .orig."""
    project = repo.render(tmp_path / "project", "1.0.0")
    edited = {}
    for path in (f"{SERVING}/app.py", "tests/test_observe.py"):
        edited[path] = (project / path).read_text() + EDITED_LINE
        (project / path).write_text(edited[path])
    assert (project / "tests/test_serve.py").is_file()  # left as rendered
    git(project, "commit", "-qam", "Our serving/app.py and observe test")

    result = copier_cli(project, "update", "--defaults", "--trust", "-d", "serving=false")

    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert "Warning: this update deletes the files of the choices you change" in err
    # One line per edited file, printed before Copier starts changing the project.
    for path in edited:
        line = (
            f"copier-mlops: this update removes {path}, which you edited: your copy is "
            f"kept as {path}.orig (untracked; COPIER_MLOPS_KEEP_EDITS=no lets it go)"
        )
        assert err.count(line) == 1, err
    listed = next(line for line in err.splitlines() if "you did not edit" in line)
    assert "tests/test_serve.py" in listed and f"{SERVING}/__init__.py" in listed
    assert f"{SERVING}/app.py" not in listed
    # The edited files are kept with the edits, beside their old names, untracked ...
    for path, text in edited.items():
        assert not (project / path).exists()
        assert (project / f"{path}.orig").read_text() == text
    status = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert sorted(line for line in status if line.startswith("??")) == sorted(
        f"?? {path}.orig" for path in edited
    )
    # ... the unedited ones are simply gone, and every file else is a fresh render
    # of serving=false.
    assert not (project / "tests/test_serve.py").exists()
    assert not (project / "tests/test_serve.py.orig").exists()
    assert answers(project)["serving"] is False
    expected = tree(fresh(repo, tmp_path / "fresh", "1.0.0", project))
    assert tree(project, exclude=[f"{path}.orig" for path in edited]) == expected


def test_update_with_keep_edits_off_names_the_edited_files_and_lets_them_go(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    """COPIER_MLOPS_KEEP_EDITS=no: the edited file is still named, with the way back,
    but no copy is kept; the project is exactly a fresh render of serving=false."""
    project = repo.render(tmp_path / "project", "1.0.0")
    path = "tests/test_observe.py"
    edited = (project / path).read_text() + EDITED_LINE
    (project / path).write_text(edited)
    git(project, "commit", "-qam", "Our observe test")

    result = copier_cli(
        project,
        "update",
        "--defaults",
        "--trust",
        "-d",
        "serving=false",
        env={**os.environ, "COPIER_MLOPS_KEEP_EDITS": "no"},
    )

    assert result.returncode == 0, result.stderr
    assert (
        f"copier-mlops: this update removes {path}, which you edited "
        f"(COPIER_MLOPS_KEEP_EDITS=no: not kept; git restore --source=HEAD -- {path} "
        "brings it back)"
    ) in result.stderr
    assert not list(project.rglob("*.orig"))
    assert tree(project) == tree(fresh(repo, tmp_path / "fresh", "1.0.0", project))
    git(project, "restore", "--source=HEAD", "--", path)
    assert (project / path).read_text() == edited


def test_files_removed_by_an_answer_given_at_the_prompt_are_kept_after_the_update(
    repo: TemplateRepo, tmp_path: Path
) -> None:
    """An interactive update: the `before` step cannot know the answers yet, so the
    `after` step finds what Copier deleted, renders the old release to tell the
    edited files, keeps them and names them. Here Copier's deletion is done by hand
    (as `serving=false` does it); the step runs as the migration runs it."""
    project = repo.render(tmp_path / "project", "1.0.0")
    app = project / SERVING / "app.py"
    edited = app.read_text() + EDITED_LINE
    app.write_text(edited)
    git(project, "commit", "-qam", "Our serving/app.py")
    for path in [*(project / SERVING).iterdir(), project / "tests/test_serve.py"]:
        path.unlink()

    result = subprocess.run(
        [sys.executable, str(KEEP_SCRIPT), "after", ".copier-answers.yml", "1.0.0"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"copier-mlops: this update removed {SERVING}/app.py, which you edited: your copy "
        f"is kept as {SERVING}/app.py.orig (untracked)\n"
    )
    assert app.with_name("app.py.orig").read_text() == edited
    assert [p.name for p in project.rglob("*.orig")] == ["app.py.orig"]


def test_update_without_a_changed_answer_names_no_file(repo: TemplateRepo, tmp_path: Path) -> None:
    """A release that changes a default, on a project with an edited serving module:
    nothing goes, so the update warns of nothing and keeps no copy."""
    project = repo.render(tmp_path / "project", "1.0.0")
    app = project / SERVING / "app.py"
    edited = app.read_text() + EDITED_LINE
    app.write_text(edited)
    git(project, "commit", "-qam", "Our serving/app.py")
    repo.replace(
        "template/params.yaml.jinja", "    min_samples_leaf: 2\n", "    min_samples_leaf: 1\n"
    )
    repo.release("1.1.0")

    result = copier_cli(project, "update", "--defaults", "--trust", "-d", "task=classification")

    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert "git restore" not in result.stderr
    assert "copier-mlops:" not in result.stderr
    assert answers(project)["_commit"] == "1.1.0"
    assert "    min_samples_leaf: 1\n" in (project / "params.yaml").read_text()
    assert app.read_text() == edited
    assert not list(project.rglob("*.orig"))


# The package restructure: files a release removes ---------------------------------

USER_SERVE_LINE = "# Our change: the API sits behind the company gateway.\n"


def test_edited_serve_module_is_kept_when_the_release_moves_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """0.2.0's serve.py became the serving/ package: Copier would delete an edited
    copy; the migration keeps it as serve.py.orig and says where the code went."""
    repo = TemplateRepo.from_commit(tmp_path / "template", release_ref(LAST_RELEASE))
    repo.release("0.2.0")
    project = repo.render(tmp_path / "project", "0.2.0")
    serve = project / MODULE / "serve.py"
    edited = USER_SERVE_LINE + serve.read_text()
    serve.write_text(edited)
    metrics = (project / MODULE / "metrics.py").read_text()  # left untouched
    drift = project / "scripts/check_template_drift.py"  # a plain (not .jinja) file
    drift_edited = drift.read_text() + "# our proxy settings\n"
    drift.write_text(drift_edited)
    edit(project / "params.yaml", "  seed: 42\n", "  seed: 7\n")
    git(project, "commit", "-qam", "Our changes")
    card = (project / "cards/model_card.md.j2").read_text()
    repo.copy_from(TEMPLATE)
    repo.release("0.2.1")

    update(project, "0.2.1", trust=True)

    # 0.2.0 wrote comments on value lines; the params.yaml layout of this release
    # (issue 21) does not, so the one value the user changed conflicts once, as the
    # CHANGELOG says ("keep your value"), and the user's side holds it.
    assert conflicted_files(project) == ["params.yaml"]
    assert "  seed: 7\n" in (project / "params.yaml").read_text()
    assert not serve.exists() and (project / MODULE / "serving/app.py").is_file()
    assert (project / MODULE / "serve.py.orig").read_text() == edited
    err = capfd.readouterr().err
    assert (
        f"this release removes {MODULE}/serve.py (its code moved to {MODULE}/serving/); "
        f"your edited copy is kept as {MODULE}/serve.py.orig: carry your changes over, "
        "then delete it"
    ) in err
    # The untouched module is simply replaced by its new home, with no copy.
    assert not (project / MODULE / "metrics.py").exists()
    assert not (project / MODULE / "metrics.py.orig").exists()
    assert "def metrics_of(" in (project / TASK_MODULE).read_text()
    assert not drift.exists()
    assert (project / "scripts/check_template_drift.py.orig").read_text() == drift_edited
    assert "uv run poe drift (copier check-update)" in err
    assert metrics  # it existed at 0.2.0
    assert "  seed: 7\n" in (project / "params.yaml").read_text()
    # The project is otherwise exactly a fresh render of the new release.
    result = tree(
        project, exclude=[f"{MODULE}/serve.py.orig", "scripts/check_template_drift.py.orig"]
    )
    # params.yaml holds the user's edit; the card template is the user's
    # (_skip_if_exists), so it stays as 0.2.0 rendered it.
    assert result == tree(fresh(repo, tmp_path / "fresh", "0.2.1", project), exclude=[]) | {
        "params.yaml": result["params.yaml"],
        "cards/model_card.md.j2": card,
    }


# The flat package became subpackages (issue 22) -------------------------------------

USER_ERROR = '''class ModelError(ProjectError):
    """Ours: the registry holds no model for this customer."""


'''
DATA_ERROR = "class DataError(ProjectError):"


def test_update_from_the_flat_layout_moves_an_edited_module_with_its_edits(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """0.2.0's errors.py, edited, lands in core/errors.py with the edit and with the
    release's own changes; the user's own module stays where it is."""
    repo = TemplateRepo.from_commit(tmp_path / "template", release_ref(LAST_RELEASE))
    repo.release(LAST_RELEASE)
    project = repo.render(tmp_path / "project", LAST_RELEASE)
    errors = project / MODULE / "errors.py"
    edit(errors, DATA_ERROR, USER_ERROR + DATA_ERROR)
    (project / MODULE / "segments.py").write_text(USER_MODULE)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Our error and our module")
    card = (project / "cards/model_card.md.j2").read_text()
    repo.copy_from(TEMPLATE)
    repo.release("0.3.0")

    update(project, "0.3.0", trust=True)

    assert conflicted_files(project) == []
    moved = (project / MODULE / "core/errors.py").read_text()
    expected = tree(fresh(repo, tmp_path / "fresh", "0.3.0", project))
    # The release's version of the module with the user's class where they put it:
    # the warn() the release added and the user's ModelError are both there.
    release_errors = expected[f"{MODULE}/core/errors.py"]
    assert "def warn(" in release_errors and "ModelError" not in release_errors
    assert moved == release_errors.replace(DATA_ERROR, USER_ERROR + DATA_ERROR)
    assert not errors.exists() and not errors.with_name("errors.py.orig").exists()
    assert (project / MODULE / "segments.py").read_text() == USER_MODULE
    err = capfd.readouterr().err
    assert f"moved your edits of {MODULE}/errors.py to {MODULE}/core/errors.py" in err
    assert err.count("moved your edits") == 1  # the untouched modules simply move
    # ...and no other line says it was removed or kept as a copy.
    assert "errors.py, which you edited" not in err and "errors.py.orig" not in err
    # Everything else is exactly a fresh render of the new release.
    expected[f"{MODULE}/core/errors.py"] = moved
    expected[f"{MODULE}/segments.py"] = USER_MODULE
    expected["cards/model_card.md.j2"] = card
    assert tree(project) == expected


# params.yaml's model section became one section per family -----------------------


def flat_params_commit() -> str:
    """The last commit whose params.yaml had the flat `model:` section."""
    nested = git(
        TEMPLATE,
        "log",
        "--format=%H",
        "-S",
        "hist_gradient_boosting:",
        "HEAD",
        "--",
        "template/params.yaml.jinja",
    ).split()
    return f"{nested[-1]}^"


def test_migration_carries_flat_model_values_into_the_family_sections(
    tmp_path: Path,
) -> None:
    repo = TemplateRepo.from_commit(tmp_path / "template", flat_params_commit())
    repo.release("0.2.9")
    project = repo.render(tmp_path / "project", "0.2.9")
    edit(project / "params.yaml", "  type: random_forest ", "  type: linear ")
    edit(project / "params.yaml", "  n_estimators: 100 ", "  n_estimators: 500 ")
    edit(project / "params.yaml", "  max_depth: 8 ", "  max_depth: null ")
    edit(project / "params.yaml", "  C: 1.0 ", "  C: 0.25 ")
    git(project, "commit", "-qam", "Our values")
    repo.copy_from(TEMPLATE)
    repo.release("0.3.0")

    update(project, "0.3.0", trust=True)

    assert conflicted_files(project) == []
    params = (project / "params.yaml").read_text()
    model = yaml.safe_load(params)["model"]
    assert model["type"] == "linear"
    assert model["random_forest"] == {
        "n_estimators": 500,
        "max_depth": None,
        "min_samples_leaf": 2,
        "n_jobs": -1,
    }
    assert model["linear"] == {"C": 0.25}
    assert "    n_estimators: 500\n" in params
    # everything else is the new release's file
    fresh_params = (fresh(repo, tmp_path / "fresh", "0.3.0", project) / "params.yaml").read_text()
    changed = [
        (old, new)
        for old, new in zip(fresh_params.splitlines(), params.splitlines(), strict=True)
        if old != new
    ]
    assert [new.split("#")[0].strip() for _, new in changed] == [
        "type: linear",
        "n_estimators: 500",
        "max_depth: null",
        "C: 0.25",
    ]
