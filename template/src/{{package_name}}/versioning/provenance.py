"""Is this run committed work or an experiment?

Only committed work enters the model registry (registry.py). A run is an
experiment when DVC runs it as one (`dvc exp run` sets DVC_EXP_NAME) or when the
git working tree has uncommitted changes to files the pipeline reads: such a run
is logged and tagged in MLflow but never registered, so it cannot move the
champion. Files the pipeline itself writes (dvc.lock and the outputs dvc.yaml
names) do not count. Outside a git repository there is nothing to compare with:
the run counts as committed.
"""

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

PIPELINE = Path("dvc.yaml")
SHOWN = 3
"""Changed files named in the reason; the rest are counted."""


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout


def pipeline_outputs(root: Path) -> set[str]:
    """dvc.lock and every path a stage of dvc.yaml writes (outs, metrics, plots)."""
    written = {"dvc.lock"}
    try:
        stages = yaml.safe_load((root / PIPELINE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return written
    for stage in (stages or {}).get("stages", {}).values():
        for key in ("outs", "metrics", "plots"):
            entry: Any
            for entry in stage.get(key, []) if isinstance(stage, dict) else []:
                name = next(iter(entry)) if isinstance(entry, dict) else entry
                written.add(str(name).rstrip("/"))
    return written


def changed_files(root: Path) -> list[str] | None:
    """Tracked files that differ from the last commit, except the pipeline's own
    outputs; None outside a git repository."""
    if _git(root, "rev-parse", "--is-inside-work-tree") is None:
        return None
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD") is None:
        return ["(no commit yet)"]
    listed = _git(root, "diff", "HEAD", "--name-only", "--relative", "-z") or ""
    written = pipeline_outputs(root)
    return [
        name
        for name in listed.split("\0")
        if name
        and not any(name == out or name.startswith(f"{out}/") for out in written)
    ]


def experiment(root: Path) -> str:
    """Why this run is an experiment (not to be registered), or "" if it is not."""
    name = os.environ.get("DVC_EXP_NAME")
    if name:
        return f"a DVC experiment ({name})"
    changed = changed_files(root)
    if not changed:
        return ""
    shown = ", ".join(changed[:SHOWN])
    more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    return (
        f"a run from uncommitted changes ({shown}{more}); commit them and run "
        "`dvc repro` to register the model"
    )
