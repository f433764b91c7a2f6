"""`make demo`: render the template with its defaults and run the generated pipeline.

Usage (from the repository root): uv run python -m scripts.demo [DESTINATION]
(default: a new temporary folder)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from harness.project import Project


def main() -> int:
    if len(sys.argv) > 1:
        dest = Path(sys.argv[1]).resolve()
        if dest.exists() and any(dest.iterdir()):
            print(f"error: {dest} is not empty; pass a new folder", file=sys.stderr)
            return 1
    else:
        dest = Path(tempfile.mkdtemp(prefix="copier-mlops-demo-")) / "my-ml-project"
    try:
        # The project's own .venv and DVC's usual site cache: the demo is what a user gets.
        project = Project.create(dest, echo=True, private_site_cache=False)
        project.repro()
    except AssertionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    metrics = json.loads((dest / "reports/metrics.json").read_text())
    print("\n==> Done. Look at:")
    print(f"  metrics      {dest / 'reports/metrics.json'}  {metrics}")
    print(f"  plots        {dest / 'reports/figures'}")
    print(f"  model card   {dest / 'MODEL_CARD.md'}")
    print(f"  MLflow store {dest / 'mlflow.db'} (artifacts in {dest / 'mlruns'})")
    print(f"  browse runs  cd {dest} && uv run mlflow ui --backend-store-uri sqlite:///mlflow.db")
    return 0


if __name__ == "__main__":
    sys.exit(main())
