"""Gradient-boosted trees with early stopping: the two boosting families.

`hist_gradient_boosting` is scikit-learn's HistGradientBoosting (missing values
handled natively, so the numeric columns skip the imputer; string columns split
on as categories, not one-hot); `lightgbm` is LightGBM (missing numbers native,
string columns one-hot). Both hold out `validation_fraction` of the TRAINING
rows (never the test rows), add trees while the validation loss improves, and
stop after `early_stopping_rounds` rounds without improvement. `best_iteration`
reads the round that scored best on that validation split, which evaluate logs.
"""

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split

from .families import Capabilities, Hyperparameter

BOOSTING_CAPABILITIES = Capabilities(
    feature_importance=True, early_stopping=True, native_missing_values=True
)
HGB_CAPABILITIES = Capabilities(
    feature_importance=False,
    early_stopping=True,
    native_missing_values=True,
    native_categories=True,
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


def openmp_threads(n_jobs: int) -> int:
    """LightGBM's thread count for `n_jobs`: -1 becomes 0, OpenMP's own default
    (every core, or OMP_NUM_THREADS when set, as for HistGradientBoosting), so that
    processes sharing the cores (parallel tests, trials) can ask for fewer:
    LightGBM's own -1 (and None) is every core regardless, and on a busy machine
    two such processes fitted a 500-row table 10 to 35 times slower than on one
    thread."""
    return 0 if n_jobs == -1 else n_jobs


class _EarlyStoppingLightGBM(BaseEstimator):  # type: ignore[misc]
    """LightGBM fitted with early stopping on a split of the rows it is given."""

    classifier = False

    def __init__(
        self,
        n_estimators: int = 1000,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        reg_lambda: float = 0.0,
        validation_fraction: float = 0.1,
        early_stopping_rounds: int = 20,
        n_jobs: int = -1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, features: Any, target: Any) -> Any:
        import lightgbm

        kind = lightgbm.LGBMClassifier if self.classifier else lightgbm.LGBMRegressor
        model = kind(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            reg_lambda=self.reg_lambda,
            n_jobs=openmp_threads(self.n_jobs),
            random_state=self.random_state,
            verbosity=-1,
        )
        fit_rows, valid_rows, fit_target, valid_target = train_test_split(
            features,
            target,
            test_size=self.validation_fraction,
            random_state=self.random_state,
            stratify=target if self.classifier else None,
        )
        with warnings.catch_warnings():
            # eval_X/eval_y, its successor, skips the label encoding of text classes
            warnings.filterwarnings("ignore", "The argument 'eval_set' is deprecated")
            model.fit(
                fit_rows,
                fit_target,
                eval_set=[(valid_rows, valid_target)],
                callbacks=[
                    lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)
                ],
            )
        self.booster_ = model
        self.best_iteration_ = int(model.best_iteration_ or model.n_estimators)
        self.n_iter_ = max(
            len(v) for v in next(iter(model.evals_result_.values())).values()
        )
        self.n_features_in_ = model.n_features_in_
        self.feature_importances_ = np.asarray(model.feature_importances_, dtype=float)
        if self.classifier:
            self.classes_ = model.classes_
        return self

    def predict(self, features: Any) -> Any:
        return self.booster_.predict(features)


class LightGBMClassifier(ClassifierMixin, _EarlyStoppingLightGBM):  # type: ignore[misc]
    """LightGBM classifier with early stopping (stratified validation split)."""

    classifier = True

    def predict_proba(self, features: Any) -> Any:
        return self.booster_.predict_proba(features)


class LightGBMRegressor(RegressorMixin, _EarlyStoppingLightGBM):  # type: ignore[misc]
    """LightGBM regressor with early stopping."""


def lightgbm(classifier: bool, values: Mapping[str, Any], seed: int) -> Any:
    """LightGBM with early stopping on a validation split of the training rows."""
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
