"""Copier migration: keep the user's edits to a file that a release removes.

Usage (from `_migrations` in copier.yml, stage "before", run inside the project):

    python keep_edited_files.py ANSWERS_FILE TEMPLATE_SRC VERSION_FROM \
        TEMPLATE_PATH=NEW_HOME [TEMPLATE_PATH=NEW_HOME ...]

`copier update` deletes a file that the new release no longer renders, even when
the user edited it. For each TEMPLATE_PATH (a path under template/, Jinja and
all, as it was at VERSION_FROM), this script renders the file as that release
wrote it for this project's answers and compares it with the project's copy. An
edited copy is saved beside it as `<file>.orig` (untracked, so Copier leaves it
alone) and a message names NEW_HOME, where its code lives now; an untouched copy
is left for Copier to delete. Running it again changes nothing.

Runs with Copier's own Python (`_copier_python`), which has PyYAML and Jinja2.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

SUFFIX = ".jinja"


def context(answers_file: Path) -> dict[str, Any]:
    """The answers, plus the computed values the removed files used."""
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    data = {k: v for k, v in answers.items() if not str(k).startswith("_")}
    name = str(data.get("project_name", ""))
    data["project_slug"] = re.sub("[^a-z0-9]+", "-", name.lower()).strip("-")
    return data


def render(text: str, data: dict[str, Any]) -> str:
    """`text` rendered as Copier renders a template file."""
    env = jinja2.Environment(keep_trailing_newline=True, autoescape=False)
    return env.from_string(text).render(**data)


def destination(template_path: str, data: dict[str, Any]) -> Path | None:
    """Where the file lands in the project, or None when these answers skip it.

    As Copier does: drop the `.jinja` suffix, render each part, skip the file
    when a part renders empty.
    """
    parts = [render(part, data) for part in Path(template_path.removesuffix(SUFFIX)).parts]
    if not all(parts):
        return None
    return Path(*parts)


def old_template(src: Path, version: str, template_path: str) -> str | None:
    """The file's source in the template at `version`; None if it had none."""
    result = subprocess.run(
        ["git", "show", f"{version}:template/{template_path}"],
        cwd=src,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def keep(answers_file: Path, src: Path, version: str, moves: list[tuple[str, str]]) -> list[str]:
    """Save edited copies of the removed files; return one message per file."""
    data = context(answers_file)
    messages = []
    for template_path, new_home in moves:
        path = destination(template_path, data)
        if path is None or not path.is_file():
            continue
        source = old_template(src, version, template_path)
        if source is None:
            continue  # not a file of that release: the user's own, Copier keeps it
        # Copier renders `.jinja` files and copies the others as they are.
        old = render(source, data) if template_path.endswith(SUFFIX) else source
        if path.read_text(encoding="utf-8") == old:
            continue  # untouched: Copier deletes it, the new home replaces it
        saved = path.with_name(path.name + ".orig")
        if not saved.exists():
            shutil.copy2(path, saved)
        messages.append(
            f"this release removes {path.as_posix()} (its code moved to "
            f"{render(new_home, data)}); your edited copy is kept as "
            f"{saved.as_posix()}: carry your changes over, then delete it"
        )
    return messages


def main(argv: list[str]) -> int:
    if len(argv) < 4 or not all("=" in arg for arg in argv[3:]):
        print(__doc__, file=sys.stderr)
        return 2
    moves = [(path, home) for path, _, home in (a.partition("=") for a in argv[3:])]
    messages = keep(Path(argv[0]), Path(argv[1]), argv[2], moves)
    for message in messages:
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
