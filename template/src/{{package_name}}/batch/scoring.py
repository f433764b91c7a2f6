"""Batch scoring at any size: stream a file or parts locally, or map them on Dask.

`predict` scores a small file in memory (predict.py). A folder or a glob of
parts, a file over STREAM_BYTES, `--batch-rows N` or a Dask scheduler
(`--scheduler`, DASK_SCHEDULER_ADDRESS; cluster.py) go through here instead:

- locally, each part is read, scored and written `--batch-rows` rows at a time
  (partitions.py), so memory holds one batch and the model, whatever the size;
- on a cluster, the model is sent to every worker once (scattered) and each
  worker scores whole parts, reading them and writing its output part itself:
  inputs and `--output` must be paths every worker reaches (a shared folder) or
  object-store URLs (s3://, stores.py) with the store's credentials on every
  worker.

Every batch gets the checks predict.py makes (predict_frame: columns, kinds) and
the data contract's counts (contract.tally), judged once on the whole input. A
file input writes one file (.csv or .parquet); parts write a folder of Parquet
parts, `part-00000.parquet` for the first input part (in name order), and so
on (an input part without rows writes none). Either is written under a
temporary name beside `--output` and renamed when complete: the output is
whole or absent (in an object store, copied into place, a folder with the
marker `_SUCCESS` last: stores.py). Predictions are those of predict.py, row
for row.
"""

from dataclasses import dataclass
from pathlib import Path

from sklearn.pipeline import Pipeline

from ..config import MonitorConfig
from ..core import progress, stores
from ..core.cluster import origin, scheduler_address
from ..core.errors import DataError
from ..core.files import atomic_folder, atomic_path
from ..data.tables import shown
from ..modeling.features import conform, model_kinds
from ..monitoring.contract import Tally, enforce, judge, tally
from ..monitoring.reference import Reference, optional_for_model
from ..versioning.loading import load_model
from .outputs import Writer, check_parts_output, earlier_output
from .partitions import Source, is_partitioned, resolve
from .predict import Scored, check_output, predict_file, predict_frame

BATCH_ROWS = 100_000
"""Rows per batch when streaming, unless --batch-rows says otherwise."""
STREAM_BYTES = 64 * 1024**2
"""A single input file larger than this streams instead of being read whole."""
PART = "part-{:05d}.parquet"
Task = tuple[Source, Source, str, str]
"""What score_part takes after the job: source, target, where, suffix."""


def streams(
    source: str, output: str, batch_rows: int | None, scheduler: str | None
) -> bool:
    """Whether `predict` scores through here rather than predict.py."""
    if scheduler or batch_rows or stores.is_url(source) or stores.is_url(output):
        return True
    if is_partitioned(source):
        return True
    path = Path(source)
    return path.is_file() and path.stat().st_size > STREAM_BYTES


@dataclass(frozen=True)
class Job:
    """What scoring one part needs; on a cluster, sent to each worker once."""

    model: Pipeline
    reference: Reference | None
    rows: int
    explain: int


@dataclass(frozen=True)
class PartResult:
    """What scoring one part gave: its rows and its contract counts."""

    rows: int
    counts: Tally


def score_part(
    job: Job, source: Source, target: Source, where: str, suffix: str
) -> PartResult:
    """Score the data file `source` into `target` as `suffix` says (.csv or
    .parquet), batch by batch; `where` names the source in errors. The caller
    gives a temporary `target` and renames it when the whole input is scored; a
    source without rows leaves no `target`.
    """
    from .partitions import batches

    kinds = model_kinds(job.model)
    counts = Tally()
    writer = Writer(target, where, csv=suffix.lower() == ".csv")
    report = progress.Throttled()
    try:
        for batch in batches(source, job.rows):
            if batch.empty:  # a header without rows
                continue
            writer.write(predict_frame(job.model, batch, where, job.explain))
            report.step(f"scored {writer.rows} rows of {where}")
            if job.reference is None:
                counts.rows += len(batch)
            else:
                counts.add(tally(conform(batch, kinds, where), job.reference))
    finally:
        writer.close()
    return PartResult(writer.rows, counts)


def _run(
    job: Job, tasks: list[Task], scheduler: str | None, source: str
) -> list[PartResult]:
    """Score every task here, or on the cluster at `scheduler` (which came from
    `source`: --scheduler or DASK_SCHEDULER_ADDRESS).
    """
    if scheduler is None:
        return [score_part(job, *task) for task in tasks]
    from ..core.cluster import connect, map_shared

    with connect(scheduler, source=source) as client:
        return map_shared(client, score_part, job, tasks)


def _judged(
    job: Job,
    results: list[PartResult],
    cfg: MonitorConfig,
    where: str,
    partitioned: bool,
) -> Scored:
    """The rows and soft findings of all parts; refused as predict.py refuses."""
    rows = sum(r.rows for r in results)
    if rows == 0:
        what = "no part has any" if partitioned else "file has no"
        raise DataError(f"{where}: {what} data rows; add rows below the header")
    if job.reference is None:
        return Scored(rows, None)
    counts = Tally()
    for result in results:
        counts.add(result.counts)
    findings = judge(counts, job.reference, cfg)
    enforce(findings, cfg, where)
    return Scored(rows, findings)


def _located(item: Source) -> Source:
    """What a worker is given: an absolute path, or the URL as it is."""
    return item if isinstance(item, str) else item.resolve()


def score(
    source: str,
    output: str | Path,
    model_source: str,
    *,
    scheduler: str | None = None,
    batch_rows: int | None = None,
    overwrite: bool = False,
    explain: int = 0,
    monitor: MonitorConfig | None = None,
) -> Scored:
    """Score `source` (a file, folder or glob; paths or object-store URLs) into
    `output`: in memory through predict.py when small and local, else streamed
    here or on the cluster at `scheduler` (--scheduler), or else
    DASK_SCHEDULER_ADDRESS.
    """
    address = scheduler_address(scheduler)
    target: Source = str(output) if stores.is_url(str(output)) else Path(output)
    if not streams(source, str(output), batch_rows, address):
        return predict_file(
            Path(source),
            Path(output),
            model_source,
            overwrite=overwrite,
            explain=explain,
            monitor=monitor,
        )
    parts = resolve(source)
    if parts.partitioned:
        check_parts_output(parts, target)
    else:
        check_output(parts.files[0], target, overwrite)
    model = load_model(model_source)
    reference = optional_for_model(model_source, Path.cwd())
    job = Job(model, reference, batch_rows or BATCH_ROWS, explain)
    cfg = monitor or MonitorConfig()
    came_from = origin(address, scheduler) if address else ""
    if not parts.partitioned:
        where = str(shown(parts.files[0]))
        suffix = Path(stores.name(str(target))).suffix
        with (
            stores.atomic_url(target)
            if isinstance(target, str)
            else atomic_path(target)
        ) as tmp:
            task = (_located(parts.files[0]), _located(tmp), where, suffix)
            results = _run(job, [task], address, came_from)
            return _judged(job, results, cfg, where, partitioned=False)
    with (
        stores.atomic_url_folder(target, earlier_output)
        if isinstance(target, str)
        else atomic_folder(target, earlier_output)
    ) as folder:
        tasks: list[Task] = [
            (
                _located(path),
                f"{folder}/{PART.format(i)}"
                if isinstance(folder, str)
                else folder.resolve() / PART.format(i),
                str(shown(path)),
                ".parquet",
            )
            for i, path in enumerate(parts.files)
        ]
        results = _run(job, tasks, address, came_from)
        return _judged(job, results, cfg, source, partitioned=True)
