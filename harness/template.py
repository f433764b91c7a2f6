"""The template under test and the one way to render it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import copier
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]


def spec(src: Path = TEMPLATE) -> dict[str, Any]:
    """copier.yml of the template at `src`."""
    loaded = yaml.safe_load((src / "copier.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def questions(src: Path = TEMPLATE) -> dict[str, Any]:
    """The questions of copier.yml at `src` (not settings, not computed values)."""
    return {
        name: value
        for name, value in spec(src).items()
        if not name.startswith("_") and not (isinstance(value, dict) and value.get("when") is False)
    }


SPEC: dict[str, Any] = spec()
QUESTIONS = questions()


def render(dst: Path, src: Path | str = TEMPLATE, *, vcs_ref: str = "HEAD", **data: Any) -> Path:
    """Render the template at `src` into `dst` with `data` answers, defaults for the rest.

    Rejects keys that are not questions of that template's copier.yml (Copier
    silently ignores unknown keys, so a typo would test the defaults). `vcs_ref`
    HEAD renders the working tree, uncommitted changes included; without it Copier
    would render the last tag.
    """
    known = QUESTIONS if Path(src) == TEMPLATE else questions(Path(src))
    unknown = set(data) - set(known)
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    copier.run_copy(
        str(src),
        dst,
        data=data,
        defaults=True,
        vcs_ref=vcs_ref,
        quiet=True,
        unsafe=False,
    )
    return dst
