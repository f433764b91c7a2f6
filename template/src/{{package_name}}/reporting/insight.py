"""What evaluate adds to the metrics so that people can judge the model.

Permutation importance, the SHAP summary and partial dependence
(importance.py), the task's diagnosis (a classifier's calibration and
thresholds, tasks/), metrics per segment (segmenting.py) and the data profile of
the `profile` stage (profile.py). evaluate.py calls `gather` once and writes
what it returns into reports/metrics.json, MLflow and the model card.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import Config
from ..core import paths, processes
from ..modeling.features import conform, model_kinds
from ..modeling.tasks import Outputs, current
from . import importance, segmenting

OWN_PROCESS_ROWS = importance.MAX_ROWS
"""Above this many held-out rows, the SHAP summary is computed in a process of
its own (core/processes.py): on such tables SHAP, numba and LLVM (about 190 MB)
would count against the data. On fewer, here: a new interpreter costs about 2 s
of imports, every evaluate."""


@dataclass(frozen=True)
class Insight:
    """Everything `gather` found, ready for metrics.json, MLflow and the card."""

    report: dict[str, Any]
    """Extra keys of reports/metrics.json."""
    metrics: dict[str, float]
    """Extra MLflow metrics (flat names)."""
    images: list[Path]
    artifacts: list[Path]
    ranking: pd.DataFrame
    """Permutation importance per column, largest first."""
    directions: list[importance.Direction]
    units: str
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] | None = None

    @property
    def numbers(self) -> dict[str, float]:
        """The single numbers this adds to the report (the card's metric table)."""
        return {k: v for k, v in self.report.items() if isinstance(v, float)}


def gather(
    cfg: Config,
    root: Path,
    model: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    outputs: Outputs,
) -> Insight:
    """Compute the global explanations, diagnosis and segments of one model;
    `outputs` are its outputs for `features` (tasks' `outputs`)."""
    conformed = conform(features, model_kinds(model), str(paths.TEST))
    # The global views on a seeded sample of the held-out rows (importance.py);
    # the diagnosis and the segments below on all of them.
    rows, labels = importance.sample(
        conformed, target, importance.MAX_ROWS, cfg.data.seed
    )
    ranking = importance.permutation_importance(
        model,
        rows,
        labels,
        cfg.evaluate.primary_metric,
        cfg.evaluate.greater_is_better,
        cfg.data.seed,
    )
    if len(conformed) > OWN_PROCESS_ROWS:
        summary = processes.run(importance.directions, model, rows)
    else:
        summary = importance.directions(model, rows)
    images = importance.write_plots(model, rows, ranking, summary, root)
    report: dict[str, Any] = {}
    thresholds: list[dict[str, Any]] = []
    diagnose = current().diagnose
    if diagnose is not None:
        diagnosis = diagnose(model, outputs, target, root)
        report.update(diagnosis.metrics)
        images += diagnosis.images
        thresholds = diagnosis.thresholds
    metrics = {k: float(v) for k, v in report.items()}
    if cfg.evaluate.segments:
        found = segmenting.segment_metrics(
            conformed,
            target,
            outputs.predicted,
            cfg.evaluate.segments,
            str(paths.PARAMS),
        )
        report["segments"] = found
        metrics.update(segmenting.flat(found))
    profile = None
    artifacts: list[Path] = []
    if (root / paths.PROFILE).is_file():
        profile = json.loads((root / paths.PROFILE).read_text(encoding="utf-8"))
        artifacts = [root / paths.PROFILE]
        artifacts += [root / image for image in profile.get("images", [])]
    return Insight(
        report=report,
        metrics=metrics,
        images=images,
        artifacts=artifacts,
        ranking=ranking,
        directions=summary[0],
        units=summary[1],
        thresholds=thresholds,
        profile=profile,
    )
