"""params.yaml's layout keeps the user's values and the template's words apart.

`copier update` merges line by line: a release that rewords a comment on (or right
next to) a line whose value the user changed conflicts there. So no comment shares
a line with a value, and every comment block is bordered by blank or key-only
lines; and the file is written the way `dvc exp run` rewrites it (empty for null,
no flow lists with items), so an experiment changes only values.
tests/test_update.py checks the merge itself.
"""

from __future__ import annotations

import re

import jinja2
import pytest
import yaml

from harness.template import TEMPLATE

SOURCE = TEMPLATE / "template" / "params.yaml.jinja"


def rendered(task: str) -> list[str]:
    text = jinja2.Template(SOURCE.read_text(), keep_trailing_newline=True).render(
        task=task, package_name="demo"
    )
    return text.splitlines()


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_no_comment_on_or_next_to_a_value_line(task: str) -> None:
    lines = rendered(task)
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("#"):
            assert "#" not in stripped, f"a comment on a value's line: {line!r}"
            continue
        for near in (lines[number - 1] if number else "", lines[number + 1]):
            inner = near.strip()
            assert not inner or inner.startswith("#") or inner.endswith(":"), (
                f"comment {line!r} next to the value line {near!r}"
            )


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_written_as_dvc_writes_it(task: str) -> None:
    lines = rendered(task)
    assert not [line for line in lines if re.search(r":\s+null\s*$", line)]
    assert not [line for line in lines if re.search(r":\s+\[[^\]]", line)]
    # The user's data settings sit between the section's name and its seed. A
    # list is followed by a setting: DVC drops blank lines and comments after a
    # list it rewrites.
    data = lines.index("data:")
    assert [line.split(":")[0].strip() for line in lines[data : data + 6]] == [
        "data",
        "path",
        "target",
        "drop",
        "na_values",
        "seed",
    ]
    for number, line in enumerate(lines):
        if line.endswith(": []"):
            assert re.fullmatch(r"\s+\w+: \S.*", lines[number + 1]), line
    loaded = yaml.safe_load("\n".join(lines))
    assert loaded["tune"]["timeout"] is None and loaded["data"]["drop"] == []
