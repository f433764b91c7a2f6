"""Model families as a table: what each `model.type` in params.yaml fits.

A family is one entry: its estimator (built for the project's task), the
hyperparameters it reads from its own section of params.yaml (`model.<name>:`,
with their types and defaults), and what it can do. The task module (tasks/)
holds the table; config.py validates the family's keys, train.py builds the
chosen one, tune.py searches the ranges declared under `tune.space.<name>`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConfigError

Kind = Literal[
    "int", "optional_int", "float", "nonnegative", "jobs", "layers", "choice"
]
Value = int | float | str | list[int] | None


@dataclass(frozen=True)
class Hyperparameter:
    """One key under `model.<family>:` in params.yaml.

    Kinds: "int" (>= minimum), "optional_int" (null or >= minimum), "float"
    (> minimum), "nonnegative" (a number >= 0), "jobs" (CPU cores: -1 for all, or
    a count >= 1), "layers" (a list of whole numbers >= minimum, such as a
    network's units per layer), "choice" (one of `choices`).
    """

    name: str
    kind: Kind
    default: Value
    minimum: float
    """Smallest allowed value: inclusive for "int", exclusive for "float"."""
    help: str
    choices: tuple[str, ...] = ()
    """The allowed values of a "choice"."""


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


# Hyperparameters shared by the tree ensembles of both tasks.
N_ESTIMATORS = Hyperparameter("n_estimators", "int", 100, 1, "number of trees")
MAX_DEPTH = Hyperparameter("max_depth", "optional_int", 8, 1, "null for unlimited")
MIN_SAMPLES_LEAF = Hyperparameter("min_samples_leaf", "int", 2, 1, "smallest leaf")
N_JOBS = Hyperparameter("n_jobs", "jobs", -1, -1, "CPU cores: -1 for all")
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
