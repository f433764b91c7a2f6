"""Refresh the images and excerpts the docs show from a real demo run.

Renders the template with its defaults (once per task), runs the generated pipeline
exactly as a user would (git init, uv sync, uv run dvc repro), and copies what it
made into docs/assets/demo/<task>/: the PNG plots and data profile images,
`predict --explain 3` on three held-out rows, MODEL_CARD.md, metrics.json,
params.yaml, dvc.yaml, `dvc dag`, a summary of the MLflow run read back with
MlflowClient, and a screenshot of the rendered model card (headless Chromium).

Usage: uv run python -m scripts.docs_assets   (from the repository root; then
commit docs/assets/demo/)
"""

from __future__ import annotations

import html
import json
import shutil
import sys
import tempfile
from pathlib import Path

import markdown
from PIL import Image, ImageChops

from harness.browser import screenshot
from harness.project import Project
from harness.template import TEMPLATE as ROOT

ASSETS = ROOT / "docs" / "assets" / "demo"
TASKS = ("classification", "regression")
COPIED = ("MODEL_CARD.md", "params.yaml", "dvc.yaml", "reports/metrics.json")

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
    screenshot(page, png, 960, 12000)
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


def mlflow_summary(project: Project) -> str:
    """The run `evaluate` just logged, read back with MlflowClient, as the tour shows it."""
    run = project.last_mlflow_run()
    summary = {
        "experiment": run["experiment"],
        "run_id": run["run_id"],
        "params": run["params"],
        "metrics": run["metrics"],
        "tags": {k: v for k, v in run["tags"].items() if not k.startswith("mlflow.")},
        "artifacts": run["artifacts"],
        "logged_models": [model["name"] for model in run["models"]],
    }
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def explained(project: Project, out: Path) -> None:
    """`predict --explain 3` on three held-out rows, as a user runs it."""
    script = (
        "import pandas as pd, yaml\n"
        "target = yaml.safe_load(open('params.yaml'))['data']['target']\n"
        "rows = pd.read_parquet('data/prepared/test.parquet').drop(columns=target)\n"
        "rows.head(3).to_csv('batch.csv', index=False)\n"
    )
    project.uv_run("python", "-c", script)
    project.uv_run(
        project.package,
        "predict",
        "--input",
        "batch.csv",
        "--output",
        "explained.csv",
        "--explain",
        "3",
    )
    import pandas as pd

    frame = pd.read_csv(project.path / "explained.csv")
    keep = [c for c in frame.columns if c == "prediction" or c.startswith("explain_")]
    frame[keep].round(4).to_csv(out, index=False)


def demo(task: str, workdir: Path) -> None:
    print(f"==> {task}", flush=True)
    project = Project.create(workdir / f"{task}-demo", task=task)
    project.repro()

    out = ASSETS / task
    shutil.rmtree(out, ignore_errors=True)
    (out / "figures").mkdir(parents=True)
    for png in sorted((project.path / "reports/figures").glob("*.png")):
        shutil.copy2(png, out / "figures" / png.name)
    (out / "profile").mkdir()
    for png in sorted((project.path / "reports/profile").glob("*.png")):
        shutil.copy2(png, out / "profile" / png.name)
    explained(project, out / "predict_explain.csv")
    for name in COPIED:
        shutil.copy2(project.path / name, out / Path(name).name)
    dag = project.uv_run("dvc", "dag").stdout
    (out / "dvc_dag.txt").write_text(dag, encoding="utf-8")
    shown = project.uv_run("dvc", "metrics", "show").stdout
    (out / "dvc_metrics_show.txt").write_text(shown, encoding="utf-8")
    (out / "mlflow_run.json").write_text(mlflow_summary(project), encoding="utf-8")
    card_screenshot(project.path, out / "model_card.png")
    print(f"  wrote {out.relative_to(ROOT)}", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="copier-mlops-docs-") as tmp:
        for task in TASKS:
            demo(task, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
