"""Copier migration: carry the user's `model:` values into the per-family sections.

Until 0.3.0 params.yaml's `model:` section was flat (`model.n_estimators`, ...);
since then each family reads its own section (`model.random_forest.n_estimators`).
A value the user changed in the flat section collides with the moved lines in
Copier's 3-way merge: it ends up in a conflict block, the user's flat lines on
one side, the template's new sections on the other. Usage (from `_migrations` in
copier.yml, stage "after", run inside the project):

    python nest_model_params.py

For each conflict in params.yaml whose user side holds old flat model keys
(`type`, `n_estimators`, `max_depth`, `min_samples_leaf`, `C`, `alpha`), this
script keeps the template's side and writes the user's values into the section
of the family that reads each key, comments kept. Conflicts elsewhere stay for
the user. An untouched project has no such conflict and is left as it is;
running the script again changes nothing.

Runs with Copier's own Python (`_copier_python`), which has PyYAML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PARAMS = Path("params.yaml")
# The flat keys of the old `model:` section and the family that reads each.
FAMILY = {
    "n_estimators": "random_forest",
    "max_depth": "random_forest",
    "min_samples_leaf": "random_forest",
    "C": "linear",
    "alpha": "linear",
}
CONFLICT = re.compile(r"<<<<<<< [^\n]*\n(.*?)=======\n(.*?)>>>>>>> [^\n]*\n", re.S)


def _resolve(text: str) -> tuple[str, dict[str, Any]]:
    """Take the template's side of conflicts holding flat model keys; return the
    text and the user's values from those conflicts' other side."""
    values: dict[str, Any] = {}

    def resolve(match: re.Match[str]) -> str:
        ours, theirs = match.group(1), match.group(2)
        found = dict(re.findall(r"^  ([A-Za-z_]+): ([^#\n]*?)\s*(?:#.*)?$", ours, re.M))
        flat = {k: v for k, v in found.items() if k in FAMILY or k == "type"}
        if not flat:
            return match.group(0)
        values.update({k: yaml.safe_load(v) for k, v in flat.items()})
        return theirs

    return CONFLICT.sub(resolve, text), values


def _set(text: str, family: str, key: str, value: Any) -> str:
    """`key: value` inside `model.<family>:`, the line's comment kept."""
    lines = text.splitlines(keepends=True)
    section = None
    for index, line in enumerate(lines):
        header = re.match(r"^  ([A-Za-z_]+):\s*(#.*)?$", line)
        if header:
            section = header.group(1)
        elif not line.startswith("  "):
            section = None
        match = re.match(rf"^(    {re.escape(key)}: )([^#\n]*?)(\s*#.*)?\n$", line)
        if section == family and match:
            dumped = yaml.safe_dump(value, default_flow_style=True).strip()
            dumped = dumped.removesuffix("\n...").removesuffix("...").strip()
            lines[index] = f"{match.group(1)}{dumped}{match.group(3) or ''}\n"
            break
    return "".join(lines)


def main() -> None:
    """Resolve the model conflicts of the merged params.yaml, values carried."""
    if not PARAMS.is_file():
        return
    text, saved = _resolve(PARAMS.read_text(encoding="utf-8"))
    if not saved:
        return
    for key, value in saved.items():
        if key == "type":
            text = re.sub(r"^(  type: )[A-Za-z_]+", rf"\g<1>{value}", text, count=1, flags=re.M)
        else:
            text = _set(text, FAMILY[key], key, value)
    PARAMS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
