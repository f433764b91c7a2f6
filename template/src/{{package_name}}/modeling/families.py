"""Model families as a table: what each `model.type` in params.yaml fits.

A family is one entry: its estimator (built for the project's task), the
hyperparameters it reads from its own section of params.yaml (`model.<name>:`,
with their types and defaults), and what it can do. The task module (tasks/)
holds the table; config.py validates the family's keys, train.py builds the
chosen one, tune.py searches the ranges declared under `tune.space.<name>`.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..core.errors import ConfigError

Kind = Literal[
    "int", "optional_int", "float", "nonnegative", "jobs", "layers", "choice"
]
Value = int | float | str | list[int] | None


@dataclass(frozen=True)
class Hyperparameter:
    """One key under `model.<family>:` in params.yaml.

    Kinds: "int" (minimum to maximum), "optional_int" (null or an "int"), "float"
    (above minimum, at most maximum), "nonnegative" (a number from 0 to maximum),
    "jobs" (CPU cores: -1 for all, or a count from 1 to maximum), "layers" (a list
    of whole numbers from minimum to maximum, such as a network's units per
    layer), "choice" (one of `choices`). Every value is checked against its bounds
    before a stage starts (`check`): a typo such as n_estimators: 1000000000 stops
    in one line instead of training for hours.
    """

    name: str
    kind: Kind
    default: Value
    minimum: float
    """Smallest allowed value: inclusive for "int", exclusive for "float"."""
    help: str
    maximum: float = math.inf
    """Largest allowed value, inclusive."""
    choices: tuple[str, ...] = ()
    """The allowed values of a "choice"."""

    @property
    def bounds(self) -> str:
        """The allowed values in words, for an error message."""
        whole = float(self.maximum).is_integer()
        top = str(int(self.maximum)) if whole else str(self.maximum)
        if self.kind == "jobs":
            return f"-1 (all cores) or a count from 1 to {top}"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "layers":
            low = f"{self.minimum:g}"
            return f"a list of whole numbers from {low} to {top}, such as [64, 32]"
        if self.kind in ("int", "optional_int"):
            text = f"an integer from {self.minimum:g} to {top}"
            return "null or " + text if self.kind == "optional_int" else text
        if self.kind == "nonnegative":
            return f"a number from 0 to {top}"
        return f"a number above {self.minimum:g} and at most {top}"

    def allows(self, value: object) -> bool:
        """Whether `value` (as read from params.yaml) is within the bounds."""
        if value is None:
            return self.kind == "optional_int"
        if self.kind == "choice":
            return value in self.choices
        if self.kind == "layers":
            return (
                isinstance(value, list)
                and bool(value)
                and all(
                    isinstance(v, int)
                    and not isinstance(v, bool)
                    and self.minimum <= v <= self.maximum
                    for v in value
                )
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "jobs" and value == -1:
            return isinstance(value, int)
        if self.kind in ("int", "optional_int", "jobs"):
            low = 1 if self.kind == "jobs" else self.minimum
            return isinstance(value, int) and low <= value <= self.maximum
        if self.kind == "nonnegative":
            return 0 <= value <= self.maximum
        return self.minimum < value <= self.maximum


@dataclass(frozen=True)
class Capabilities:
    """What a family's fitted estimator offers."""

    feature_importance: bool
    """`feature_importances_` (trees); the others are ranked by `coef_`."""
    early_stopping: bool
    native_missing_values: bool
    """Accepts NaN without the imputer."""
    native_categories: bool = False
    """Splits on categories itself: string columns arrive as one code each
    (features.build_preprocessor), and the estimator's `categorical_features`
    is set to their positions (train.build), instead of one-hot columns."""
    validation_rows: bool = False
    """`fit` takes early stopping's validation rows as `X_val` and `y_val`
    (HistGradientBoosting's names): `train` splits them off the model-input
    matrix and lets the matrix go, where the estimator would split a copy of it
    (train.validation_rows)."""


Estimator = Callable[[Mapping[str, Any], int], Any]
"""Builds an unfitted estimator from the hyperparameter values and the seed."""


@dataclass(frozen=True)
class Family:
    """One model family: `model.type: <name>` in params.yaml."""

    name: str
    estimator: Estimator
    hyperparameters: tuple[Hyperparameter, ...]
    capabilities: Capabilities

    @property
    def keys(self) -> tuple[str, ...]:
        """The params.yaml keys (under `model:`) this family reads."""
        return tuple(h.name for h in self.hyperparameters)


DEFAULT = "lightgbm"
"""`model.type` as the template ships it in params.yaml."""
WHY_DEFAULT = (
    "gradient-boosted trees that take missing values and string categories as "
    "they are and stop adding trees once a validation split stops improving, "
    "so a million rows fit in minutes and in under three times the table's "
    "memory (scikit-learn's hist_gradient_boosting makes float64 copies of "
    "the rows while fitting; a random forest's deep trees, refitted for each "
    "cross-validation fold, do not scale as far)"
)
"""Why: the model card says it under "Model details"."""


# Hyperparameters shared by the tree ensembles of both tasks.
N_ESTIMATORS = Hyperparameter("n_estimators", "int", 100, 1, "number of trees", 10_000)
MAX_DEPTH = Hyperparameter(
    "max_depth", "optional_int", 8, 1, "null for unlimited", 1_000
)
MIN_SAMPLES_LEAF = Hyperparameter(
    "min_samples_leaf", "int", 2, 1, "smallest leaf", 100_000
)
N_JOBS = Hyperparameter("n_jobs", "jobs", -1, -1, "CPU cores: -1 for all", 1_024)
FOREST_PARAMETERS = (N_ESTIMATORS, MAX_DEPTH, MIN_SAMPLES_LEAF, N_JOBS)
FOREST_CAPABILITIES = Capabilities(
    feature_importance=True, early_stopping=False, native_missing_values=False
)
LINEAR_CAPABILITIES = Capabilities(
    feature_importance=False, early_stopping=False, native_missing_values=False
)


def opt_in(classifier: bool) -> tuple[Family, ...]:
    """Families whose module a render-time answer adds: torch_mlp (deep_learning).

    The module is imported only when the package holds it; it imports torch only
    when a network is built.
    """
    from importlib import import_module
    from importlib.util import find_spec

    name = f"{__package__}.torch_mlp"
    if find_spec(name) is None:
        return ()
    family: Family = import_module(name).family(classifier)
    return (family,)


def names(families: tuple[Family, ...]) -> tuple[str, ...]:
    """The known `model.type` values, in table order."""
    return tuple(family.name for family in families)


def find(families: tuple[Family, ...], name: str) -> Family:
    """The family called `name`; an unknown name lists the known ones."""
    for family in families:
        if family.name == name:
            return family
    raise ConfigError(
        f"model.type must be one of {', '.join(names(families))}, got {name!r}"
    )
