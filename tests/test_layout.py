"""The generated package reads as a map (issue 22): a few entries at its top, a dozen
modules at most in each subpackage, no import cycle, and imports between subpackages
going one way, down the layers below.

Fast tier: renders the template (no `uv sync`) and reads each module's imports with
`ast`, function-level imports included (a lazy import is a dependency too).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from harness.template import render

PACKAGE = "demo"
MAX_TOP = 12
MAX_MODULES = 12

# Each unit of the package and the units it may import. A unit is a subpackage
# or a module at the top; `root` is the package's __init__ (TASK, DISTRIBUTION,
# __version__), which any unit may import. The same table is in the generated
# docs/development.md: keep the two in step.
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "modeling": {"core"},
    "config": {"core", "modeling"},
    "versioning": {"core", "modeling", "config"},
    "data": {"core", "modeling", "config", "versioning"},
    "monitoring": {"core", "modeling", "config", "versioning", "data"},
    "training": {"core", "modeling", "config", "versioning", "data", "monitoring"},
    "reporting": {"core", "modeling", "config", "versioning", "data", "monitoring", "training"},
    "batch": {
        *("core", "modeling", "config", "versioning", "data", "monitoring"),
        "reporting",
    },
    "serving": {
        *("core", "modeling", "config", "versioning", "data", "monitoring"),
        *("reporting", "batch"),
    },
    "cli": {
        *("core", "modeling", "config", "versioning", "data", "monitoring"),
        *("training", "reporting", "batch", "serving"),
    },
    "root": set(),
}

# Every answer that adds a module: the classification task, the regression task.
ANSWER_SETS: list[dict[str, Any]] = [
    {"task": "classification", "serving": True, "deep_learning": True},
    {"task": "regression", "serving": False},
]


def modules(src: Path) -> dict[str, Path]:
    """Dotted module name (package-relative, "" for the root) -> file."""
    found: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def is_package(src: Path, name: str) -> bool:
    return (src.joinpath(*name.split(".")) / "__init__.py").is_file() if name else True


def imports(src: Path, name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that module `name` imports, anywhere in its body."""
    package = name if is_package(src, name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [
                alias.name.removeprefix(PACKAGE).lstrip(".")
                for alias in node.names
                if alias.name.split(".")[0] == PACKAGE
            ]
            found.update(t for t in targets if t in known)
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)]
            assert len(base) >= 0, f"{path}: import above the package"
            target = ".".join([*base, *([node.module] if node.module else [])])
        elif node.module and node.module.split(".")[0] == PACKAGE:
            target = node.module.removeprefix(PACKAGE).lstrip(".")
        else:
            continue
        assert target in known, f"{path}: imports {target!r}, not a module of the package"
        for alias in node.names:
            sub = f"{target}.{alias.name}" if target else alias.name
            found.add(sub if sub in known else target)
    found.discard(name)
    return found


def unit(name: str) -> str:
    return name.split(".")[0] if name else "root"


def graph(src: Path) -> dict[str, set[str]]:
    known = modules(src)
    return {name: imports(src, name, path, known) for name, path in known.items()}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of modules, or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


@pytest.fixture(scope="module", params=ANSWER_SETS, ids=lambda a: a["task"])
def package(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = render(tmp_path_factory.mktemp("layout") / "p", project_name="Demo", **request.param)
    return root / "src" / PACKAGE


def entries(folder: Path) -> list[str]:
    """Modules and subpackages directly in a folder."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").is_file())
    )


def test_few_entries_at_the_top(package: Path) -> None:
    top = entries(package)
    assert len(top) <= MAX_TOP, top
    assert {p.removesuffix(".py") for p in top} - {"__init__"} <= set(LAYERS), top


def test_few_modules_in_each_subpackage(package: Path) -> None:
    for init in package.rglob("__init__.py"):
        if init.parent == package:
            continue
        inside = [p for p in entries(init.parent) if p.endswith(".py")]
        assert len(inside) <= MAX_MODULES, (init.parent.name, inside)


def test_no_import_cycle(package: Path) -> None:
    assert cycle(graph(package)) == []


def test_imports_between_subpackages_go_down_the_layers(package: Path) -> None:
    wrong = sorted(
        f"{name or '__init__'} imports {target}"
        for name, targets in graph(package).items()
        for target in targets
        if unit(target) != unit(name)
        and unit(target) != "root"
        and unit(target) not in LAYERS[unit(name)]
    )
    assert wrong == []


def test_the_root_imports_nothing_of_the_package(package: Path) -> None:
    assert graph(package)[""] == set()


def test_the_checker_sees_a_cycle_and_a_wrong_direction(tmp_path: Path) -> None:
    """The checks above can fail: a planted cycle and an upward import are found."""
    src = tmp_path / PACKAGE
    for folder in ("core", "training"):
        (src / folder).mkdir(parents=True)
        (src / folder / "__init__.py").write_text("")
    (src / "__init__.py").write_text("")
    (src / "core" / "paths.py").write_text("def f():\n    from ..training import train\n")
    (src / "training" / "train.py").write_text("from ..core import paths\n")
    edges = graph(src)
    assert edges["core.paths"] == {"training.train"}
    assert cycle(edges) == ["core.paths", "training.train", "core.paths"]
    assert "training" not in LAYERS[unit("core.paths")]


def test_the_development_docs_give_the_same_layers(package: Path) -> None:
    """The project's docs/development.md lists each unit with what it may import."""
    text = (package.parents[1] / "docs" / "development.md").read_text(encoding="utf-8")
    present = {name.removesuffix(".py") for name in entries(package)}
    for name, allowed in LAYERS.items():
        if name not in present:
            assert f"| `{name}` |" not in text, name
            continue
        below = ", ".join(u for u in LAYERS if u in allowed and u in present) or "nothing"
        assert f"| `{name}` | {below} |" in text, name


def test_the_update_migration_moves_every_module_of_the_flat_layout() -> None:
    """migrations/package_layout.py has a new home for each module the last flat
    layout had (the commit before the move), and each home is a template file."""
    import subprocess
    import sys

    from harness.template import TEMPLATE

    sys.path.insert(0, str(TEMPLATE / "migrations"))
    try:
        from package_layout import MOVES
    finally:
        sys.path.remove(str(TEMPLATE / "migrations"))
    package = "template/src/{{package_name}}"
    moved = subprocess.run(
        ["git", "log", "--diff-filter=D", "--format=%H", "--", f"{package}/train.py"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not moved:
        pytest.skip("no history: the commit that moved the modules is not in this clone")
    flat = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", f"{moved[-1]}^", "--", package],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    stays = {"__init__.py.jinja", "cli.py.jinja", "py.typed"}
    old = {
        path.removeprefix("template/")
        for path in flat
        if "/{% if serving %}serving{% endif %}/" not in path
        and path.removeprefix(f"{package}/") not in stays
    }
    assert old == set(MOVES)
    for new in MOVES.values():
        assert (TEMPLATE / "template" / new).is_file(), new
