"""Reading params.yaml: the file as a plain dict, and typed values from one section.

Every reader's error names the file, the dotted key and what it must be.
"""

from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ConfigError
from ..modeling import families


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


class Section:
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
        self.read: list[str] = []
        """The keys asked for, in order: the section's known keys (`known()`)."""

    def get(self, key: str) -> Any:
        """The raw value of `key` (None when absent), noted as a known key."""
        if key not in self.read:
            self.read.append(key)
        return self.values.get(key)

    def _fail(self, key: str, expected: str) -> ConfigError:
        value = self.values.get(key)
        return ConfigError(
            f"{self.source}: {self.name}.{key} must be {expected}, got {value!r}"
        )

    def text(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        if choices is not None and value not in choices:
            raise self._fail(key, "one of " + ", ".join(choices))
        return value

    def integer(self, key: str, minimum: int = 1) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value

    def optional_integer(self, key: str, minimum: int = 1) -> int | None:
        if self.get(key) is None:
            return None
        return self.integer(key, minimum)

    def number(self, key: str, low: float, high: float) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, f"a number between {low} and {high}")
        if not low < value < high:
            raise self._fail(key, f"a number between {low} and {high} (exclusive)")
        return float(value)

    def hyperparameter(self, spec: families.Hyperparameter) -> families.Value:
        value = self.get(spec.name)
        if not spec.allows(value):
            raise self._fail(spec.name, spec.bounds)
        if spec.kind == "layers":
            return list(value)
        if value is None or spec.kind in ("int", "optional_int", "jobs", "choice"):
            return value  # type: ignore[no-any-return]
        return float(value)

    def known(self, keys: tuple[str, ...] | None = None) -> None:
        """Fail on a key no one reads (a typo would silently change nothing).

        Without `keys`, the known keys are those read so far (`get()`).
        """
        if keys is None:  # the keys read, in the file's order, then absent ones
            order = {key: i for i, key in enumerate(self.values)}
            keys = tuple(sorted(self.read, key=lambda k: order.get(k, len(order))))
        unknown = [key for key in self.values if key not in keys]
        if unknown:
            raise ConfigError(
                f"{self.source}: {self.name}.{unknown[0]} is not a setting; "
                f"known: {', '.join(keys)}"
            )

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of column names")
        return tuple(value)
