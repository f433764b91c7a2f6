"""The reference profile: what the training rows looked like, as a machine contract.

`train` writes models/reference.json next to the model (a DVC output, and an MLflow
artifact of the evaluate run). Per feature column it records the kind, the share
of missing values, and

- numbers and dates (dates as days since 1970): the range, quantiles, the bin
  edges and shares the drift statistic (PSI) compares, and a sample of values for
  the Kolmogorov-Smirnov test;
- strings: each category's share (the most frequent MAX_CATEGORIES of them).

The model's own predictions on the training rows are profiled the same way, as
the column `prediction`. `contract.py` checks new rows against the profile,
`drift.py` compares whole batches with it.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.artifacts import _read
from ..core.errors import DataError, ProjectError, warn
from ..core.files import write_json
from ..modeling.features import DATETIME, NUMBER, STRING

VERSION = 1
BINS = 10
"""PSI bins: deciles of the training values."""
SAMPLE = 1000
"""Training values kept per numeric column for the Kolmogorov-Smirnov test."""
MAX_CATEGORIES = 1000
"""Categories kept per string column; with more, unseen ones are not counted."""
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
PREDICTION = "prediction"


@dataclass(frozen=True)
class ColumnProfile:
    """One column of the training rows (see the module doc)."""

    kind: str
    rows: int
    missing_share: float
    minimum: float | None = None
    maximum: float | None = None
    quantiles: dict[str, float] | None = None
    edges: list[float] | None = None
    shares: list[float] | None = None
    sample: list[float] | None = None
    categories: dict[str, float] | None = None
    complete: bool = True
    """False when the column had more than MAX_CATEGORIES categories."""

    @property
    def numeric(self) -> bool:
        """Whether the column is compared as numbers (numbers and dates)."""
        return self.kind in (NUMBER, DATETIME)


@dataclass(frozen=True)
class Reference:
    """The profile of every feature column and of the predictions."""

    rows: int
    columns: dict[str, ColumnProfile]
    prediction: ColumnProfile

    def write(self, path: Path) -> None:
        """Write the profile atomically as JSON."""
        write_json(
            path,
            {
                "version": VERSION,
                "rows": self.rows,
                "columns": {n: asdict(p) for n, p in self.columns.items()},
                "prediction": asdict(self.prediction),
            },
        )

    @classmethod
    def read(cls, path: Path) -> "Reference":
        """Read and check a profile written by `train`."""
        data = _read(path, "reference profile not found; retrain with `dvc repro`")
        try:
            if data["version"] != VERSION:
                raise ValueError(f"version {data['version']}, expected {VERSION}")
            return cls(
                rows=int(data["rows"]),
                columns={
                    str(n): ColumnProfile(**p) for n, p in data["columns"].items()
                },
                prediction=ColumnProfile(**data["prediction"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(
                f"{path}: not a reference profile of this project ({exc}); "
                "retrain with `dvc repro`"
            ) from exc


def as_values(values: pd.Series, kind: str) -> "pd.Series[float] | pd.Series[str]":
    """Conformed values as the profile compares them: numbers (dates as days since
    1970) or text; missing values dropped.
    """
    present = values.dropna()
    if kind == DATETIME:
        epoch = pd.Timestamp(0, tz="UTC")
        return (pd.to_datetime(present, utc=True) - epoch) / pd.Timedelta(days=1)
    if kind == NUMBER:
        return present.astype(float)
    return present.astype(str)


def bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Share of `values` in each bin: below the first inner edge, between edges,
    at or above the last (so a value outside the training range still counts).
    """
    if len(values) == 0:
        return np.zeros(len(edges) + 1)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges), values, side="right"),
        minlength=len(edges) + 1,
    )
    return counts / len(values)


def profile(values: pd.Series, kind: str, seed: int = 0) -> ColumnProfile:
    """The profile of one column of conformed training values."""
    rows = len(values)
    missing_share = float(values.isna().mean()) if rows else 0.0
    present = as_values(values, kind)
    if kind == STRING:
        counts = present.value_counts()
        kept = counts.head(MAX_CATEGORIES)
        return ColumnProfile(
            kind=kind,
            rows=rows,
            missing_share=missing_share,
            categories={
                str(k): float(v / max(len(present), 1)) for k, v in kept.items()
            },
            complete=len(counts) <= MAX_CATEGORIES,
        )
    numbers = present.to_numpy(dtype=float)
    if len(numbers) == 0:
        return ColumnProfile(kind=kind, rows=rows, missing_share=missing_share)
    inner = np.unique(np.quantile(numbers, np.linspace(0, 1, BINS + 1)[1:-1]))
    edges = [float(e) for e in inner]
    rng = np.random.default_rng(seed)
    sample = numbers if len(numbers) <= SAMPLE else rng.choice(numbers, SAMPLE, False)
    return ColumnProfile(
        kind=kind,
        rows=rows,
        missing_share=missing_share,
        minimum=float(numbers.min()),
        maximum=float(numbers.max()),
        quantiles={str(q): float(np.quantile(numbers, q)) for q in QUANTILES},
        edges=edges,
        shares=[float(s) for s in bin_shares(numbers, edges)],
        sample=[float(v) for v in np.sort(sample)],
    )


def build(
    features: pd.DataFrame,
    kinds: dict[str, str],
    predictions: Any,
    prediction_kind: str,
) -> Reference:
    """The profile of conformed training features and the model's predictions."""
    return Reference(
        rows=len(features),
        columns={name: profile(features[name], kind) for name, kind in kinds.items()},
        prediction=profile(pd.Series(predictions), prediction_kind),
    )


def beside(model_path: Path) -> Path:
    """Where `train` writes the profile of the model at `model_path`."""
    return model_path.parent / "reference.json"


def for_model(source: str, root: Path) -> Reference:
    """The profile of the model at `source`: reference.json beside a model file, or
    the `reference/reference.json` artifact of an MLflow model's run.
    """
    from ..versioning.loading import is_tracked, local_path

    if not is_tracked(source):
        return Reference.read(beside(local_path(source, root)))
    from ..versioning.tracking import download_reference

    return Reference.read(download_reference(source, root))


def optional_for_model(source: str, root: Path) -> Reference | None:
    """The model's profile, or None with a warning when the model has none (it was
    trained before profiles existed): its inputs are then not checked.
    """
    from ..versioning.loading import is_tracked, local_path

    if not is_tracked(source) and beside(local_path(source, root)).is_file():
        return for_model(source, root)
    try:
        return for_model(source, root)
    except ProjectError as exc:
        warn(f"{exc}; inputs are not checked against the training profile")
        return None
