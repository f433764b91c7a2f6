"""Batch scoring at any size: stream a file or parts locally, or map them on Dask.

`predict` scores a small file in memory (predict.py). A folder or a glob of
parts, a file over STREAM_BYTES, `--batch-rows N` or a Dask scheduler
(`--scheduler`, DASK_SCHEDULER_ADDRESS; cluster.py) go through here instead:

- locally, each part is read, scored and written `--batch-rows` rows at a time
  (partitions.py), so memory holds one batch and the model, whatever the size;
- on a cluster, the model is sent to every worker once (scattered) and each
  worker scores whole parts, reading them and writing its output part itself:
  inputs and `--output` must be paths every worker reaches (a shared folder).

Every batch gets the checks predict.py makes (predict_frame: columns, kinds) and
the data contract's counts (contract.tally), judged once on the whole input. A
file input writes one file (.csv or .parquet); parts write a folder of Parquet
parts, `part-00000.parquet` for the first input part (in name order), and so
on (an input part without rows writes none). Either is written under a
temporary name beside `--output` and renamed when complete: the output is
whole or absent. Predictions are those of predict.py, row for row.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.pipeline import Pipeline

from .cluster import origin, scheduler_address
from .config import MonitorConfig
from .contract import Tally, enforce, judge, tally
from .data import shown
from .errors import DataError
from .features import conform, model_kinds
from .files import atomic_folder, atomic_path
from .loading import load_model
from .partitions import Parts, is_partitioned, resolve
from .predict import Scored, check_output, predict_file, predict_frame
from .reference import Reference, optional_for_model

BATCH_ROWS = 100_000
"""Rows per batch when streaming, unless --batch-rows says otherwise."""
STREAM_BYTES = 64 * 1024**2
"""A single input file larger than this streams instead of being read whole."""
PART = "part-{:05d}.parquet"
Task = tuple[Path, Path, str, str]
"""What score_part takes after the job: source, target, where, suffix."""


def streams(source: str, batch_rows: int | None, scheduler: str | None) -> bool:
    """Whether `predict` scores through here rather than predict.py."""
    if scheduler or batch_rows or is_partitioned(source):
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


class _Writer:
    """A CSV or Parquet file written one scored batch at a time."""

    def __init__(self, path: Path, where: str, *, csv: bool) -> None:
        self.path, self.where, self.csv = path, where, csv
        self.parquet: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.csv:
            frame.to_csv(
                self.path,
                mode="a" if self.rows else "w",
                header=not self.rows,
                index=False,
            )
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema)
            else:
                table = self._same_types(table, self.parquet.schema)
            self.parquet.write_table(table)
        self.rows += len(frame)

    def _same_types(self, table: pa.Table, schema: pa.Schema) -> pa.Table:
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            changed = [
                f.name
                for f, g in zip(table.schema, schema, strict=True)
                if f.type != g.type
            ]
            raise DataError(
                f"{self.where}: columns {changed} change type after row {self.rows}; "
                "give them one type in every row (write the input as Parquet)"
            ) from exc

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()


def score_part(
    job: Job, source: Path, target: Path, where: str, suffix: str
) -> PartResult:
    """Score the data file `source` into `target` as `suffix` says (.csv or
    .parquet), batch by batch; `where` names the source in errors. The caller
    gives a temporary `target` and renames it when the whole input is scored; a
    source without rows leaves no `target`.
    """
    from .partitions import batches

    kinds = model_kinds(job.model)
    counts = Tally()
    writer = _Writer(target, where, csv=suffix.lower() == ".csv")
    try:
        for batch in batches(source, job.rows):
            if batch.empty:  # a header without rows
                continue
            writer.write(predict_frame(job.model, batch, where, job.explain))
            if job.reference is None:
                counts.rows += len(batch)
            else:
                counts.add(tally(conform(batch, kinds, where), job.reference))
    finally:
        writer.close()
    if writer.rows == 0:
        target.unlink(missing_ok=True)
    return PartResult(writer.rows, counts)


def _parts_output(parts: Parts, output: Path) -> None:
    """Refuse an --output that would clobber the input or a folder of other files."""
    if output.exists() and not _earlier_output(output):
        raise DataError(
            f"{shown(output)}: --output exists and is not a folder of predicted "
            "parts; choose a new folder (partitioned input writes a folder of parts)"
        )
    target = output.resolve()
    inside = parts.root is not None and parts.root.resolve() in (
        target,
        *target.parents,
    )
    if inside or any(target in f.resolve().parents for f in parts.files):
        raise DataError(
            f"{shown(output)}: --output is inside the input; choose a folder outside "
            "the input"
        )


def _earlier_output(path: Path) -> bool:
    """A folder holding nothing but part files, as this module writes them."""
    return path.is_dir() and all(
        p.is_file() and p.name.startswith("part-") and p.suffix == ".parquet"
        for p in path.iterdir()
    )


def _run(
    job: Job, tasks: list[Task], scheduler: str | None, source: str
) -> list[PartResult]:
    """Score every task here, or on the cluster at `scheduler` (which came from
    `source`: --scheduler or DASK_SCHEDULER_ADDRESS).
    """
    if scheduler is None:
        return [score_part(job, *task) for task in tasks]
    from .cluster import connect, map_shared

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


def score(
    source: str,
    output: Path,
    model_source: str,
    *,
    scheduler: str | None = None,
    batch_rows: int | None = None,
    overwrite: bool = False,
    explain: int = 0,
    monitor: MonitorConfig | None = None,
) -> Scored:
    """Score `source` (a file, folder or glob) into `output`: in memory through
    predict.py when small and local, else streamed here or on the cluster at
    `scheduler` (--scheduler), or else DASK_SCHEDULER_ADDRESS.
    """
    address = scheduler_address(scheduler)
    if not streams(source, batch_rows, address):
        return predict_file(
            Path(source),
            output,
            model_source,
            overwrite=overwrite,
            explain=explain,
            monitor=monitor,
        )
    parts = resolve(source)
    if parts.partitioned:
        _parts_output(parts, output)
    else:
        check_output(parts.files[0], output, overwrite)
    model = load_model(model_source)
    reference = optional_for_model(model_source, Path.cwd())
    job = Job(model, reference, batch_rows or BATCH_ROWS, explain)
    cfg = monitor or MonitorConfig()
    came_from = origin(address, scheduler) if address else ""
    if not parts.partitioned:
        where = str(shown(parts.files[0]))
        with atomic_path(output) as tmp:
            task = (parts.files[0].resolve(), tmp.resolve(), where, output.suffix)
            results = _run(job, [task], address, came_from)
            return _judged(job, results, cfg, where, partitioned=False)
    with atomic_folder(output, _earlier_output) as folder:
        tasks = [
            (
                path.resolve(),
                folder.resolve() / PART.format(i),
                str(shown(path)),
                ".parquet",
            )
            for i, path in enumerate(parts.files)
        ]
        results = _run(job, tasks, address, came_from)
        return _judged(job, results, cfg, source, partitioned=True)
