"""Training on a Dask cluster: LightGBM's Dask estimators on partitioned rows.

With `model.type: lightgbm` and a scheduler (`train --scheduler` or
DASK_SCHEDULER_ADDRESS), the training split is read by the workers as Dask
partitions (at least one per worker); no machine holds all of it:

- the preprocessing (imputer medians, scaler, one-hot categories) and the column
  kinds are fitted on a seeded sample of at most SAMPLE_ROWS rows drawn from the
  partitions (the only rows that come to this machine);
- every partition is conformed and transformed on its worker (map_partitions)
  and fed to `lightgbm.dask.DaskLGBMClassifier`/`DaskLGBMRegressor`, which trains
  one model over all workers;
- the result (`to_local()`) goes into the same Pipeline, with the same estimator
  class, as local training, so predict, serving and explanations are unchanged.

Limits: LightGBM's Dask interface has no early stopping (it hangs when workers
stop at different rounds), so the cluster fits all `n_estimators` rounds and
`validation_fraction`/`early_stopping_rounds` are not used; `n_jobs` neither
(each worker uses its own threads, `dask worker --nthreads`). For classification
every worker must hold rows of every class. The drift reference (reference.py)
is profiled on the sample.
"""

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from . import paths
from .cluster import ClusterError, connect, origin
from .config import Config
from .features import conform

if TYPE_CHECKING:
    from distributed import Client

SAMPLE_ROWS = 100_000
"""Most rows the preprocessing is fitted on (drawn from all partitions, seeded)."""
ENGINE = "dask"
"""`engine_` of an estimator trained here (evaluate logs it as tag train.engine)."""


def transformed(
    part: pd.DataFrame, transformer: Any, kinds: dict[str, str], target: str
) -> pd.DataFrame:
    """On a worker: one partition's features through the fitted transformer."""
    features = conform(part.drop(columns=target), kinds, str(paths.TRAIN))
    values = np.asarray(transformer.transform(features), dtype=float)
    names = [f"f{i}" for i in range(values.shape[1])]
    return pd.DataFrame(values, index=part.index, columns=names)


def _partitions(root: Path, client: "Client") -> Any:
    """The training split as a Dask frame with at least one partition per worker."""
    import dask.dataframe as dd

    frame = dd.read_parquet(str((root / paths.TRAIN).resolve()))
    workers = len(client.scheduler_info()["workers"])
    if frame.npartitions < workers:
        frame = frame.repartition(npartitions=workers)
    return frame


def _sample(frame: Any, cfg: Config) -> pd.DataFrame:
    """A seeded sample of at most SAMPLE_ROWS rows, brought here."""
    rows = len(frame)
    fraction = min(1.0, SAMPLE_ROWS / max(rows, 1))
    sample = (
        frame
        if fraction >= 1.0
        else frame.sample(frac=fraction, random_state=cfg.data.seed)
    )
    result: pd.DataFrame = sample.compute()
    return result.reset_index(drop=True)


def _dask_estimator(classifier: bool, values: dict[str, Any], seed: int) -> Any:
    from lightgbm.dask import DaskLGBMClassifier, DaskLGBMRegressor

    kind = DaskLGBMClassifier if classifier else DaskLGBMRegressor
    return kind(
        n_estimators=values["n_estimators"],
        learning_rate=values["learning_rate"],
        num_leaves=values["num_leaves"],
        min_child_samples=values["min_child_samples"],
        reg_lambda=values["reg_lambda"],
        random_state=seed,
        verbosity=-1,
    )


def _settle(estimator: Any, local: Any, address: str) -> None:
    """Fill the project's LightGBM estimator (boosting.py) with the local model."""
    if estimator.classifier:
        estimator.classes_ = local.classes_
    estimator.booster_ = local
    estimator.n_iter_ = int(local.booster_.current_iteration())
    estimator.best_iteration_ = estimator.n_iter_  # no early stopping on a cluster
    estimator.n_features_in_ = local.n_features_in_
    estimator.feature_importances_ = np.asarray(local.feature_importances_, float)
    estimator.engine_ = ENGINE
    estimator.scheduler_ = address


def fit(
    cfg: Config,
    root: Path,
    address: str,
    option: str | None,
    values: dict[str, Any],
) -> tuple[Pipeline, pd.DataFrame]:
    """The fitted Pipeline, trained on the cluster at `address`, and the sample
    the preprocessing was fitted on."""
    from . import train as local

    target = cfg.data.target
    # as_current: every compute (the sample, the lengths, LightGBM's own waits)
    # runs on this cluster, not in this process.
    with (
        connect(address, source=origin(address, option)) as client,
        client.as_current(),
    ):
        frame = _partitions(root, client)
        sample = _sample(frame, cfg)
        features, sample_target, kinds = local.split(sample, cfg)
        pipeline = local.build(kinds, cfg, values)
        transformer = pipeline.named_steps["features"]
        transformer.fit(features, sample_target)
        estimator = pipeline.named_steps["model"]
        width = int(transformer.transform(features.head(1)).shape[1])
        meta = pd.DataFrame({f"f{i}": pd.Series(dtype=float) for i in range(width)})
        inputs = frame.map_partitions(
            transformed, transformer, kinds, target, meta=meta
        ).to_dask_array(lengths=True)
        labels = frame[target].to_dask_array(lengths=True)
        model = _dask_estimator(estimator.classifier, values, cfg.data.seed)
        model.set_params(client=client)
        try:  # LightGBM prints its progress: to stderr, not among the results
            with contextlib.redirect_stdout(sys.stderr):
                model.fit(inputs, labels)
        except OSError as exc:
            raise ClusterError(
                f"Dask scheduler {address}: lost during training ({exc}); check "
                "that it still runs, then run `train` again"
            ) from exc
        trained = model.to_local()
        if estimator.classifier:
            classes = sorted(frame[target].dropna().unique().compute().tolist())
            if list(trained.classes_) != classes:
                raise ClusterError(
                    f"{paths.TRAIN}: the workers' partitions did not each hold "
                    f"every class of '{target}' ({classes}); train with fewer "
                    "workers or without a scheduler"
                )
    _settle(estimator, trained, address)
    return pipeline, sample
