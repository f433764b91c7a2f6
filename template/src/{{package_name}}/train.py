"""Stage `train`: fit the feature transformer and the estimator as one Pipeline.

The estimator is the model family named by `model.type` in params.yaml (the
task's family table, tasks/), built from that family's hyperparameters.
"""

from pathlib import Path

import joblib
import pandas as pd
from sklearn.pipeline import Pipeline

from . import TASK, paths
from .artifacts import Schema
from .config import Config, ModelConfig
from .features import (
    NUMBER,
    STRING,
    build_preprocessor,
    conform,
    detect_kinds,
    model_kinds,
    served_kinds,
)
from .files import atomic_path
from .reference import Reference, build
from .tasks import current


def make_estimator(cfg: ModelConfig, seed: int) -> object:
    """The estimator named by model.type in params.yaml."""
    return cfg.family.estimator(cfg.hyperparameters, seed)


def fit(train: pd.DataFrame, cfg: Config) -> Pipeline:
    """Fit preprocessing and estimator on the training rows."""
    where = str(paths.TRAIN)
    features = train.drop(columns=cfg.data.target)
    kinds = detect_kinds(features, where)
    features = conform(features, kinds, where)
    pipeline = Pipeline(
        [
            ("features", build_preprocessor(kinds, cfg.features)),
            ("model", make_estimator(cfg.model, cfg.data.seed)),
        ]
    )
    pipeline.fit(features, train[cfg.data.target])
    return pipeline


def schema(pipeline: Pipeline, cfg: Config) -> Schema:
    """What the model expects and returns: used by serving and the card.

    Feature kinds are "number" or "string"; datetime features are sent as ISO 8601
    strings and expanded inside the model, as in batch predict.
    """
    return Schema(
        task=TASK,
        target=cfg.data.target,
        features=served_kinds(model_kinds(pipeline)),
        classes=current().classes(pipeline),
    )


def reference(pipeline: Pipeline, train: pd.DataFrame, cfg: Config) -> Reference:
    """The training rows' profile and the model's predictions on them (reference.py)."""
    kinds = model_kinds(pipeline)
    features = conform(train.drop(columns=cfg.data.target), kinds, str(paths.TRAIN))
    kind = NUMBER if current().classes(pipeline) is None else STRING
    return build(features, kinds, pipeline.predict(features), kind)


def train(cfg: Config, root: Path) -> Pipeline:
    """Run the train stage under `root`: read the split, fit, save model and schema."""
    data = pd.read_parquet(root / paths.TRAIN)
    pipeline = fit(data, cfg)
    with atomic_path(root / paths.MODEL) as tmp:
        joblib.dump(pipeline, tmp)
    schema(pipeline, cfg).write(root / paths.SCHEMA)
    reference(pipeline, data, cfg).write(root / paths.REFERENCE)
    return pipeline
