"""The template under test and the one way tests render it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import copier
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
SPEC: dict[str, Any] = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = {
    name: spec
    for name, spec in SPEC.items()
    if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
}


def render(dst: Path, src: Path | str = TEMPLATE, **data: Any) -> Path:
    """Render the template into `dst` with `data` answers and defaults for the rest."""
    unknown = set(data) - set(QUESTIONS)
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    copier.run_copy(
        str(src),
        dst,
        data=data,
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
        unsafe=False,
    )
    return dst
