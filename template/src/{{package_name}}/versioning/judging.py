"""The prepared test rows, as the champion gate (gate.py) compares models on them.

A registered model is loaded from the registry and scored on the test rows; the
hashes of the rows each run trained on (lineage.TRAIN_ROWS, logged by evaluate)
say which test rows a model has not seen.
"""

from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from ..config import Config
from ..core import parquet, paths
from ..core.artifacts import DataSummary, Schema
from ..modeling.tasks import current
from . import registry, tracking
from .gate import Entry, Settings
from .lineage import TRAIN_ROWS, Lineage, unseen


@dataclass
class TestRows:
    """The test rows of the prepared data, and how to score a model on them."""

    root: Path
    test: pd.DataFrame
    target: str
    metric: str
    lineage: Lineage
    own: tuple[str, Any, np.ndarray] | None = None
    """(run id, model, its training rows' hashes) of the model just evaluated."""
    seen: dict[str, np.ndarray | None] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """How many test rows there are."""
        return len(self.test)

    @classmethod
    def load(
        cls, cfg: Config, root: Path, test: pd.DataFrame | None = None
    ) -> "TestRows":
        """The test rows `prepare` wrote (`test`, when already read from that
        file), with the data lineage of the last model."""
        summary = DataSummary.read(root / paths.DATA_SUMMARY)
        lineage = Lineage.of(summary, Schema.read(root / paths.SCHEMA))
        if test is None:
            test = parquet.read(root / paths.TEST)
        metric = cfg.evaluate.primary_metric
        return cls(root, test, cfg.data.target, metric, lineage)

    def with_model(self, run_id: str, model: Any, trained: np.ndarray) -> "TestRows":
        """The same rows, scoring the model of run `run_id` from memory;
        `trained`: lineage.trained_rows() of the rows it trained on."""
        self.own = (run_id, model, trained)
        return self

    def score(self, entry: Entry, keep: np.ndarray | None) -> float:
        """The entry's primary metric on the kept test rows (all if None)."""
        if self.own is not None and entry.run_id == self.own[0]:
            model = self.own[1]
        else:
            uri = f"models:/{registry.model_name()}/{entry.version}"
            model = tracking.load_logged_model(uri, self.root)
        rows = self.test if keep is None else self.test[keep]
        features, labels = rows.drop(columns=self.target), rows[self.target]
        return float(current().compute_metrics(model, features, labels)[self.metric])

    def unseen(self, run_id: str) -> np.ndarray | None:
        """Test rows the run did not train on; None if it recorded no rows."""
        if self.own is not None and run_id == self.own[0]:
            return unseen(self.test, self.own[2])
        if run_id not in self.seen:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=TRAIN_ROWS
                )
                self.seen[run_id] = np.load(local)
            except (MlflowException, OSError, ValueError):
                self.seen[run_id] = None
        trained = self.seen[run_id]
        return None if trained is None else unseen(self.test, trained)


def promote_by_hand(cfg: Config, root: Path, args: Namespace) -> str:
    """`promote --version N [--force]`: the gate on the prepared test rows, then
    the alias. Returns the console line; exit status 1 if not promoted."""
    tracking.use_store(root)
    rows = TestRows.load(cfg, root)
    settings = Settings.of(cfg)
    done = registry.promote_version(str(args.version), rows, settings, args.force)
    args.exit_status = 0 if done.promoted else 1
    return done.line()
