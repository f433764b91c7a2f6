"""Training on a Dask cluster: LightGBM's Dask estimators on partitioned rows.

With `model.type: lightgbm` and a scheduler (`train --scheduler` or
DASK_SCHEDULER_ADDRESS), the training split is read by the workers as Dask
partitions (at least one per worker); no machine holds all of it:

- the preprocessing (one code per category of a string column, which LightGBM
  splits on as categories) and the column kinds are fitted on a seeded sample of
  at most SAMPLE_ROWS rows drawn from the partitions (the only rows that come to
  this machine);
- the file is read one Parquet row group per partition (`prepare` writes groups
  of 100,000 rows, parquet.BLOCK_ROWS), so a file larger than one worker's
  memory is spread over all of them;
- every partition is conformed and transformed on its worker (map_partitions, to
  float32: LightGBM bins the values anyway, and it halves the workers' memory)
  and fed to `lightgbm.dask.DaskLGBMClassifier`/`DaskLGBMRegressor`, which trains
  one model over all workers;
- the result (`to_local()`) goes into the same Pipeline, with the same estimator
  class, as local training, so predict, serving and explanations are unchanged.

The workers read `data/prepared/train.parquet` where this machine has it, which
needs a folder they share (this machine, an HPC file system). Workers that see
only an object store (compose, Kubernetes, managed Dask) read a copy there:
`train --staging s3://bucket/staging` (or CLUSTER_STAGING_URL) uploads the file
as `train-<MD5>.parquet` under that URL, once per content, with the store's
credentials from the environment (stores.py); the workers need them too.

Limits: LightGBM's Dask interface has no early stopping (it hangs when workers
stop at different rounds), so the cluster fits all `n_estimators` rounds and
`validation_fraction`/`early_stopping_rounds` are not used; `n_jobs` neither
(each worker uses its own threads, `dask worker --nthreads`). For classification
every worker must hold rows of every class. The drift reference (reference.py)
is profiled on the sample. Each worker needs about twice its share of the
transformed rows (LightGBM joins a worker's partitions into one array): a worker
killed for memory is one ClusterError naming the file, not a hang.
"""

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import Config
from ..core import paths, stores
from ..core.cluster import ClusterError, connect, job_failures, origin
from ..data.tables import file_md5
from ..modeling.features import conform

if TYPE_CHECKING:
    from distributed import Client

SAMPLE_ROWS = 100_000
"""Most rows the preprocessing is fitted on (drawn from all partitions, seeded)."""
LABEL = "label"
"""The target's column among the transformed features (named f0, f1, ...)."""
SOCKET_MINUTES = 10
"""LightGBM's wait for a silent peer (its `time_out`, 120 minutes by default)."""
WATCH_SECONDS = 2.0
"""How often `train` checks that every training worker is still there."""
STAGING_ENV = "CLUSTER_STAGING_URL"
"""Where `train` copies the training split for workers that see only an object
store (the `--staging` option wins)."""
ENGINE = "dask"
"""`engine_` of an estimator trained here (evaluate logs it as tag train.engine)."""
Start = Callable[
    [pd.DataFrame], tuple[pd.DataFrame, pd.Series, dict[str, str], Pipeline]
]
"""Some rows -> their features, target, column kinds and the unfitted Pipeline."""


def transformed(
    part: pd.DataFrame, transformer: Any, kinds: dict[str, str], target: str
) -> pd.DataFrame:
    """On a worker: one partition's features through the fitted transformer, and
    its target as column LABEL (features and labels of a partition stay aligned)."""
    features = conform(part.drop(columns=target), kinds, str(paths.TRAIN))
    values = np.asarray(transformer.transform(features), dtype=np.float32)
    names = [f"f{i}" for i in range(values.shape[1])]
    result = pd.DataFrame(values, index=part.index, columns=names)
    result[LABEL] = part[target].to_numpy()
    return result


def staged(root: Path, staging: str | None) -> str:
    """Where the workers read the training split: this machine's file, or (with a
    staging URL: `staging`, else CLUSTER_STAGING_URL) its copy in the object
    store, named by its MD5 and uploaded only when not there yet."""
    local = (root / paths.TRAIN).resolve()
    prefix = (staging or os.environ.get(STAGING_ENV, "")).strip()
    if not prefix:
        return str(local)
    if not stores.is_url(prefix):
        source = "--staging" if staging else STAGING_ENV
        raise ClusterError(
            f"{prefix} (from {source}): not an object-store URL; give one the "
            "workers read, such as s3://bucket/staging, or leave it unset when "
            "the workers share this folder"
        )
    url = f"{prefix.rstrip('/')}/train-{file_md5(local)}.parquet"
    if not stores.exists(url):
        stores.upload(local, url)
    return url


def _partitions(source: str, client: "Client") -> Any:
    """The training split as a Dask frame with at least one partition per worker."""
    import dask.dataframe as dd

    # One partition per row group: Parquet's byte sizes (what `blocksize` reads)
    # say little of a compressible file's size in memory.
    frame = dd.read_parquet(source, split_row_groups=True)
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
        time_out=SOCKET_MINUTES,
    )


def _settle(estimator: Any, local: Any, address: str) -> None:
    """Fill the project's LightGBM estimator (lightgbm_model.py) with the model
    the cluster fitted."""
    if estimator.classifier:
        estimator.classes_ = local.classes_
    estimator.booster_ = local
    estimator.n_iter_ = int(local.booster_.current_iteration())
    estimator.best_iteration_ = estimator.n_iter_  # no early stopping on a cluster
    estimator.n_features_in_ = local.n_features_in_
    estimator.feature_importances_ = np.asarray(local.feature_importances_, float)
    estimator.engine_ = ENGINE
    estimator.scheduler_ = address


def _watched_fit(
    client: "Client",
    model: Any,
    inputs: Any,
    labels: Any,
    address: str,
    categories: list[int] | None,
) -> None:
    """`model.fit` on the cluster, splitting on the `categories` columns as
    categories; a worker that dies meanwhile is one ClusterError.

    LightGBM pins one task to each worker and connects them: when one dies (out
    of memory), its task can run nowhere else and the others wait for it, so
    `fit` would never return. The fit runs in a thread while this one watches the
    workers; on a death the process ends with the error (the others give up
    after SOCKET_MINUTES).
    """
    workers = set(client.scheduler_info()["workers"])
    failed: list[BaseException] = []

    def run() -> None:
        try:  # LightGBM prints its progress: to stderr, not among the results
            with client.as_current(), contextlib.redirect_stdout(sys.stderr):
                model.fit(inputs, labels, categorical_feature=categories or "auto")
        except BaseException as exc:  # raised again below, in this thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="lightgbm-fit", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(WATCH_SECONDS)
        gone = workers - set(client.scheduler_info()["workers"])
        if thread.is_alive() and gone:
            raise ClusterError(
                f"{paths.TRAIN}: Dask worker {sorted(gone)[0]} of {address} died "
                "training on it (out of memory?); each worker needs about twice its "
                "share of the rows: give the workers more memory (dask worker "
                "--memory-limit) or add workers"
            )
    if failed:
        raise failed[0]


def fit(
    cfg: Config,
    root: Path,
    address: str,
    option: str | None,
    values: dict[str, Any],
    staging: str | None = None,
    *,
    start: Start,
) -> tuple[Pipeline, pd.DataFrame]:
    """The fitted Pipeline, trained on the cluster at `address`, and the sample
    the preprocessing was fitted on; with `staging` (or CLUSTER_STAGING_URL) the
    workers read the training split from there (staged()). `start` gives the
    conformed features, target, kinds and unfitted Pipeline of a sample of rows
    (train.py's split and build: passed in, so that this module needs not import
    train.py, which imports it)."""
    source = staged(root, staging)
    # as_current: every compute (the sample, the lengths, LightGBM's own waits)
    # runs on this cluster, not in this process.
    failures = job_failures(
        address,
        "training on it",
        "give them more memory (dask worker --memory-limit), add workers, or "
        "write the file in smaller row groups",
        "run `train` again",
        subject=str(paths.TRAIN),
    )
    with (
        connect(address, source=origin(address, option)) as client,
        client.as_current(),
        failures,
    ):
        return _fit(client, cfg, source, address, values, start)


def _fit(
    client: "Client",
    cfg: Config,
    source: str,
    address: str,
    values: dict[str, Any],
    start: Start,
) -> tuple[Pipeline, pd.DataFrame]:
    """fit() on a connected client (its errors become ClusterErrors there)."""
    target = cfg.data.target
    frame = _partitions(source, client)
    sample = _sample(frame, cfg)
    features, sample_target, kinds, pipeline = start(sample)
    transformer = pipeline.named_steps["features"]
    transformer.fit(features, sample_target)
    estimator = pipeline.named_steps["model"]
    width = int(transformer.transform(features.head(1)).shape[1])
    meta = pd.DataFrame(
        {f"f{i}": pd.Series(dtype=np.float32) for i in range(width)}
    ).assign(**{LABEL: sample[target].iloc[:0]})
    table = frame.map_partitions(transformed, transformer, kinds, target, meta=meta)
    # One pass for the partitions' lengths, shared by features and labels.
    lengths = tuple(table.map_partitions(len).compute())
    inputs = table[list(meta.columns[:-1])].to_dask_array(lengths=lengths)
    labels = table[LABEL].to_dask_array(lengths=lengths)
    model = _dask_estimator(estimator.classifier, values, cfg.data.seed)
    model.set_params(client=client)
    categories = estimator.categorical_features
    _watched_fit(client, model, inputs, labels, address, categories)
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
