"""Copier migration: rename one answer in a project's answers file.

Usage (from `_migrations` in copier.yml, stage "before", run inside the project):

    python rename_answer.py ANSWERS_FILE OLD_NAME NEW_NAME

Copier reads the answers file again after the "before" migrations, so the renamed
answer is what the new template version sees. A project without OLD_NAME is left
as it is (the migration is idempotent); a project that already has NEW_NAME keeps
that value and loses only the stale OLD_NAME.

Runs with Copier's own Python (`_copier_python`), which always has PyYAML.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import yaml


def rename(answers_file: Path, old: str, new: str) -> str:
    """Rename `old` to `new` in the answers file; return what was done."""
    if not answers_file.is_file():
        raise SystemExit(f"error: {answers_file} not found: run from the project root")
    text = answers_file.read_text(encoding="utf-8")
    answers = yaml.safe_load(text) or {}
    if not isinstance(answers, dict):
        raise SystemExit(f"error: {answers_file} is not a mapping of answers")
    if old not in answers:
        return f"{answers_file}: no answer {old!r}, nothing to rename"
    value = answers.pop(old)
    if new in answers:
        message = f"{answers_file}: dropped stale {old!r}, kept {new}={answers[new]!r}"
    else:
        answers[new] = value
        message = f"{answers_file}: renamed answer {old!r} to {new!r} (value {value!r})"
    lines = text.splitlines(keepends=True)
    header = "".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    body = yaml.safe_dump(answers, sort_keys=True, default_flow_style=False, allow_unicode=True)
    answers_file.write_text(header + body, encoding="utf-8")
    return message


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    print(rename(Path(argv[0]), argv[1], argv[2]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
