"""LightGBM as a scikit-learn estimator that stops early (the `lightgbm` family).

It stops on the validation rows `train` hands it (`X_val`, `y_val`), or else
holds out `validation_fraction` of the rows it is given (stratified for a
classifier), adds trees while their validation loss improves and stops after
`early_stopping_rounds` rounds without improvement; boosting.py builds it from
params.yaml. String columns arrive as one code each, and `categorical_features`
(their positions, set by train.build) has LightGBM split on them as categories.
The package's only LightGBM estimator: train_cluster.py fills one with the
model a Dask cluster fitted. Models saved before it moved here name its classes
in boosting.py, which still answers for them.
"""

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split


def openmp_threads(n_jobs: int) -> int:
    """LightGBM's thread count for `n_jobs`: -1 becomes 0, OpenMP's own default
    (every core, or OMP_NUM_THREADS when set, as for HistGradientBoosting), so that
    processes sharing the cores (parallel tests, trials) can ask for fewer:
    LightGBM's own -1 (and None) is every core regardless, and on a busy machine
    two such processes fitted a 500-row table 10 to 35 times slower than on one
    thread."""
    return 0 if n_jobs == -1 else n_jobs


class _EarlyStoppingLightGBM(BaseEstimator):  # type: ignore[misc]
    """LightGBM fitted with early stopping on validation rows (given, or split)."""

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
        categorical_features: list[int] | None = None,
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
        self.categorical_features = categorical_features

    def fit(
        self, features: Any, target: Any, X_val: Any = None, y_val: Any = None
    ) -> Any:
        """Fit on `features`, stopping early on (`X_val`, `y_val`), or when
        not given, on `validation_fraction` of the rows split off here."""
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
        if X_val is None:
            features, X_val, target, y_val = train_test_split(
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
                features,
                target,
                eval_set=[(X_val, y_val)],
                categorical_feature=self.categorical_features or "auto",
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
