"""The search space of `tune`: `tune.space.<model.type>` in params.yaml.

Each range is {low, high} (log: true for a log scale) or {choices: [...]}, names a
setting of the family and stays within that setting's bounds
(families.Hyperparameter); `check` runs these checks before any stage, `tune`
again before it searches. suggest() draws one value of a range for an Optuna
trial.
"""

from typing import Any

from ..config import Config
from ..core.errors import ConfigError
from ..modeling.families import Family

SHAPE = "{low: .., high: .., log: true} or {choices: [...]}"
"""How a range is written in tune.space."""


def check_space(cfg: Config) -> None:
    """The chosen family's space is not empty and every range is valid."""
    if not cfg.tune.space:
        raise ConfigError(
            f"params.yaml: tune.space.{cfg.model.type} is empty: declare a range "
            "to search"
        )
    check_ranges(cfg.model.family, cfg.tune.space)


def check_ranges(family: Family, space: dict[str, Any]) -> None:
    """Every range names a setting of the family, has a valid shape and stays
    within the setting's bounds (families.Hyperparameter)."""
    settings = {spec.name: spec for spec in family.hyperparameters}
    for name, spec in space.items():
        where = f"params.yaml: tune.space.{family.name}.{name}"
        if name not in settings:
            raise ConfigError(
                f"{where} is not a setting of {family.name}; known: "
                f"{', '.join(settings)}"
            )
        setting = settings[name]
        if setting.kind == "layers":  # Optuna chooses numbers and text, not lists
            raise ConfigError(f"{where}: set the layers in model.{family.name}")
        if isinstance(spec, dict) and isinstance(spec.get("choices"), list):
            extra = sorted(set(spec) - {"choices"})
            values = spec["choices"]
        else:
            numbers = isinstance(spec, dict) and all(
                type(spec.get(key)) in (int, float) for key in ("low", "high")
            )
            if not numbers or spec["low"] > spec["high"]:
                raise ConfigError(
                    f"{where} must be " + SHAPE + f" with low <= high; got {spec!r}"
                )
            if spec.get("log") and spec["low"] <= 0:
                raise ConfigError(
                    f"{where}: a log scale needs low > 0, got {spec['low']}"
                )
            extra = sorted(set(spec) - {"low", "high", "log"})
            values = [spec["low"], spec["high"]]
        if extra:
            raise ConfigError(f"{where}.{extra[0]} is not a setting; known: " + SHAPE)
        integral = setting.kind in ("int", "optional_int", "jobs")
        for value in values:
            if isinstance(value, float) and integral and value.is_integer():
                value = int(value)
            if not setting.allows(value):
                raise ConfigError(
                    f"{where}: {value!r} is outside model.{family.name}.{name}: "
                    f"{setting.bounds}"
                )


def suggest(trial: Any, name: str, spec: dict[str, Any], kind: str) -> Any:
    """One value from a range {low, high, log} or {choices: [...]}."""
    if "choices" in spec:
        return trial.suggest_categorical(name, spec["choices"])
    log = bool(spec.get("log", False))
    if kind in ("int", "optional_int", "jobs"):
        return trial.suggest_int(name, int(spec["low"]), int(spec["high"]), log=log)
    return trial.suggest_float(name, float(spec["low"]), float(spec["high"]), log=log)
