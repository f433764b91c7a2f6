"""Stage `evaluate`: score the model on held-out rows, plot, write the card, track.

One MLflow run per evaluation records the params in params.yaml, the metrics in
reports/metrics.json (the same numbers), the model, the plots and the model card.
The model is registered, and becomes the `champion` only if it beats the current
one on `evaluate.primary_metric` (see registry.promote). The metrics and plots
are the task's (tasks/).
"""

from dataclasses import dataclass
from pathlib import Path

import joblib
import pandas as pd

from . import model_card, paths, registry, tracking
from .artifacts import DataSummary
from .config import Config
from .files import write_json
from .tasks import current


@dataclass(frozen=True)
class Evaluation:
    """The result of the evaluate stage."""

    metrics: dict[str, float]
    run_id: str
    promotion: registry.Promotion


def evaluate(cfg: Config, root: Path) -> Evaluation:
    """Run the evaluate stage under `root`."""
    model = joblib.load(root / paths.MODEL)
    test = pd.read_parquet(root / paths.TEST)
    features = test.drop(columns=cfg.data.target)
    target = test[cfg.data.target]
    data = DataSummary.read(root / paths.DATA_SUMMARY)
    task = current()

    scores = task.compute_metrics(model, features, target)
    write_json(root / paths.METRICS, scores)
    images = task.write_plots(model, features, target, root)

    tags = {"data_md5": data.md5, "data_path": data.path}
    with tracking.start_run(root, tags) as run_id:
        card = model_card.render(
            root / paths.CARD_TEMPLATE,
            cfg=cfg,
            model=model,
            run_id=run_id,
            experiment=tracking.experiment_name(),
            metrics=scores,
            data=data,
            images=images,
        )
        card_path = model_card.write(root, card)
        model_uri = tracking.log_results(
            params=cfg.raw,
            metrics=scores,
            model=model,
            example=features.head(5),
            artifacts={
                "plots": [root / image for image in images],
                "reports": [card_path, root / paths.METRICS],
                "reference": [root / paths.REFERENCE],
            },
        )
        promotion = registry.promote(
            model_uri,
            metric=cfg.evaluate.primary_metric,
            score=scores[cfg.evaluate.primary_metric],
            greater_is_better=cfg.evaluate.greater_is_better,
        )
    return Evaluation(metrics=scores, run_id=run_id, promotion=promotion)
