"""The generated README's "Layout" section lists exactly the package's modules.

Fast tier: renders only. A module added, removed or moved in template/src without
the README following it fails here, for every variant that changes the module set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.template import render

VARIANTS: dict[str, dict[str, Any]] = {
    "classification-serving": {"task": "classification", "serving": True},
    "regression-no-serving": {"task": "regression", "serving": False},
    "deep-learning": {"deep_learning": True, "torch_index": "pypi"},
}


def layout_modules(readme: str, package: str) -> set[str]:
    """The files the Layout block lists under src/<package>/, as relative paths.

    An entry is the text before the first double space; `a.py, b.py` lists two;
    a name ending in `/` is a package (its `__init__.py`) whose entries are
    indented below it.
    """
    section = readme.split("\n## Layout\n", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0].splitlines()
    start = block.index(f"src/{package}/")
    listed: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, prefix) of the enclosing folders
    for line in block[start + 1 :]:
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            break
        while folders and folders[-1][0] >= indent:
            folders.pop()
        prefix = folders[-1][1] if folders else ""
        for name in line.strip().split("  ", 1)[0].split(", "):
            if name.endswith("/"):
                folders.append((indent, prefix + name))
                listed.add(f"{prefix}{name}__init__.py")
            else:
                listed.add(prefix + name)
    return listed


@pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())
def test_readme_layout_lists_every_module(tmp_path: Path, answers: dict[str, Any]) -> None:
    root = render(tmp_path / "p", **answers)
    package = "my_ml_project"
    modules = {
        path.relative_to(root / "src" / package).as_posix()
        for path in (root / "src" / package).rglob("*.py")
    }
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert layout_modules(readme, package) == modules


def test_layout_parser_reads_folders_and_shared_lines() -> None:
    readme = (
        "# p\n\n## Layout\n\n```text\nparams.yaml   settings\nsrc/pkg/\n"
        "  cli.py       command\n  metrics.py, plots.py   evaluate\n"
        "  serving/     the API\n    app.py     routes\n  train.py     stage\n"
        "tests/        pytest\n```\n"
    )
    assert layout_modules(readme, "pkg") == {
        "cli.py",
        "metrics.py",
        "plots.py",
        "serving/__init__.py",
        "serving/app.py",
        "train.py",
    }
