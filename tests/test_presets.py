"""Team presets (presets/*.yml): each renders with `copier copy --data-file` and
passes the fast checks (exact file set, everything parses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.template import QUESTIONS, TEMPLATE
from tests.test_render import assert_parses, expected_files, rendered_files

PRESETS = sorted((TEMPLATE / "presets").glob("*.yml"))


def load(preset: Path) -> dict[str, Any]:
    data = yaml.safe_load(preset.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_presets() -> None:
    assert [p.name for p in PRESETS] == ["github-team.yml", "gitlab-self-hosted.yml"]


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_keys_are_questions(preset: Path) -> None:
    # Copier ignores unknown keys silently: a typo would drop a team's choice.
    assert set(load(preset)) <= set(QUESTIONS)


def copy_with_preset(preset: Path, dst: Path, *data: str) -> dict[str, Any]:
    """`copier copy --data-file PRESET [--data K=V ...] --defaults`; the answers."""
    command = [sys.executable, "-m", "copier", "copy", "--data-file", str(preset)]
    for item in data:
        command += ["--data", item]
    command += ["--defaults", "--vcs-ref", "HEAD", "--quiet", str(TEMPLATE), str(dst)]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert isinstance(recorded, dict)
    return recorded


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_renders_and_passes_the_fast_checks(preset: Path, tmp_path: Path) -> None:
    dst = tmp_path / "project"
    recorded = copy_with_preset(preset, dst, "project_name=Churn Model")
    # Every choice of the preset is recorded, so `copier update` keeps it.
    assert {key: recorded[key] for key in load(preset)} == load(preset)
    assert recorded["project_name"] == "Churn Model"
    assert rendered_files(dst) == expected_files(recorded)
    assert_parses(dst)


def test_data_overrides_one_preset_answer(tmp_path: Path) -> None:
    preset = TEMPLATE / "presets/github-team.yml"
    recorded = copy_with_preset(preset, tmp_path / "p", "license=MIT")
    assert recorded["license"] == "MIT"
    assert recorded["author_name"] == "Data Science Team"
