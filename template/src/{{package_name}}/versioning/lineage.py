"""Which data a model was trained on, and which of the test rows it has seen.

The registry (registry.py) compares a new model with the champion only when both
were trained on the same data: the same file (`data.path`, whatever rows it has
gained since), the same target and the same feature columns and kinds. A model of
other data is the first model on that data. Each evaluated run records its
lineage as tags and the hashes of its training rows as an artifact, so the gate can
score the champion only on test rows it has not trained on.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import parquet
from ..core.artifacts import DataSummary, Schema

TRAIN_ROWS = "split/train_rows.npy"
"""The run artifact holding one 64-bit hash per training row."""


@dataclass(frozen=True)
class Lineage:
    """The data a model was trained on."""

    path: str
    md5: str
    target: str
    schema: str
    """A digest of the target and the feature columns with their kinds."""
    features: tuple[str, ...] = ()

    @classmethod
    def of(cls, summary: DataSummary, schema: Schema) -> "Lineage":
        """The lineage of a prepared data set and the model trained on it."""
        kinds = dict(sorted(schema.features.items()))
        digest = hashlib.sha256(
            json.dumps([summary.target, kinds]).encode()
        ).hexdigest()[:16]
        return cls(summary.path, summary.md5, summary.target, digest, tuple(kinds))

    def tags(self) -> dict[str, str]:
        """MLflow tags (run and model version) that record the lineage."""
        return {
            "data.path": self.path,
            "data.md5": self.md5,
            "data.target": self.target,
            "data.schema": self.schema,
            "data.features": ",".join(self.features)[:4000],
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> "Lineage | None":
        """The lineage recorded in `tags`, or None for a model registered before
        lineages were recorded."""
        if "data.schema" not in tags:
            return None
        features = tags.get("data.features", "")
        return cls(
            path=tags.get("data.path", ""),
            md5=tags.get("data.md5", ""),
            target=tags.get("data.target", ""),
            schema=tags["data.schema"],
            features=tuple(features.split(",")) if features else (),
        )

    def differs(self, other: "Lineage") -> str:
        """How `other` (the champion's data) differs from this; "" if the same."""
        if other.target != self.target:
            return f"target {self.target!r} instead of {other.target!r}"
        if other.path != self.path:
            return f"data file {self.path} instead of {other.path}"
        if other.schema != self.schema:
            added = sorted(set(self.features) - set(other.features))
            gone = sorted(set(other.features) - set(self.features))
            if added or gone:
                return (
                    f"other feature columns (new: {', '.join(added) or 'none'}; "
                    f"gone: {', '.join(gone) or 'none'})"
                )
            return "feature columns of other kinds (number/string)"
        return ""


HASHED_ROWS = 100_000
"""Rows hashed at a time: hashing a text column makes a Python object per cell."""


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row over all its columns (in name order), computed
    HASHED_ROWS rows at a time (a row's hash depends on that row alone)."""
    columns = sorted(frame.columns)
    blocks = [np.empty(0, np.uint64)]
    for start in range(0, len(frame), HASHED_ROWS):
        rows = frame.iloc[start : start + HASHED_ROWS][columns]
        blocks.append(np.asarray(pd.util.hash_pandas_object(rows, index=False)))
    return np.concatenate(blocks).astype(np.uint64, copy=False)


def trained_rows(path: Path) -> np.ndarray:
    """The sorted, distinct row hashes of the training rows in the Parquet file
    at `path`, read a row group at a time."""
    hashes = [row_hashes(block) for block in parquet.blocks(path)]
    return np.unique(np.concatenate([np.empty(0, np.uint64), *hashes]))


def write_rows(trained: np.ndarray, path: Path) -> Path:
    """Save `trained` (trained_rows() of the training rows) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, trained)
    return path


def unseen(test: pd.DataFrame, trained: np.ndarray) -> np.ndarray:
    """A mask of the `test` rows whose hash is not among `trained`."""
    return ~np.isin(row_hashes(test), trained)
