"""CI's pipeline job: is the data params.yaml names in this clone?

`python -m <package>.ci` exits 0 when `dvc repro` can run here: the file
`data.path` names is in the checkout (committed, or fetched by `dvc pull` from the
DVC remote), or a stage of dvc.yaml makes it (the demo data). Otherwise it prints
one notice naming the file and how to get it here, and exits with MISSING: the CI
job skips `dvc repro` and ends green, since a clone without the data cannot
reproduce the pipeline whatever the change under review. Any other status is an
error (a bad params.yaml, say).
"""

import os
import subprocess
import sys
from pathlib import Path

from ..config import load_config
from ..core import paths
from ..core.errors import ProjectError
from .provenance import pipeline_outputs

MISSING = 78
"""Exit status when the data is not in the clone (the job skips the pipeline)."""
ADD_REMOTE = (
    "add a DVC remote and push the data: `uv run dvc remote add -d storage "
    "s3://bucket/path`, commit .dvc/config, `uv run dvc push`, and set the "
    "remote's credentials as CI secrets (see the README)"
)


def has_remote(root: Path) -> bool:
    """Whether the project names a DVC remote (`dvc remote list`)."""
    listed = subprocess.run(
        ["dvc", "remote", "list"], cwd=root, capture_output=True, text=True, check=False
    )
    return bool(listed.stdout.strip())


def missing_data(root: Path) -> str:
    """Why `dvc repro` cannot run here for want of data, or "" if it can."""
    path = load_config(root / paths.PARAMS).data.path
    if (root / path).exists() or path.as_posix() in pipeline_outputs(root):
        return ""
    if has_remote(root):
        return (
            f"{path} is not in this clone and `dvc pull` did not fetch it: push it "
            "with `uv run dvc push`, and check the remote's credentials in the CI "
            "secrets; dvc repro skipped"
        )
    return (
        f"{path} is not in this clone and there is no DVC remote to pull it from: "
        f"{ADD_REMOTE}; dvc repro skipped"
    )


def main() -> int:
    """Print the notice, if any; the exit status says whether to run the pipeline."""
    try:
        why = missing_data(Path.cwd())
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not why:
        return 0
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::notice title=Pipeline skipped::{why}")
    else:
        print(f"notice: {why}")
    return MISSING


if __name__ == "__main__":
    sys.exit(main())
