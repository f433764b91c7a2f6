"""A private copy of the template in its own git repository, for update tests.

`copier update` goes from one template version (a git tag) to another. Tests need
to control what "old" and "new" are, so `TemplateRepo` copies this template (the
working tree: copier.yml, template/, migrations/; never .git) into a temporary
git repository, where a test edits files and tags releases. Projects are rendered
from such a tag and updated to a later one, exactly as a user's project is.

Copier records the template source as the absolute path of that repository; an
update finds the old version there by its tag.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import yaml

from harness.env import commit_all, git
from harness.template import QUESTIONS, TEMPLATE, compiled_once, render

# What Copier reads from a template repository. Everything else (tests, docs, the
# dev environment) is no part of a release as far as Copier is concerned.
TEMPLATE_PARTS = ("copier.yml", "template", "migrations")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store")
ANSWERS = ".copier-answers.yml"


@dataclass
class TemplateRepo:
    """A git repository holding one copy of the template, with tagged versions."""

    path: Path

    @classmethod
    def create(cls, path: Path, source: Path = TEMPLATE) -> TemplateRepo:
        path.mkdir(parents=True)
        repo = cls(path)
        repo.copy_from(source)
        commit_all(path, "template")
        return repo

    @classmethod
    def from_commit(cls, path: Path, commit: str, source: Path = TEMPLATE) -> TemplateRepo:
        """A copy of the template as it was at `commit` of `source`'s own history."""
        path.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "--", *TEMPLATE_PARTS],
            cwd=source,
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            # Older commits may lack a part (migrations/ came later): archive what exists.
            present = [
                part
                for part in TEMPLATE_PARTS
                if git(source, "ls-tree", "--name-only", commit, "--", part).strip()
            ]
            archive = subprocess.run(
                ["git", "archive", "--format=tar", commit, "--", *present],
                cwd=source,
                capture_output=True,
                check=True,
            )
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive.stdout, check=True)
        commit_all(path, f"template at {commit}")
        return cls(path)

    def copy_from(self, source: Path = TEMPLATE) -> None:
        """Make the template parts exactly those of `source`'s working tree (as git
        sees it: tracked and new files, uncommitted changes included, ignored ones not)."""
        for part in TEMPLATE_PARTS:
            target = self.path / part
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        # The files git would commit: tracked or new, never ignored (caches, venvs).
        listed = git(
            source,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            *TEMPLATE_PARTS,
        )
        for relative in sorted(set(listed.split("\0")) - {""}):
            src = source / relative
            if src.is_file() and not IGNORE(str(src.parent), [src.name]):
                (self.path / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, self.path / relative)

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def replace(self, relative: str, old: str, new: str) -> None:
        """Change the template: replace exactly one occurrence of `old`."""
        text = self.read(relative)
        assert text.count(old) == 1, f"{relative}: expected one {old!r}, found {text.count(old)}"
        self.write(relative, text.replace(old, new))

    def release(self, tag: str) -> str:
        """Commit whatever changed and tag it; return the commit."""
        commit = commit_all(self.path, f"release {tag}")
        git(self.path, "tag", tag)
        return commit

    def render(self, dst: Path, vcs_ref: str, **data: Any) -> Path:
        """`copier copy --vcs-ref REF`, then `git init` and commit, as a user would."""
        render(dst, self.path, vcs_ref=vcs_ref, **data)
        commit_all(dst, f"Render copier-mlops {vcs_ref}")
        return dst

    def tags(self) -> list[str]:
        return git(self.path, "tag", "--list").split()


def update(
    project: Path,
    vcs_ref: str,
    *,
    trust: bool = True,
    commit: bool = False,
    **data: Any,
) -> None:
    """`copier update --defaults --trust --vcs-ref REF [-d KEY=VALUE ...]` with inline
    conflicts.

    `trust` is `--trust`: every update runs the template's migrations (one of them,
    migrations/keep_removed_edits.py, on every update), so Copier refuses without it.
    """
    unknown = set(data) - set(QUESTIONS)
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    with compiled_once():
        copier.run_update(
            project,
            data=data,
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=True,
            unsafe=trust,
            conflict="inline",
            quiet=True,
            skip_answered=False,
        )
    if commit:
        commit_all(project, f"Update to copier-mlops {vcs_ref}")


def tree(root: Path, exclude: Iterable[str] = ()) -> dict[str, str]:
    """Every file under `root` except .git, as {relative path: content}."""
    skipped = set(exclude)
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(".git/") and relative not in skipped:
            # Lossless for any bytes, so a binary file compares exactly too.
            files[relative] = path.read_bytes().decode("utf-8", errors="surrogateescape")
    return files


def answers(project: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project / ANSWERS).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def conflicted_files(project: Path) -> list[str]:
    """Files holding conflict markers, and leftover *.rej, as `git status` sees them."""
    found = []
    for path in project.rglob("*"):
        relative = path.relative_to(project).as_posix()
        if relative.startswith(".git/") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".rej" or "<<<<<<< " in text:
            found.append(relative)
    return sorted(found)


def conflict_blocks(text: str) -> list[tuple[str, str]]:
    """The (project side, template side) of each inline conflict in `text`."""
    blocks = []
    ours: list[str] = []
    theirs: list[str] = []
    state = None
    for line in text.splitlines():
        if line.startswith("<<<<<<< "):
            state, ours, theirs = "ours", [], []
        elif line.startswith("||||||| ") and state == "ours":
            state = "base"  # diff3 style: the common ancestor, not asserted on
        elif line == "=======" and state in {"ours", "base"}:
            state = "theirs"
        elif line.startswith(">>>>>>> ") and state == "theirs":
            blocks.append(("\n".join(ours), "\n".join(theirs)))
            state = None
        elif state == "ours":
            ours.append(line)
        elif state == "theirs":
            theirs.append(line)
    return blocks
