"""Inputs of any size: a file, a folder or a glob of CSV/Parquet parts, read in batches.

`predict --input` takes one file, a folder (every .csv, .parquet and .pq file in
it and its subfolders, in name order; names starting with `.` or `_`, such as
Spark's `_SUCCESS`, are skipped) or a glob such as `data/new/*.parquet`; any of
them may be an object-store URL such as `s3://bucket/new/` (stores.py). A part
is read in batches of at most `rows` rows, so memory holds one batch, never a
whole file: Parquet by row groups (pyarrow), CSV by chunks (pandas, with each
chunk's column types inferred on that chunk; give Parquet when a column must
keep one type, such as codes with leading zeros).
"""

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow.parquet as pq

from ..core import stores
from ..core.errors import DataError
from ..data.tables import READERS, check_columns, readable, reading, shown

SETTING = "--input"
READ_BUFFER = 1 << 20
"""Bytes read from a Parquet file at a time."""
GLOB = frozenset("*?[")


Source = Path | str
"""A local data file, or the URL of one in an object store (stores.py)."""


@dataclass(frozen=True)
class Parts:
    """The files of one input, and whether it was given as parts (folder or glob)."""

    files: list[Source]
    partitioned: bool
    root: Source | None = None
    """The input folder (None for a file or a glob)."""


def is_partitioned(text: str) -> bool:
    """Whether a local `--input` names parts (a folder or a glob) rather than one
    file (for a URL, resolve() says)."""
    return bool(GLOB & set(text)) or Path(text).is_dir()


def _is_data(name: str) -> bool:
    return Path(name).suffix.lower() in READERS and not name.startswith((".", "_"))


def _data_files(paths: list[Path]) -> list[Source]:
    return sorted(path for path in paths if path.is_file() and _is_data(path.name))


def _resolve_url(text: str) -> Parts:
    found, partitioned = stores.listing(text, pattern=bool(GLOB & set(text)))
    if not partitioned:
        suffix = Path(stores.name(text)).suffix.lower()
        if suffix not in READERS:
            raise DataError(
                f"{text}: unknown file type '{suffix or '(none)'}'; use a .csv or "
                f".parquet file (fix {SETTING})"
            )
        return Parts(list[Source](found), partitioned=False)
    files: list[Source] = sorted(url for url in found if _is_data(stores.name(url)))
    if not files:
        raise DataError(
            f"{text}: holds no .csv or .parquet file; put the parts there or fix "
            f"{SETTING}"
        )
    return Parts(files, partitioned=True, root=None if GLOB & set(text) else text)


def resolve(text: str) -> Parts:
    """The parts of `--input`; an input with none is one DataError saying why."""
    if stores.is_url(text):
        return _resolve_url(text)
    path = Path(text)
    if GLOB & set(text):
        files = _data_files([Path(p) for p in glob.glob(text, recursive=True)])
        if not files:
            raise DataError(
                f"{text}: the pattern matches no .csv or .parquet file; "
                f"fix {SETTING} (quote it so that the shell does not expand it)"
            )
        return Parts(files, partitioned=True)
    if path.is_dir():
        files = _data_files(list(path.rglob("*")))
        if not files:
            raise DataError(
                f"{shown(path)}: folder holds no .csv or .parquet file; "
                f"put the parts there or fix {SETTING}"
            )
        return Parts(files, partitioned=True, root=path)
    readable(path, SETTING)
    return Parts([path], partitioned=False)


def batches(source: Source, rows: int) -> Iterator[pd.DataFrame]:
    """The rows of one data file, at most `rows` at a time; the index counts rows
    from 0 over the whole file, so that errors name the file's own rows.
    """
    if isinstance(source, str):
        kind = READERS[Path(stores.name(source)).suffix.lower()]
        with stores.opened(source) as handle:
            yield from _batches(handle, source, kind, rows)
        return
    kind = readable(source, SETTING)
    with source.open("rb") as handle:
        yield from _batches(handle, source, kind, rows)


def _batches(
    handle: IO[bytes], source: Source, kind: str, rows: int
) -> Iterator[pd.DataFrame]:
    if kind == "CSV":
        with reading(source, kind):
            chunks = pd.read_csv(handle, encoding="utf-8-sig", chunksize=rows)
            for chunk in chunks:
                check_columns(chunk, source)
                yield chunk
        return
    start = 0
    with reading(source, kind):
        # pre_buffer (the default) keeps every column chunk read so far: memory
        # would grow with the file. A buffered stream holds one batch at a time.
        parquet = pq.ParquetFile(handle, pre_buffer=False, buffer_size=READ_BUFFER)
        for batch in parquet.iter_batches(batch_size=rows):
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            check_columns(frame, source)
            yield frame
