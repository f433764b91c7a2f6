"""Stage `evaluate`: score the model on held-out rows, plot, write the card, track.

One MLflow run per evaluation records the params in params.yaml, the metrics in
reports/metrics.json (the same numbers), the model, the plots and the model card.
Next to the model's own test metrics it records how sure they are (uncertainty.py):
a trivial baseline on the same rows, cross-validation on the training rows and
bootstrap intervals. Global explanations, a classifier's calibration and the
metrics per segment come from insight.py. The model is registered, and becomes
the `champion` as registry.py's policy says (experiments are not registered;
the first model on new data is promoted; on the same data only a better one).
The metrics and plots are the task's (tasks/). MLflow (50 MB of a process) is
imported once the measuring is done: not part of its peak (docs/benchmarks.md).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd

from ..config import Config
from ..config.sections import flatten
from ..core import parquet, paths, progress
from ..core.artifacts import DataSummary
from ..core.files import write_json
from ..modeling import boosting, plots
from ..modeling.tasks import current
from ..training import uncertainty
from ..training.train import hyperparameters
from ..versioning import lineage, provenance
from ..versioning.gate import Settings
from . import card_text, insight, model_card, trust

if TYPE_CHECKING:
    from ..versioning import registry


@dataclass(frozen=True)
class Evaluation:
    """The result of the evaluate stage."""

    metrics: dict[str, float]
    run_id: str
    promotion: registry.Promotion
    test_rows: int = 0
    """How many held-out rows the metrics rest on."""

    @property
    def headline(self) -> str:
        """'accuracy=0.9558, ... on 113 held-out rows', as the console says it."""
        scores = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"{scores} on {self.test_rows} held-out rows"


def certainty(
    cfg: Config,
    root: Path,
    model: Any,
    test: pd.DataFrame,
    predicted: np.ndarray,
) -> dict[str, Any]:
    """Baseline, cross-validation, bootstrap intervals and early stopping facts;
    `predicted` are the model's predictions of the test rows. Of the training
    rows it reads the target and, to cross-validate, the sample it needs."""
    target, seed, limit = cfg.data.target, cfg.data.seed, cfg.evaluate.sample_rows
    values = hyperparameters(cfg, root)
    path = root / paths.TRAIN
    labels = parquet.read(path, columns=[target])[target]
    cv: list[float] = []
    cv_rows = 0
    if cfg.evaluate.cv_folds > 1:
        where = uncertainty.drawn(len(labels), limit, seed)
        cv_rows = len(labels) if where is None else len(where)
        progress.step(
            f"cross-validation on {_rows(cv_rows, len(labels), 'training')} "
            f"({cfg.evaluate.cv_folds} folds)"
        )
        rows = parquet.read(path) if where is None else parquet.take(path, where)
        cv = uncertainty.cross_validate(rows, cfg, values)
    resampled = uncertainty.sample(test, limit, seed)
    if cfg.evaluate.bootstrap:
        progress.step(
            f"bootstrap intervals ({cfg.evaluate.bootstrap} resamples of "
            f"{_rows(len(resampled), len(test), 'test')})"
        )
    estimator = model.named_steps["model"]
    return {
        "baseline": uncertainty.baseline(labels, test, target),
        "cv": {
            "folds": len(cv),
            "mean": float(np.mean(cv)) if cv else None,
            "std": float(np.std(cv)) if cv else None,
            "rows": cv_rows,
        },
        "bootstrap": {
            "resamples": cfg.evaluate.bootstrap,
            "rows": len(resampled) if cfg.evaluate.bootstrap else 0,
        },
        "ci": {
            name: {"low": low, "high": high}
            for name, (low, high) in uncertainty.bootstrap(
                resampled[target],
                predicted[test.index.get_indexer(resampled.index)],
                cfg.evaluate.bootstrap,
                seed,
            ).items()
        },
        "best_iteration": boosting.best_iteration(estimator),
        "rounds": boosting.rounds(estimator),
        "hyperparameters": values,
    }


def _rows(used: int, rows: int, kind: str) -> str:
    """'the 800 training rows', or 'a 100000-row sample of the 800000 ...'."""
    if used == rows:
        return f"the {rows} {kind} rows"
    return f"a {used}-row sample of the {rows} {kind} rows"


def report(
    scores: dict[str, float], facts: dict[str, Any], rows: int
) -> dict[str, Any]:
    """reports/metrics.json: the test metrics first, the `rows` they rest on, then
    how sure they are (accuracy: Wilson interval; others: bootstrap; trust.py)."""
    result: dict[str, Any] = {
        **scores,
        "test_rows": rows,
        "baseline": facts["baseline"],
        "cv": facts["cv"],
        "bootstrap": facts["bootstrap"],
        "ci": facts["ci"],
    }
    if facts["best_iteration"] is not None:
        result["early_stopping"] = {
            "best_iteration": facts["best_iteration"],
            "rounds": facts["rounds"],
        }
    return result


def flat_metrics(report: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """metrics.json as MLflow metrics: dotted names, as `dvc metrics show` prints
    them (`baseline.f1_macro`, `ci.f1_macro.low`); missing values left out."""
    return {
        name: float(value)
        for name, value in flatten(report, prefix).items()
        if value is not None
    }


@dataclass(frozen=True)
class Measured:
    """What evaluate measures before MLflow: written to metrics.json and plots."""

    model: Any
    test: pd.DataFrame
    features: pd.DataFrame
    """The test rows' feature columns."""
    labels: pd.Series
    """The test rows' target."""
    data: DataSummary
    scores: dict[str, float]
    """The task's metrics on the test rows."""
    facts: dict[str, Any]
    """certainty(): baseline, cross-validation, intervals, hyperparameters."""
    found: insight.Insight
    sure: dict[str, Any]
    """report(): the scores with how sure they are (metrics.json, MLflow)."""
    results: dict[str, Any]
    """Everything metrics.json holds."""
    images: list[Path]
    trained: np.ndarray
    """lineage.trained_rows() of the training rows, for the champion gate."""


def measure(cfg: Config, root: Path) -> Measured:
    """Score the saved model on the test rows: metrics, how sure they are,
    insight; write reports/metrics.json and the plots. No MLflow."""
    model = joblib.load(root / paths.MODEL)
    test = parquet.read(root / paths.TEST)
    features = test.drop(columns=cfg.data.target)
    target = test[cfg.data.target]
    task = current()
    progress.step(f"scoring the model on {len(test)} test rows")
    # Predicted once: the metrics, bootstrap, plots, calibration and segments read them.
    outputs = task.outputs(model, features)
    scores = task.metrics_of(target, outputs.predicted)
    parquet.release()  # each phase below starts from what is alive, no more
    # Of the training rows, evaluate holds a sample or a block at a time (not
    # all of them): the baseline reads their target, cross-validation a sample,
    # and the champion gate needs their hashes.
    facts = certainty(cfg, root, model, test, outputs.predicted)
    trained = lineage.trained_rows(root / paths.TRAIN)
    parquet.release()
    facts["ci"].update(trust.proportion_intervals(scores, len(test)))
    progress.step("explanations: importance, SHAP, partial dependence, segments")
    found = insight.gather(cfg, root, model, features, target, outputs)
    sure = report(scores, facts, len(test))
    results = {**sure, **found.report}
    write_json(root / paths.METRICS, results)
    images = (
        task.write_plots(model, outputs, target, root)
        + plots.write_learning_curve(model, root)
        + found.images
    )
    return Measured(
        model=model,
        test=test,
        features=features,
        labels=target,
        data=DataSummary.read(root / paths.DATA_SUMMARY),
        scores=scores,
        facts=facts,
        found=found,
        sure=sure,
        results=results,
        images=images,
        trained=trained,
    )


def write_card(
    cfg: Config,
    root: Path,
    measured: Measured,
    run_id: str,
    promotion: registry.Promotion,
) -> Path:
    """Render the model card of `measured` (run `run_id`) and write it."""
    from ..versioning import tracking

    card = model_card.render(
        root / paths.CARD_TEMPLATE,
        cfg=cfg,
        model=measured.model,
        run_id=run_id,
        experiment=tracking.experiment_name(),
        metrics={**measured.scores, **measured.found.numbers},
        data=measured.data,
        images=measured.images,
        certainty=measured.facts,
        promotion=promotion,
        sections=card_text.sections(
            cfg, measured.results, measured.data, measured.found
        ),
    )
    return model_card.write(root, card)


def evaluate(cfg: Config, root: Path) -> Evaluation:
    """Run the evaluate stage under `root`: measure(), then log the run, the model
    and the card to MLflow and register the model (registry.py's policy)."""
    m = measure(cfg, root)
    parquet.release()
    from ..versioning import registry, tracking
    from ..versioning.judging import TestRows

    rows = TestRows.load(cfg, root, m.test)
    experiment = provenance.experiment(root)
    engine = getattr(m.model.named_steps["model"], "engine_", "local")  # train_cluster
    tags = {
        "data_md5": m.data.md5,
        "data_path": m.data.path,
        "train.engine": engine,
        **rows.lineage.tags(),
    }
    progress.step("logging the run and the model to MLflow")
    with tracking.start_run(root, tags) as run_id, tempfile.TemporaryDirectory() as tmp:
        model_uri = tracking.log_results(
            params={**cfg.raw, "fitted": m.facts["hyperparameters"]},
            metrics={**flat_metrics(m.sure), **m.found.metrics},
            model=m.model,
            example=m.features.head(5),
            artifacts={
                "plots": [root / image for image in m.images],
                "reports": [root / paths.METRICS],
                "reference": [root / paths.REFERENCE],
                "profile": m.found.artifacts,
                "split": [lineage.write_rows(m.trained, Path(tmp) / "train_rows.npy")],
            },
        )
        progress.step("the model registry: the champion gate")
        if experiment:
            promotion = registry.not_registered(experiment, run_id)
        else:
            judge = rows.with_model(run_id, m.model, m.trained)
            promotion = registry.promote(
                model_uri, run_id, rows.lineage, judge, Settings.of(cfg)
            )
        card_path = write_card(cfg, root, m, run_id, promotion)
        tracking.log_artifact(card_path, "reports")
    return Evaluation(
        metrics=m.scores, run_id=run_id, promotion=promotion, test_rows=len(m.test)
    )
