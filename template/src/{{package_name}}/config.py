"""Typed settings, loaded once from params.yaml and validated.

DVC tracks the same file: every value here is a DVC param and is logged to MLflow.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import families
from .errors import ConfigError
from .tasks import current

IMPUTERS = ("mean", "median", "most_frequent")
ON_SOFT_FINDING = ("warn", "reject")


@dataclass(frozen=True)
class DataConfig:
    """Where the data lives and how to split it."""

    path: Path
    target: str
    drop: tuple[str, ...]
    test_size: float
    seed: int


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


def load_params(path: Path) -> dict[str, Any]:
    """Read params.yaml as a plain dict (what DVC sees)."""
    if not path.is_file():
        raise ConfigError(
            f"{path} not found: run from the project root or pass --params"
        )
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(params, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (data, model, ...)")
    return params


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested sections to dotted keys, as DVC and MLflow show them."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class _Section:
    """Reads typed values from one section of params.yaml with clear errors."""

    def __init__(self, params: dict[str, Any], name: str, source: Path) -> None:
        section: Any = params
        for part in name.split("."):
            section = section.get(part) if isinstance(section, dict) else None
        if not isinstance(section, dict):
            raise ConfigError(f"{source}: section '{name}' is missing or not a mapping")
        self.values = section
        self.name = name
        self.source = source

    def _fail(self, key: str, expected: str) -> ConfigError:
        value = self.values.get(key)
        return ConfigError(
            f"{self.source}: {self.name}.{key} must be {expected}, got {value!r}"
        )

    def text(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.values.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        if choices is not None and value not in choices:
            raise self._fail(key, "one of " + ", ".join(choices))
        return value

    def integer(self, key: str, minimum: int = 1) -> int:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value

    def optional_integer(self, key: str, minimum: int = 1) -> int | None:
        if self.values.get(key) is None:
            return None
        return self.integer(key, minimum)

    def number(self, key: str, low: float, high: float) -> float:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, f"a number between {low} and {high}")
        if not low < value < high:
            raise self._fail(key, f"a number between {low} and {high} (exclusive)")
        return float(value)

    def hyperparameter(self, spec: families.Hyperparameter) -> int | float | None:
        if spec.kind == "optional_int":
            return self.optional_integer(spec.name, int(spec.minimum))
        if spec.kind == "int":
            return self.integer(spec.name, int(spec.minimum))
        if spec.kind == "jobs":
            value = self.values.get(spec.name)
            if value == -1 and not isinstance(value, bool):
                return -1
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self._fail(spec.name, "-1 (all cores) or a count >= 1")
            return value
        if spec.kind == "nonnegative":
            value = self.values.get(spec.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._fail(spec.name, "a number >= 0")
            if value < 0:
                raise self._fail(spec.name, "a number >= 0")
            return float(value)
        return self.number(spec.name, spec.minimum, float("inf"))

    def known(self, keys: tuple[str, ...]) -> None:
        """Fail on a key no one reads (a typo would silently change nothing)."""
        unknown = sorted(set(self.values) - set(keys))
        if unknown:
            raise ConfigError(
                f"{self.source}: {self.name}.{unknown[0]} is not a setting; "
                f"known: {', '.join(keys)}"
            )

    def flag(self, key: str) -> bool:
        value = self.values.get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.values.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of column names")
        return tuple(value)


def load_config(path: Path) -> Config:
    """Load and validate params.yaml."""
    task = current()
    params = load_params(path)
    data = _Section(params, "data", path)
    features = _Section(params, "features", path)
    model = _Section(params, "model", path)
    evaluate = _Section(params, "evaluate", path)
    return Config(
        data=DataConfig(
            path=Path(data.text("path")),
            target=data.text("target"),
            drop=data.names("drop"),
            test_size=data.number("test_size", 0.0, 1.0),
            seed=data.integer("seed", minimum=0),
        ),
        features=FeaturesConfig(
            numeric_imputer=features.text("numeric_imputer", IMPUTERS),
            scale=features.flag("scale"),
            max_categories=features.integer("max_categories", minimum=2),
        ),
        model=_model(model, path),
        evaluate=EvaluateConfig(
            primary_metric=evaluate.text("primary_metric", task.metrics),
            greater_is_better=evaluate.flag("greater_is_better"),
            min_test_rows=evaluate.integer("min_test_rows"),
            cv_folds=evaluate.integer("cv_folds"),
            bootstrap=evaluate.integer("bootstrap", minimum=0),
            min_promote_rows=evaluate.integer("min_promote_rows"),
        ),
        tune=_tune(params, model.text("type"), path),
        raw=params,
    )


def _model(model: _Section, path: Path) -> ModelConfig:
    """`model.type` and the chosen family's section, every key checked."""
    name = model.text("type", families.names(current().families))
    family = families.find(current().families, name)
    section = _Section(model.values, name, path)
    section.name = f"model.{name}"
    section.known(family.keys)
    values = {
        spec.name: section.hyperparameter(spec) for spec in family.hyperparameters
    }
    return ModelConfig(type=name, hyperparameters=values)


def _tune(params: dict[str, Any], family: str, path: Path) -> TuneConfig:
    """The `tune` section; the search space of the chosen family only."""
    tune = _Section(params, "tune", path)
    timeout = tune.values.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or timeout <= 0
    ):
        raise tune._fail("timeout", "null or a number of seconds > 0")
    storage = tune.values.get("storage")
    if storage is not None and (not isinstance(storage, str) or "://" not in storage):
        raise tune._fail("storage", "null or a database URL such as sqlite:///study.db")
    n_trials = tune.integer("n_trials", minimum=0)
    space = (tune.values.get("space") or {}).get(family) if n_trials else {}
    if n_trials and not isinstance(space, dict):
        raise ConfigError(
            f"{path}: tune.space.{family} is missing: declare the ranges to search "
            "for the chosen model.type"
        )
    return TuneConfig(
        n_trials=n_trials,
        timeout=None if timeout is None else float(timeout),
        n_jobs=tune.integer("n_jobs"),
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
    monitor = _Section(load_params(path), "monitor", path)
    log = monitor.values.get("request_log")
    if log is not None and (not isinstance(log, str) or not log):
        raise monitor._fail("request_log", "a folder name or null (no request log)")
    return MonitorConfig(
        on_soft_finding=monitor.text("on_soft_finding", ON_SOFT_FINDING),
        missing_share=monitor.number("missing_share", 0.0, 1.0),
        psi=monitor.number("psi", 0.0, float("inf")),
        p_value=monitor.number("p_value", 0.0, 1.0),
        request_log=None if log is None else Path(log),
        request_log_max_mb=monitor.integer("request_log_max_mb"),
        request_log_files=monitor.integer("request_log_files"),
    )
