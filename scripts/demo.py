"""`make demo`: render the template with its defaults and run the generated pipeline.

Usage: python scripts/demo.py [DESTINATION]   (default: a new temporary folder)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import copier

TEMPLATE = Path(__file__).resolve().parents[1]


def step(title: str, *command: str, cwd: Path, env: dict[str, str]) -> None:
    print(f"\n==> {title}: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=cwd, env=env, check=True)


def main() -> int:
    if len(sys.argv) > 1:
        dest = Path(sys.argv[1]).resolve()
        if dest.exists() and any(dest.iterdir()):
            print(f"error: {dest} is not empty; pass a new folder", file=sys.stderr)
            return 1
    else:
        dest = Path(tempfile.mkdtemp(prefix="copier-mlops-demo-")) / "my-ml-project"
    print(f"==> Rendering {TEMPLATE} with defaults into {dest}", flush=True)
    copier.run_copy(str(TEMPLATE), dest, defaults=True, vcs_ref="HEAD", quiet=True)

    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    }
    env.setdefault("DVC_NO_ANALYTICS", "1")
    step("git", "git", "init", "-q", cwd=dest, env=env)
    step("git", "git", "add", "-A", cwd=dest, env=env)
    step(
        "git",
        "git",
        "-c",
        "user.name=copier-mlops demo",
        "-c",
        "user.email=demo@example.com",
        "commit",
        "-qm",
        "Render from copier-mlops",
        cwd=dest,
        env=env,
    )
    step("install", "uv", "sync", cwd=dest, env=env)
    step("pipeline", "uv", "run", "dvc", "repro", cwd=dest, env=env)

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
