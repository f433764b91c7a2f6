"""Typed contracts for the files one stage hands the next.

`prepare` writes data/prepared/summary.json (`DataSummary`), `train` writes
models/schema.json (`Schema`), `tune` writes models/best_params.json
(`BestParams`). Each is checked once, where it is read; the
readers (evaluate, predict, serving, the model card) then use typed fields.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError
from .files import write_json


def _read(path: Path, missing: str) -> Any:
    if not path.is_file():
        raise DataError(f"{path}: {missing}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read it as JSON: {exc}") from exc


@dataclass(frozen=True)
class DataSummary:
    """What `prepare` read and how it split it (data/prepared/summary.json)."""

    path: str
    md5: str
    rows: int
    train_rows: int
    test_rows: int
    target: str
    features: list[str]
    unlabelled: int = 0
    """Rows of the file without a target value: left out of both splits."""
    leaks: list[dict[str, Any]] = field(default_factory=list)
    """Columns that alone nearly decide the target (leakage.py): column, score,
    measure."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in file order (the model card reads these)."""
        return asdict(self)

    def write(self, path: Path) -> None:
        """Write the summary atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path) -> "DataSummary":
        """Read and check a summary written by `prepare`."""
        data = _read(path, "data summary not found; run `dvc repro` (prepare)")
        try:
            return cls(
                path=str(data["path"]),
                md5=str(data["md5"]),
                rows=int(data["rows"]),
                train_rows=int(data["train_rows"]),
                test_rows=int(data["test_rows"]),
                target=str(data["target"]),
                features=[str(f) for f in data["features"]],
                unlabelled=int(data.get("unlabelled", 0)),
                leaks=[dict(leak) for leak in data.get("leaks", [])],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{path}: not a data summary of this project ({exc!r}); "
                "rerun `dvc repro`"
            ) from exc


@dataclass(frozen=True)
class Schema:
    """What the model expects and returns (models/schema.json).

    `features` maps each feature column, in training order, to "number" or
    "string"; `classes` are the class labels (classification only).
    """

    task: str
    target: str | None
    features: dict[str, str]
    classes: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; `classes` only when the task has classes."""
        data: dict[str, Any] = {
            "task": self.task,
            "target": self.target,
            "features": self.features,
        }
        if self.classes is not None:
            data["classes"] = self.classes
        return data

    def write(self, path: Path) -> None:
        """Write the schema atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: Path) -> "Schema":
        """Read and check a schema written by `train`."""
        data = _read(
            path,
            "feature schema not found; `train` writes it next to the model "
            "(run `dvc repro` or `dvc pull`)",
        )
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, dict):
            raise DataError(
                f"{path}: no `features` mapping in it; retrain with `dvc repro`"
            )
        classes = data.get("classes")
        return cls(
            task=str(data.get("task", "")),
            target=str(data["target"]) if "target" in data else None,
            features={str(k): str(v) for k, v in features.items()},
            classes=list(classes) if isinstance(classes, list) else None,
        )


@dataclass(frozen=True)
class BestParams:
    """What `tune` found (models/best_params.json); empty `params` when not tuned."""

    family: str
    params: dict[str, Any]
    metric: str
    value: float | None
    trial: int | None
    trials: int
    study: str | None

    def write(self, path: Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> "BestParams":
        raw = _read(path, "missing: run `dvc repro` (stage tune) first")
        try:
            best = cls(**raw)
        except TypeError as exc:
            raise DataError(
                f"{path}: not a tuning result ({exc}); delete it and run `dvc repro`"
            ) from exc
        if not isinstance(best.params, dict):
            raise DataError(f"{path}: params must be a mapping; run `dvc repro`")
        return best
