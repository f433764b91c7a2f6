"""Gradient-boosted trees with early stopping: the two boosting families.

`hist_gradient_boosting` is scikit-learn's HistGradientBoosting (missing values
handled natively, so the numeric columns skip the imputer; string columns split
on as categories, not one-hot); `lightgbm` is LightGBM (the same, with
LightGBM's own category splits). Both hold out `validation_fraction` of the TRAINING
rows (never the test rows), add trees while the validation loss improves, and
stop after `early_stopping_rounds` rounds without improvement. `best_iteration`
reads the round that scored best on that validation split, which evaluate logs.

LightGBM's estimator class is in lightgbm_model.py: importing this module (the
task's family table does, in every stage) imports neither scikit-learn nor
LightGBM, so `check` and `prepare` split the table before scikit-learn and SciPy
(90 MB) are loaded (the template's docs/benchmarks.md).
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

from .families import Capabilities, Hyperparameter

BOOSTING_CAPABILITIES = Capabilities(
    feature_importance=True,
    early_stopping=True,
    native_missing_values=True,
    native_categories=True,
    validation_rows=True,
)
HGB_CAPABILITIES = Capabilities(
    feature_importance=False,
    early_stopping=True,
    native_missing_values=True,
    native_categories=True,
    validation_rows=True,
)
LEARNING_RATE = Hyperparameter("learning_rate", "float", 0.1, 0.0, "shrinkage", 1.0)
VALIDATION_FRACTION = Hyperparameter(
    "validation_fraction", "float", 0.1, 0.0, "training rows held out to stop", 0.5
)
EARLY_STOPPING_ROUNDS = Hyperparameter(
    "early_stopping_rounds", "int", 20, 1, "rounds without improvement", 1_000
)
ROUNDS = 100_000
"""Most boosting rounds: early stopping picks fewer."""
HGB_PARAMETERS = (
    Hyperparameter("max_iter", "int", 500, 1, "boosting rounds at most", ROUNDS),
    LEARNING_RATE,
    Hyperparameter("max_leaf_nodes", "int", 31, 2, "leaves per tree", 65_536),
    Hyperparameter("min_samples_leaf", "int", 20, 1, "smallest leaf", 100_000),
    Hyperparameter("l2_regularization", "nonnegative", 0.0, 0, "L2 penalty", 1e6),
    VALIDATION_FRACTION,
    EARLY_STOPPING_ROUNDS,
)
LIGHTGBM_PARAMETERS = (
    Hyperparameter("n_estimators", "int", 1000, 1, "boosting rounds at most", ROUNDS),
    Hyperparameter("learning_rate", "float", 0.05, 0.0, "shrinkage", 1.0),
    Hyperparameter("num_leaves", "int", 31, 2, "leaves per tree", 131_072),
    Hyperparameter("min_child_samples", "int", 20, 1, "smallest leaf", 100_000),
    Hyperparameter("reg_lambda", "nonnegative", 0.0, 0, "L2 penalty", 1e6),
    VALIDATION_FRACTION,
    EARLY_STOPPING_ROUNDS,
    Hyperparameter("n_jobs", "jobs", -1, -1, "CPU cores: -1 for all", 1_024),
)


def hist_gradient_boosting(
    classifier: bool, values: Mapping[str, Any], seed: int
) -> Any:
    """scikit-learn's HistGradientBoosting with early stopping on training rows."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    kind = (
        HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
    )
    return kind(
        max_iter=values["max_iter"],
        learning_rate=values["learning_rate"],
        max_leaf_nodes=values["max_leaf_nodes"],
        min_samples_leaf=values["min_samples_leaf"],
        l2_regularization=values["l2_regularization"],
        early_stopping=True,
        validation_fraction=values["validation_fraction"],
        n_iter_no_change=values["early_stopping_rounds"],
        random_state=seed,
    )


def lightgbm(classifier: bool, values: Mapping[str, Any], seed: int) -> Any:
    """LightGBM with early stopping on a validation split of the training rows."""
    from .lightgbm_model import LightGBMClassifier, LightGBMRegressor

    kind = LightGBMClassifier if classifier else LightGBMRegressor
    return kind(
        **{key: values[key] for key in kind().get_params() if key in values},
        random_state=seed,
    )


def best_iteration(estimator: Any) -> int | None:
    """The boosting round that scored best on the validation split, or None."""
    if hasattr(estimator, "best_iteration_"):
        return int(estimator.best_iteration_)
    scores = getattr(estimator, "validation_score_", None)
    if scores is not None and len(scores):
        # index 0 is the score before the first round
        return int(np.argmax(scores))
    return None


def rounds(estimator: Any) -> int | None:
    """How many boosting rounds were fitted (early stopping: fewer than the maximum)."""
    if best_iteration(estimator) is None:  # not a boosting family
        return None
    return int(estimator.n_iter_)


def __getattr__(name: str) -> Any:
    """LightGBMClassifier and LightGBMRegressor, which lived in this module:
    models saved before they moved to lightgbm_model.py name them here."""
    if name in {"LightGBMClassifier", "LightGBMRegressor"}:
        from . import lightgbm_model

        return getattr(lightgbm_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
