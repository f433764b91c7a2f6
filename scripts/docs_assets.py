"""Refresh the images and excerpts the docs show from a real demo run.

Renders the template with its defaults (once per task), runs the generated pipeline
exactly as a user would (git init, uv sync, uv run dvc repro), and copies what it
made into docs/assets/demo/<task>/: the PNG plots, MODEL_CARD.md, metrics.json,
params.yaml, dvc.yaml, `dvc dag`, a summary of the MLflow run read back with
MlflowClient, and a screenshot of the rendered model card (headless Chromium).

Usage: uv run python scripts/docs_assets.py   (then commit docs/assets/demo/)
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import markdown
from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "docs" / "assets" / "demo"
TASKS = ("classification", "regression")
COPIED = ("MODEL_CARD.md", "params.yaml", "dvc.yaml", "reports/metrics.json")

# Reads the run that `evaluate` just logged, through MLflow's own client.
READ_RUN = """
import json
from pathlib import Path
from mlflow.tracking import MlflowClient
from {package}.tracking import experiment_name, tracking_uri
client = MlflowClient(tracking_uri(Path.cwd()))
experiment = client.get_experiment_by_name(experiment_name())
run = client.search_runs([experiment.experiment_id])[0]
artifacts, stack = [], [""]
while stack:
    for item in client.list_artifacts(run.info.run_id, stack.pop() or None):
        (stack if item.is_dir else artifacts).append(item.path)
models = client.search_logged_models([experiment.experiment_id])
print(json.dumps({{
    "experiment": experiment.name,
    "run_id": run.info.run_id,
    "params": run.data.params,
    "metrics": run.data.metrics,
    "tags": {{k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}},
    "artifacts": sorted(artifacts),
    "logged_models": [m.name for m in models],
}}, indent=2, sort_keys=True))
"""

CARD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
body {{ font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 860px; margin: 24px auto; color: #1f2328; padding: 0 24px; }}
h1, h2 {{ border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }}
table {{ border-collapse: collapse; margin: 12px 0; }}
td, th {{ border: 1px solid #d1d9e0; padding: 4px 12px; }}
code, pre {{ background: #f6f8fa; font-size: 13px; }}
pre {{ padding: 12px; overflow: hidden; }}
img {{ max-width: 48%; margin: 4px; border: 1px solid #eee; }}
</style></head><body>
<pre>{front_matter}</pre>
{body}
</body></html>
"""


def run(*command: str, cwd: Path, env: dict[str, str]) -> str:
    print(f"  $ {' '.join(command)}", flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return result.stdout


# Headless Chromium with nothing that reaches the network; tests/test_docs.py too.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium() -> str:
    found = find_chromium()
    if found is None:
        raise SystemExit("error: chromium not found; install it (apt-get install chromium)")
    return found


def screenshot(page: Path, png: Path, width: int, height: int) -> None:
    """Headless Chromium screenshot of a local HTML file."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                *BROWSER_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def card_screenshot(project: Path, png: Path) -> None:
    """The model card as a reader sees it on a code host, plots included."""
    text = (project / "MODEL_CARD.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    html_body = markdown.markdown(body, extensions=["tables", "fenced_code"])
    page = project / "model_card_preview.html"
    page.write_text(
        CARD_PAGE.format(front_matter=html.escape("---\n" + front + "---"), body=html_body),
        encoding="utf-8",
    )
    screenshot(page, png, 960, 4800)
    page.unlink()
    trim_bottom(png)


def trim_bottom(png: Path, margin: int = 24) -> None:
    """Cut the blank space below the page's content (the window is taller)."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is not None:
        rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + margin))).save(png, optimize=True)


def demo(task: str, workdir: Path) -> None:
    print(f"==> {task}", flush=True)
    project = workdir / f"{task}-demo"
    copier.run_copy(
        str(ROOT), project, data={"task": task}, defaults=True, vcs_ref="HEAD", quiet=True
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "MLFLOW_TRACKING_URI"}
    }
    env.update({"DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true"})
    run("git", "init", "-q", cwd=project, env=env)
    run("git", "add", "-A", cwd=project, env=env)
    run(
        "git",
        "-c",
        "user.name=docs",
        "-c",
        "user.email=docs@example.com",
        "commit",
        "-qm",
        "Render from copier-mlops",
        cwd=project,
        env=env,
    )
    run("uv", "sync", "--quiet", cwd=project, env=env)
    run("uv", "run", "--frozen", "dvc", "repro", cwd=project, env=env)

    out = ASSETS / task
    shutil.rmtree(out, ignore_errors=True)
    (out / "figures").mkdir(parents=True)
    for png in sorted((project / "reports/figures").glob("*.png")):
        shutil.copy2(png, out / "figures" / png.name)
    for name in COPIED:
        shutil.copy2(project / name, out / Path(name).name)
    dag = run("uv", "run", "--frozen", "dvc", "dag", cwd=project, env=env)
    (out / "dvc_dag.txt").write_text(dag, encoding="utf-8")
    shown = run("uv", "run", "--frozen", "dvc", "metrics", "show", cwd=project, env=env)
    (out / "dvc_metrics_show.txt").write_text(shown, encoding="utf-8")
    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    package = next(
        line.split(":", 1)[1].strip()
        for line in answers.splitlines()
        if line.startswith("package_name:")
    )
    summary = run(
        "uv",
        "run",
        "--frozen",
        "python",
        "-c",
        READ_RUN.format(package=package),
        cwd=project,
        env=env,
    )
    (out / "mlflow_run.json").write_text(summary, encoding="utf-8")
    card_screenshot(project, out / "model_card.png")
    print(f"  wrote {out.relative_to(ROOT)}", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="copier-mlops-docs-") as tmp:
        for task in TASKS:
            demo(task, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
