"""dependency_bot renders a config its schema accepts, and the dependency split in
pyproject.toml keeps `uv add` out of the template's block."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.template import render

CHECK_JSONSCHEMA = str(Path(sys.executable).parent / "check-jsonschema")

BOTS = [
    pytest.param({"dependency_bot": "renovate", "ci_provider": "github"}, id="renovate-github"),
    pytest.param({"dependency_bot": "renovate", "ci_provider": "gitlab"}, id="renovate-gitlab"),
    pytest.param({"dependency_bot": "renovate", "ci_provider": "none"}, id="renovate-none"),
    pytest.param(
        {"dependency_bot": "dependabot", "ci_provider": "github", "docker": True},
        id="dependabot-github-docker",
    ),
    pytest.param(
        {"dependency_bot": "dependabot", "ci_provider": "none", "docker": False},
        id="dependabot-none-nodocker",
    ),
]


def validate(path: Path, schema: str) -> None:
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("answers", BOTS)
def test_bot_config_matches_its_schema(tmp_path: Path, answers: dict[str, Any]) -> None:
    root = render(tmp_path / "p", **answers)
    if answers["dependency_bot"] == "renovate":
        assert not (root / ".github/dependabot.yml").exists()
        validate(root / "renovate.json", "vendor.renovate")
        config = json.loads((root / "renovate.json").read_text())
        # Template releases arrive as pull requests; migrations may run (--trust).
        assert config["copier"] == {"enabled": True}
        assert config["ignoreScripts"] is False
        # Dependencies wait a week after release; template releases do not.
        assert config["minimumReleaseAge"] == "7 days"
        assert config["packageRules"][0]["minimumReleaseAge"] is None
        assert {"matchManagers": ["copier"]}.items() <= config["packageRules"][0].items()
        pins_actions = "helpers:pinGitHubActionDigests" in config["extends"]
        assert pins_actions == (answers["ci_provider"] == "github")
    else:
        assert not (root / "renovate.json").exists()
        validate(root / ".github/dependabot.yml", "vendor.dependabot")
        config = yaml.safe_load((root / ".github/dependabot.yml").read_text())
        # zizmor audits Dependabot configs too (cooldown, code execution), offline.
        zizmor = subprocess.run(
            [str(Path(sys.executable).parent / "zizmor"), "--offline", "--no-progress", ".github"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
        assert all(u["cooldown"]["default-days"] >= 7 for u in config["updates"])
        ecosystems = {update["package-ecosystem"] for update in config["updates"]}
        expected = {"uv"}
        if answers["ci_provider"] == "github":
            expected.add("github-actions")
        if answers["docker"]:
            expected.add("docker")
        assert ecosystems == expected


def test_no_bot(tmp_path: Path) -> None:
    root = render(tmp_path / "p", dependency_bot="none")
    assert not (root / "renovate.json").exists()
    assert not (root / ".github/dependabot.yml").exists()


def test_dependabot_with_gitlab_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as error:
        render(tmp_path / "p", dependency_bot="dependabot", ci_provider="gitlab")
    assert str(error.value) == (
        "Invalid choice for 'dependency_bot': ci_provider is gitlab: choose renovate or none"
    )
    assert not (tmp_path / "p").exists()


def test_uv_add_appends_below_the_template_block(tmp_path: Path) -> None:
    """The template's pins and the user's dependencies never share a line's
    neighbourhood, so a pin bump and an added dependency merge cleanly."""
    root = render(tmp_path / "p")
    rendered = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("httpx", "aiobotocore"):  # sorts into the middle, and first
        subprocess.run(["uv", "add", "--frozen", name], cwd=root, check=True, capture_output=True)
    text = (root / "pyproject.toml").read_text()
    dependencies = tomllib.loads(text)["project"]["dependencies"]
    assert dependencies == [*rendered, "httpx", "aiobotocore"]
    marker = text.index("# Your dependencies go below this line")
    assert marker < text.index('"httpx"') and marker < text.index('"aiobotocore"')
