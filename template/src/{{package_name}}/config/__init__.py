"""Typed settings, loaded once from params.yaml and validated.

DVC tracks the same file: every value here is a DVC param and is logged to MLflow.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..modeling import families
from ..modeling.tasks import current
from .sections import Section, load_params

IMPUTERS = ("mean", "median", "most_frequent")
LOWER_IS_BETTER = frozenset({"rmse", "mae"})
"""Known metrics where lower is better; every other known metric: higher."""
ON_SOFT_FINDING = ("warn", "reject")
SECTIONS = ("data", "features", "model", "evaluate", "tune", "monitor")
"""The sections of params.yaml; each loader below checks every key of its own."""


@dataclass(frozen=True)
class DataConfig:
    """Where the data lives and how to split it."""

    path: Path
    target: str
    drop: tuple[str, ...]
    test_size: float
    seed: int
    na_values: tuple[str, ...] = ()
    """Cell texts that mean "missing" besides the usual ones (NA, n/a, ...)."""


@dataclass(frozen=True)
class FeaturesConfig:
    """How raw columns become model inputs (inside the saved sklearn Pipeline)."""

    numeric_imputer: str
    scale: bool
    max_categories: int


@dataclass(frozen=True)
class ModelConfig:
    """Which model family to fit (`type`) and its hyperparameters.

    Each family's values live under its own name: `model.<type>.<key>`
    (families.py lists the keys).
    """

    type: str
    hyperparameters: dict[str, Any]

    @property
    def family(self) -> families.Family:
        """The family named by `type`."""
        return families.find(current().families, self.type)


@dataclass(frozen=True)
class TuneConfig:
    """The hyperparameter search (stage `tune`): budget, storage, search space."""

    n_trials: int
    """Trials the study holds in total: 0 turns tuning off."""
    timeout: float | None
    """Seconds one `tune` run may search, or None for no limit."""
    n_jobs: int
    storage: str | None
    """A database URL for the Optuna study, or None for tuning/study.db."""
    space: dict[str, Any]
    """The ranges of the chosen family (`tune.space.<model.type>`)."""


@dataclass(frozen=True)
class EvaluateConfig:
    """Which metric decides whether one model is better than another, on how
    many held-out rows at least (prepare stops with fewer).
    """

    primary_metric: str
    greater_is_better: bool
    min_test_rows: int
    cv_folds: int
    """Cross-validation folds on the training rows (1: no cross-validation)."""
    bootstrap: int
    """Resamples of the test rows for the confidence intervals (0: none)."""
    min_promote_rows: int
    """A model scored on fewer test rows never becomes the champion."""
    segments: tuple[str, ...] = ()
    """Columns whose values split the test rows into groups scored apart."""
    sample_rows: int | None = None
    """Cross-validation and the bootstrap on a seeded sample of at most this many
    rows (None: every row)."""


@dataclass(frozen=True)
class MonitorConfig:
    """The data contract at the door and drift monitoring (contract.py, drift.py)."""

    on_soft_finding: str = "warn"
    missing_share: float = 0.1
    psi: float = 0.2
    p_value: float = 0.01
    request_log: Path | None = None
    request_log_max_mb: int = 10
    request_log_files: int = 10


@dataclass(frozen=True)
class Config:
    """Everything in params.yaml, validated."""

    data: DataConfig
    features: FeaturesConfig
    model: ModelConfig
    evaluate: EvaluateConfig
    tune: TuneConfig
    raw: dict[str, Any]


def load_config(path: Path) -> Config:
    """Load and validate params.yaml."""
    task = current()
    params = load_params(path)
    unknown = [name for name in params if name not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"{path}: section '{unknown[0]}' is not a setting; "
            f"known: {', '.join(SECTIONS)}"
        )
    data = Section(params, "data", path)
    features = Section(params, "features", path)
    model = Section(params, "model", path)
    evaluate = Section(params, "evaluate", path)
    cfg = Config(
        data=DataConfig(
            path=Path(data.text("path")),
            target=data.text("target"),
            drop=data.names("drop"),
            test_size=data.number("test_size", 0.0, 1.0),
            seed=data.integer("seed", minimum=0),
            na_values=data.names("na_values"),
        ),
        features=FeaturesConfig(
            numeric_imputer=features.text("numeric_imputer", IMPUTERS),
            scale=features.flag("scale"),
            max_categories=features.integer("max_categories", minimum=2),
        ),
        model=_model(model, path),
        evaluate=EvaluateConfig(
            primary_metric=evaluate.text("primary_metric", task.metrics),
            greater_is_better=_direction(evaluate),
            min_test_rows=evaluate.integer("min_test_rows"),
            cv_folds=evaluate.integer("cv_folds"),
            bootstrap=evaluate.integer("bootstrap", minimum=0),
            min_promote_rows=evaluate.integer("min_promote_rows"),
            segments=evaluate.names("segments"),
            sample_rows=evaluate.optional_integer("sample_rows", minimum=20),
        ),
        tune=_tune(params, model.text("type"), path),
        raw=params,
    )
    for section in (data, features, evaluate):
        section.known()
    return cfg


def _direction(evaluate: Section) -> bool:
    """`evaluate.greater_is_better`, refused when it contradicts the metric."""
    metric = evaluate.text("primary_metric")
    greater = evaluate.flag("greater_is_better")
    if greater == (metric in LOWER_IS_BETTER):
        right = "false" if metric in LOWER_IS_BETTER else "true"
        raise evaluate._fail(
            "greater_is_better",
            f"{right} for primary_metric {metric} "
            f"({'lower' if right == 'false' else 'higher'} is better), or the "
            "champion gate would prefer the worse model",
        )
    return greater


def _model(model: Section, path: Path) -> ModelConfig:
    """`model.type` and the chosen family's section; every family's section
    that is there checked key by key (a typo in another one is an error too)."""
    table = current().families
    name = model.text("type", families.names(table))
    model.known(("type", *families.names(table)))
    values: dict[str, dict[str, Any]] = {}
    for family in table:
        if family.name != name and family.name not in model.values:
            continue
        section = Section(model.values, family.name, path)
        section.name = f"model.{family.name}"
        section.known(family.keys)
        values[family.name] = {
            spec.name: section.hyperparameter(spec) for spec in family.hyperparameters
        }
    return ModelConfig(type=name, hyperparameters=values[name])


def _tune(params: dict[str, Any], family: str, path: Path) -> TuneConfig:
    """The `tune` section; the search space of the chosen family only."""
    tune = Section(params, "tune", path)
    timeout = tune.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
        raise tune._fail("timeout", "null or a number of seconds > 0")
    storage = tune.get("storage")
    if storage is not None and (not isinstance(storage, str) or "://" not in storage):
        raise tune._fail("storage", "null or a database URL such as sqlite:///study.db")
    n_trials = tune.integer("n_trials", minimum=0)
    spaces = tune.get("space") or {}
    space = spaces.get(family) if n_trials and isinstance(spaces, dict) else {}
    if n_trials and not isinstance(space, dict):
        raise ConfigError(
            f"{path}: tune.space.{family} is missing: declare the ranges to search "
            "for the chosen model.type"
        )
    n_jobs = tune.integer("n_jobs")
    tune.known()
    return TuneConfig(
        n_trials=n_trials,
        timeout=None if timeout is None else float(timeout),
        n_jobs=n_jobs,
        storage=storage,
        space=dict(space or {}),
    )


def load_monitor(path: Path, *, required: bool = True) -> MonitorConfig:
    """The `monitor` section of params.yaml, validated.

    With `required` False a missing file gives the defaults: a container image
    serves the model without the project's params.yaml.
    """
    if not required and not path.is_file():
        return MonitorConfig()
    monitor = Section(load_params(path), "monitor", path)
    log = monitor.get("request_log")
    if log is not None and (not isinstance(log, str) or not log):
        raise monitor._fail("request_log", "a folder name or null (no request log)")
    cfg = MonitorConfig(
        on_soft_finding=monitor.text("on_soft_finding", ON_SOFT_FINDING),
        missing_share=monitor.number("missing_share", 0.0, 1.0),
        psi=monitor.number("psi", 0.0, float("inf")),
        p_value=monitor.number("p_value", 0.0, 1.0),
        request_log=None if log is None else Path(log),
        request_log_max_mb=monitor.integer("request_log_max_mb"),
        request_log_files=monitor.integer("request_log_files"),
    )
    monitor.known()
    return cfg
