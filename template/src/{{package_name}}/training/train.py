"""Stage `train`: fit the feature transformer and the estimator as one Pipeline.

The estimator is the model family named by `model.type` in params.yaml (the
task's family table, tasks/), built from that family's hyperparameters.
"""

from functools import partial
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import TASK
from ..config import Config, ModelConfig
from ..core import parquet, paths
from ..core.artifacts import BestParams, Schema
from ..core.files import atomic_path
from ..modeling.features import (
    NUMBER,
    STRING,
    build_preprocessor,
    categorical_inputs,
    conform,
    detect_kinds,
    model_kinds,
    served_kinds,
)
from ..modeling.tasks import current
from ..monitoring.reference import Reference
from ..monitoring.reference import build as profile


def make_estimator(
    cfg: ModelConfig, seed: int, values: dict[str, Any] | None = None
) -> object:
    """The estimator named by model.type, with `values` (default: params.yaml's)."""
    return cfg.family.estimator(cfg.hyperparameters if values is None else values, seed)


def hyperparameters(cfg: Config, root: Path) -> dict[str, Any]:
    """params.yaml's values for the family, overridden by the tuned ones, if any.

    models/best_params.json (stage `tune`) counts only when it was tuned for the
    family params.yaml chooses now.
    """
    values = dict(cfg.model.hyperparameters)
    best_path = root / paths.BEST_PARAMS
    if best_path.is_file():
        best = BestParams.read(best_path)
        if best.family == cfg.model.type:
            values.update(best.params)
    return values


def build(kinds: dict[str, str], cfg: Config, values: dict[str, Any]) -> Pipeline:
    """The unfitted Pipeline: feature transformer, then the estimator."""
    can = cfg.model.family.capabilities
    features = build_preprocessor(
        kinds,
        cfg.features,
        native_missing=can.native_missing_values,
        native_categories=can.native_categories,
    )
    estimator: Any = make_estimator(cfg.model, cfg.data.seed, values)
    if can.native_categories:
        estimator.set_params(categorical_features=categorical_inputs(kinds) or None)
    return Pipeline([("features", features), ("model", estimator)])


def unfitted(
    rows: pd.DataFrame, cfg: Config, values: dict[str, Any]
) -> tuple[pd.DataFrame, pd.Series, dict[str, str], Pipeline]:
    """split() and build() of some rows: what a fit on a cluster starts from."""
    features, target, kinds = split(rows, cfg)
    return features, target, kinds, build(kinds, cfg, values)


def split(
    train: pd.DataFrame, cfg: Config
) -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    """The conformed feature columns, the target and the column kinds."""
    where = str(paths.TRAIN)
    features = train.drop(columns=cfg.data.target)
    kinds = detect_kinds(features, where)
    return conform(features, kinds, where), train[cfg.data.target], kinds


def fit(
    train: pd.DataFrame | Path, cfg: Config, values: dict[str, Any] | None = None
) -> Pipeline:
    """Fit preprocessing and estimator on the training rows: a frame, or the
    Parquet file holding them (`train` reads paths.TRAIN so).

    The two steps are fitted one after the other rather than by Pipeline.fit, so
    that the rows' frames are let go before the estimator's fit: given a file,
    the fit holds the model-input matrix and nothing else of the data (the
    template's docs/benchmarks.md measures it step by step).
    """
    rows = parquet.read(train) if isinstance(train, Path) else train
    features, target, kinds = split(rows, cfg)
    del rows
    parquet.release()
    values = cfg.model.hyperparameters if values is None else values
    pipeline = build(kinds, cfg, values)
    background = features.sample(
        n=min(BACKGROUND_ROWS, len(features)), random_state=cfg.data.seed
    )
    if cfg.model.family.capabilities.native_missing_values:
        features = float32_numbers(features, kinds)
        parquet.release()
    matrix = pipeline[:-1].fit_transform(features, target)
    del features
    parquet.release()
    inputs, labels, validation = validation_rows(cfg, values, matrix, target)
    del matrix
    pipeline[-1].fit(inputs, labels, **validation)
    del inputs, validation
    parquet.release()  # the fit's working memory, before `train` reads the rows again
    keep_background(pipeline, background)
    return settle(pipeline)


def float32_numbers(features: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """The number columns as float32, the precision the boosting families fit at
    (features.build_preprocessor gives them the same values): cast before the
    transformer makes the matrix, the rows hold 4 bytes a number instead of 8
    while it does (48 MB less at 800,000 rows and 15 number columns; the
    template's docs/benchmarks.md)."""
    return features.astype({c: np.float32 for c, k in kinds.items() if k == NUMBER})


def validation_rows(
    cfg: Config, values: dict[str, Any], matrix: np.ndarray, target: pd.Series
) -> tuple[np.ndarray, pd.Series, dict[str, Any]]:
    """The rows to fit on, and early stopping's validation rows as `fit`'s
    X_val and y_val: `validation_fraction` of the matrix, seeded by data.seed,
    stratified for classification. Split here, the matrix can be let go before
    the fit; the estimator would split a copy of it, so that at 1,000,000 rows
    three model-input matrices were alive at once, not two (the template's
    docs/benchmarks.md).
    A family without `validation_rows` fits on the whole matrix, as it is.
    """
    fraction = values.get("validation_fraction")
    if not cfg.model.family.capabilities.validation_rows or not fraction:
        return matrix, target, {}
    from sklearn.model_selection import train_test_split

    strata = pd.factorize(target)[0] if TASK == "classification" else None
    rows, held, labels, held_labels = train_test_split(
        matrix, target, test_size=fraction, random_state=cfg.data.seed, stratify=strata
    )
    return rows, labels, {"X_val": held, "y_val": held_labels}


BACKGROUND_ROWS = 50
"""Training rows a model splitting on categories keeps for its explanations."""


def keep_background(pipeline: Pipeline, rows: pd.DataFrame) -> None:
    """HistGradientBoosting splitting on string columns' categories: SHAP's exact
    tree algorithm cannot follow those splits, so the model keeps `rows`, a seeded
    sample of its training inputs (`background_`), for SHAP's permutation
    explainer (explain.py), whose contributions still add up to the output."""
    estimator = pipeline.named_steps["model"]
    categorical = getattr(estimator, "is_categorical_", None)
    if categorical is None or not np.any(categorical):
        return
    estimator.background_ = np.asarray(pipeline[:-1].transform(rows), dtype=float)


def settle(pipeline: Pipeline) -> Pipeline:
    """Predict on one core: a forest fitted on every core (`n_jobs`) would add
    its trees' outputs in thread order, so the same rows could get predictions
    that differ in the last digits from one call to the next."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    estimator = pipeline.named_steps["model"]
    if isinstance(estimator, RandomForestClassifier | RandomForestRegressor):
        estimator.set_params(n_jobs=1)
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


def reference(pipeline: Pipeline, train: pd.DataFrame | Path, cfg: Config) -> Reference:
    """The training rows' profile and the model's predictions on them (reference.py).
    `train`: the rows, or the Parquet file holding them (read here, and let go
    once conformed)."""
    rows = parquet.read(train) if isinstance(train, Path) else train
    kinds = model_kinds(pipeline)
    features = conform(rows.drop(columns=cfg.data.target), kinds, str(paths.TRAIN))
    del rows
    parquet.release()
    kind = NUMBER if current().classes(pipeline) is None else STRING
    return profile(features, kinds, predict(pipeline, features), kind)


PREDICT_ROWS = 100_000
"""Rows `predict` gives the model at a time."""


def predict(pipeline: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """The pipeline's predictions, PREDICT_ROWS rows at a time: the model's input
    matrix and its working memory are those of a block, not of every row."""
    blocks = [
        pipeline.predict(features.iloc[start : start + PREDICT_ROWS])
        for start in range(0, len(features), PREDICT_ROWS)
    ]
    return np.concatenate(blocks)


CLUSTER_FAMILY = "lightgbm"
"""The one family that trains on a Dask cluster (train_cluster.py)."""


def on_cluster(cfg: Config, scheduler: str | None) -> str | None:
    """The scheduler address `train` uses: set, and model.type is lightgbm."""
    from ..core.cluster import scheduler_address

    address = scheduler_address(scheduler)
    return address if address and cfg.model.type == CLUSTER_FAMILY else None


def where(cfg: Config, scheduler: str | None) -> str:
    """A line (with its newline) on where `train` fitted the model, or ""
    without a scheduler."""
    from ..core.cluster import scheduler_address

    address = scheduler_address(scheduler)
    if address is None:
        return ""
    if on_cluster(cfg, scheduler):
        return f"trained on the Dask cluster at {address}\n"
    return (
        f"model.type {cfg.model.type} trained here, not on the Dask cluster at "
        f"{address}: only {CLUSTER_FAMILY} trains on a cluster\n"
    )


def train(
    cfg: Config,
    root: Path,
    scheduler: str | None = None,
    staging: str | None = None,
) -> Pipeline:
    """Run the train stage under `root`: read the split, fit, save model and schema.

    With a scheduler (`scheduler`, else DASK_SCHEDULER_ADDRESS) and model.type
    lightgbm, the model trains on the Dask cluster (train_cluster.py), whose
    workers read the split here or, with `staging` (else CLUSTER_STAGING_URL),
    from a copy in an object store; every other family trains here.
    """
    values = hyperparameters(cfg, root)
    address = on_cluster(cfg, scheduler)
    data: pd.DataFrame | Path  # the rows the reference profiles
    if address:
        from . import train_cluster

        pipeline, data = train_cluster.fit(
            cfg,
            root,
            address,
            scheduler,
            values,
            staging,
            start=partial(unfitted, cfg=cfg, values=values),
        )
    else:
        pipeline = fit(root / paths.TRAIN, cfg, values)
        data = root / paths.TRAIN  # fit() let its rows go: read again
    with atomic_path(root / paths.MODEL) as tmp:
        joblib.dump(pipeline, tmp)
    schema(pipeline, cfg).write(root / paths.SCHEMA)
    reference(pipeline, data, cfg).write(root / paths.REFERENCE)
    return pipeline
