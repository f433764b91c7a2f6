"""`<package> monitor`: has a batch of rows drifted from the training rows?

The input is a CSV or Parquet file, the server's request log (requests.jsonl and
its rotated files), or a folder of any of these. Every feature column and the
model's predictions (the input's `prediction` column, else scored now) are
compared with the training profile (drift.py). The result is written as
drift.json, drift.md and drift.png under the output folder and logged to MLflow,
tagged with the model version; `flagged` says whether any threshold is crossed
(the command then exits with status 3).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..config import MonitorConfig
from ..core.errors import DataError
from ..core.files import atomic_path, write_json, write_text
from ..data.tables import READERS, file_md5, read_table, shown
from ..modeling.features import conform, model_kinds
from ..versioning.loading import is_tracked, load_model, local_path
from .contract import Findings, check
from .drift import ColumnDrift, compare
from .reference import PREDICTION, for_model

LOG_FILE = re.compile(r"\.jsonl(\.\d+)?$")


@dataclass(frozen=True)
class Monitoring:
    """The result of one `monitor` run."""

    rows: int
    columns: dict[str, ColumnDrift]
    prediction: ColumnDrift
    findings: Findings
    model_version: str
    files: list[Path]

    @property
    def flagged(self) -> list[str]:
        """Names of the columns (and `prediction`) that cross a threshold."""
        names = [n for n, d in self.columns.items() if d.flagged]
        return [*names, PREDICTION] if self.prediction.flagged else names

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (drift.json)."""
        return {
            "rows": self.rows,
            "model_version": self.model_version,
            "flagged": self.flagged,
            "columns": {n: d.to_dict() for n, d in self.columns.items()},
            "prediction": self.prediction.to_dict(),
            "soft_findings": self.findings.counts,
        }


def read_log(path: Path) -> pd.DataFrame:
    """The rows of a request log file: inputs plus `prediction`."""
    frames = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                entry = json.loads(line)
                frame = pd.DataFrame(entry["records"])
                frame[PREDICTION] = entry["predictions"]
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(
                    f"{shown(path)}: line {number} is not a request log entry ({exc}); "
                    "remove it or point --input at the log folder of `serve`"
                ) from exc
            frames.append(frame)
    if not frames:
        raise DataError(f"{shown(path)}: the request log is empty")
    return pd.concat(frames, ignore_index=True)


def read_input(source: Path) -> pd.DataFrame:
    """The rows of a file, or of every data file and request log in a folder."""
    if source.is_dir():
        files = sorted(
            p
            for p in source.iterdir()
            if p.suffix.lower() in READERS or LOG_FILE.search(p.name)
        )
        if not files:
            raise DataError(
                f"{shown(source)}: no .csv, .parquet or request log (.jsonl) files in "
                "it; point --input at a batch file or the request log folder"
            )
        return pd.concat([read_input(p) for p in files], ignore_index=True)
    if LOG_FILE.search(source.name):
        if not source.is_file():
            raise DataError(f"{shown(source)}: file not found")
        return read_log(source)
    return read_table(source, setting="--input")


def model_version(source: str, root: Path) -> str:
    """The MD5 of a model file (as dvc.lock and the server say), or the URI."""
    return source if is_tracked(source) else file_md5(local_path(source, root))


def monitor(
    source: Path,
    model_source: str,
    cfg: MonitorConfig,
    output: Path,
    root: Path,
) -> Monitoring:
    """Compare the rows at `source` with the training profile; write the reports."""
    model = load_model(model_source, root)
    reference = for_model(model_source, root)
    frame = read_input(source)
    where = str(shown(source))
    lacking = [c for c in reference.columns if c not in frame.columns]
    if lacking:
        raise DataError(f"{where}: lacks the feature columns {lacking}")
    features = conform(frame, model_kinds(model), where)
    if PREDICTION in frame.columns:
        predictions = frame[PREDICTION]
    else:
        predictions = pd.Series(model.predict(features))
    tests = len(reference.columns) + 1
    result = Monitoring(
        rows=len(frame),
        columns={
            name: compare(features[name], profile, cfg, tests)
            for name, profile in reference.columns.items()
        },
        prediction=compare(predictions, reference.prediction, cfg, tests),
        findings=check(features, reference, cfg),
        model_version=model_version(model_source, root),
        files=[output / "drift.json", output / "drift.md", output / "drift.png"],
    )
    write_json(result.files[0], result.to_dict())
    write_text(result.files[1], markdown(result, where, cfg))
    plot(result, cfg, result.files[2])
    return result


def percent(share: float) -> str:
    """A share as a percentage: 0.125 -> "12.5%"."""
    return f"{100 * share:.1f}%"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def markdown(result: Monitoring, where: str, cfg: MonitorConfig) -> str:
    """The readable report (drift.md)."""
    verdict = (
        f"**Drift: {', '.join(result.flagged)}.**"
        if result.flagged
        else "No threshold crossed."
    )
    lines = [
        f"# Drift report: {where}",
        "",
        f"{result.rows} rows against the training profile of model "
        f"`{result.model_version}`. {verdict}",
        "",
        f"A column drifts when PSI >= {cfg.psi:g} and p < {cfg.p_value:g} / "
        f"{len(result.columns) + 1} (the columns tested); its missing share when it "
        f"moves by more than {cfg.missing_share:g}.",
        "",
        "| column | test | PSI | p-value | missing (training) | flagged |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in [*result.columns.items(), (PREDICTION, result.prediction)]:
        flag = "drift" if d.drifted else ""
        flag += (" missing" if flag else "missing") if d.missing_drifted else ""
        missing = f"{percent(d.missing_share)} ({percent(d.reference_missing_share)})"
        lines.append(
            f"| {name} | {d.test} | {_number(d.psi)} | {_number(d.p_value)} | "
            f"{missing} | {flag} |"
        )
    lines += [
        "",
        f"Soft findings: {result.findings.summary()}.",
        "",
        "![PSI](drift.png)",
    ]
    return "\n".join(lines) + "\n"


def plot(result: Monitoring, cfg: MonitorConfig, path: Path) -> None:
    """PSI per column, drifted ones in red, the threshold as a line (drift.png)."""
    items = [*result.columns.items(), (PREDICTION, result.prediction)]
    names = [name for name, _ in items]
    values = np.array([d.psi or 0.0 for _, d in items])
    figure = Figure(figsize=(7, max(2.5, 0.25 * len(items) + 1)))
    axes = figure.subplots()
    colours = ["tab:red" if d.drifted else "tab:blue" for _, d in items]
    axes.barh(names[::-1], values[::-1], color=colours[::-1])
    axes.axvline(cfg.psi, color="black", linestyle="--", label=f"threshold {cfg.psi:g}")
    axes.set_xlabel("population stability index (PSI)")
    axes.legend(loc="lower right")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)


def figures(result: Monitoring) -> dict[str, float]:
    """The drift figures as MLflow metrics (names cleaned of characters it refuses)."""
    metrics: dict[str, float] = {
        "rows": float(result.rows),
        "flagged_columns": float(len(result.flagged)),
        "soft_findings": float(result.findings.total),
    }
    for name, d in [*result.columns.items(), (PREDICTION, result.prediction)]:
        key = re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)
        if d.psi is not None:
            metrics[f"psi/{key}"] = d.psi
        if d.p_value is not None:
            metrics[f"p_value/{key}"] = d.p_value
        metrics[f"missing_share/{key}"] = d.missing_share
    return metrics


def log(result: Monitoring, source: Path, model_source: str, root: Path) -> str:
    """Log the figures and reports to MLflow, tagged with the model; the run id."""
    from ..versioning.tracking import log_drift

    tags = {
        "kind": "monitor",
        "model_source": model_source,
        "model_version": result.model_version,
        "input": str(shown(source)),
        "flagged": ",".join(result.flagged),
    }
    return log_drift(root, tags, figures(result), result.files)
