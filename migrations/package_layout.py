"""Copier migration: the flat package became subpackages; edited modules move along.

Usage (from `_migrations` in copier.yml, run inside the project):

    python package_layout.py before ANSWERS_FILE TEMPLATE_SRC VERSION_FROM
    python package_layout.py after ANSWERS_FILE TEMPLATE_SRC VERSION_FROM

Up to 0.2.x every module sat at the top of `src/<package>/`; now they are grouped
by concern (`training/train.py`, `data/tables.py`, ...: MOVES below, listed in
docs/updating.md). Copier would delete an edited module at its old path and
write the new release's copy at the new one, without the edits.

`before` saves each module the user edited (it differs from what VERSION_FROM
rendered for these answers) beside itself as `<module>.orig`, untracked, so
Copier leaves it alone. `after`, once Copier has written the new layout, merges
the user's edits into the module's new home with `git merge-file` (base: the
old release's module; theirs: the new release's): the imports the release
rewrote and the user's changes both land. A clean merge removes the `.orig`; a
conflict leaves markers in the new file, keeps the `.orig` and says so. A
module of the user's own (not in MOVES) is not touched and stays where it is.

Runs with Copier's own Python (`_copier_python`), which has PyYAML and Jinja2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from keep_edited_files import SUFFIX, context, destination, old_template, render

PKG = "src/{{package_name}}"
TORCH = "{% if deep_learning %}torch_mlp.py{% endif %}"

GROUPS = {
    "core": "arguments artifacts cluster errors files paths progress stores",
    "modeling": "boosting cells families features plots",
    "config": "sections",
    "versioning": "ci gate judging lineage loading provenance registry relocation",
    "data": "demo leakage profile textfiles",
    "monitoring": "contract drift monitor reference",
    "training": "check search_space train train_cluster tune tune_cluster",
    "reporting": (
        "card_text drivers evaluate explain importance insight model_card segmenting trust"
    ),
    "batch": "outputs partitions predict scoring",
}


def moves() -> dict[str, str]:
    """Old template path -> new template path, of every module that moved."""
    table = {
        f"{PKG}/{name}.py": f"{PKG}/{group}/{name}.py"
        for group, names in GROUPS.items()
        for name in names.split()
    }
    table[f"{PKG}/config.py"] = f"{PKG}/config/__init__.py"
    table[f"{PKG}/data.py"] = f"{PKG}/data/tables.py"
    table[f"{PKG}/validation.py"] = f"{PKG}/training/uncertainty.py"
    table[f"{PKG}/tracking.py.jinja"] = f"{PKG}/versioning/tracking.py.jinja"
    table[f"{PKG}/{TORCH}"] = f"{PKG}/modeling/{TORCH}"
    table[f"{PKG}/tasks/__init__.py"] = f"{PKG}/modeling/tasks/__init__.py"
    for task, name in (
        ("classification", "classification"),
        ("classification", "calibration"),
        ("classification", "class_plots"),
        ("regression", "regression"),
    ):
        file = f"{{% if task == '{task}' %}}{name}.py{{% endif %}}"
        table[f"{PKG}/tasks/{file}"] = f"{PKG}/modeling/tasks/{file}"
    return table


MOVES = moves()


def old_text(data: dict[str, object], src: Path, version: str, old: str) -> str | None:
    """The module as VERSION_FROM wrote it for these answers, or None if it had none.

    Early releases kept some modules as `.py.jinja` (train.py.jinja in 0.2.0):
    the one that exists at that version is rendered as Copier renders it.
    """
    for template_path in (old, old + SUFFIX):
        source = old_template(src, version, template_path)
        if source is not None:
            return render(source, data) if template_path.endswith(SUFFIX) else source
    return None


def edited(data: dict[str, object], src: Path, version: str) -> list[tuple[Path, Path, str]]:
    """(old path, new path, old release's text) of each moved module the user edited."""
    found = []
    for old, new in MOVES.items():
        path = destination(old, data)
        target = destination(new, data)
        if path is None or target is None or not path.is_file():
            continue
        base = old_text(data, src, version, old.removesuffix(SUFFIX))
        if base is None:
            continue  # not a module of that release: the user's own, left alone
        if path.read_text(encoding="utf-8") != base:
            found.append((path, target, base))
    return found


def before(data: dict[str, object], src: Path, version: str) -> list[str]:
    for path, _, _ in edited(data, src, version):
        saved = path.with_name(path.name + ".orig")
        if not saved.exists():
            saved.write_bytes(path.read_bytes())
    return []


def merge(mine: Path, base: str, theirs: Path) -> tuple[str, bool]:
    """`git merge-file` of the user's module into the new release's; (text, clean)."""
    base_file = mine.with_name(mine.name + ".base")
    base_file.write_text(base, encoding="utf-8")
    try:
        result = subprocess.run(
            [
                "git",
                "merge-file",
                "--stdout",
                "-L",
                "your edits",
                "-L",
                "the release you had",
                "-L",
                "this release",
                str(mine),
                str(base_file),
                str(theirs),
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    finally:
        base_file.unlink()
    if result.returncode < 0 or result.returncode > 127:
        raise SystemExit(f"git merge-file failed on {mine}: {result.stderr.strip()}")
    return result.stdout, result.returncode == 0


def after(data: dict[str, object], src: Path, version: str) -> list[str]:
    messages = []
    for old, new in MOVES.items():
        path = destination(old, data)
        target = destination(new, data)
        if path is None or target is None:
            continue
        saved = path.with_name(path.name + ".orig")
        base = old_text(data, src, version, old.removesuffix(SUFFIX))
        if not saved.is_file() or base is None or not target.is_file():
            continue
        text, clean = merge(saved, base, target)
        target.write_text(text, encoding="utf-8")
        if clean:
            saved.unlink()
            messages.append(f"moved your edits of {path.as_posix()} to {target.as_posix()}")
        else:
            messages.append(
                f"moved your edits of {path.as_posix()} to {target.as_posix()}, with "
                f"conflict markers where this release changed the same lines: resolve "
                f"them; your copy is kept as {saved.as_posix()}, delete it then"
            )
    return messages


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("before", "after"):
        print(__doc__, file=sys.stderr)
        return 2
    stage, answers_file, src, version = argv
    data = context(Path(answers_file))
    step = before if stage == "before" else after
    for message in step(data, Path(src), version):
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
