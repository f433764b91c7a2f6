"""Read the Parquet files the stages pass on, in about the memory of their frame.

`pd.read_parquet` decodes every column at once and then converts the whole table:
at 800,000 rows x 20 columns its peak is 2.9x the 139 MB frame it returns, and
Arrow's memory pool keeps the freed pages for its next allocation (NumPy and
scikit-learn allocate elsewhere, so they count until the stage exits). `read()`
decodes one column at a time, converts the table column by column, freeing each
as it goes, and hands the spare pages back: its peak is 1.6x the frame (the
template's docs/benchmarks.md). The frame is the same, dtypes and all.

`blocks()` and `take()` read the stages' files (written without their index, in
row groups of BLOCK_ROWS rows) a row group at a time: for what needs every row
once (the champion gate's hashes) or a few of them (evaluate's cross-validation
sample), not all of them at once.
"""

import ctypes
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def release() -> None:
    """Return the memory that Arrow's pool and C's allocator hold but no longer
    use to the system. glibc keeps what a process frees for its next
    allocations; `malloc_trim` hands it back, as Dask's workers do (elsewhere,
    and with other C libraries, only Arrow's pool is trimmed)."""
    pa.default_memory_pool().release_unused()
    trim = getattr(_C, "malloc_trim", None)
    if trim is not None:
        trim(0)


_C = ctypes.CDLL(None) if sys.platform == "linux" else None
"""The C library this process runs on (Linux: usually glibc)."""


def read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of a Parquet file (only `columns`, if given), as pd.read_parquet
    returns them."""
    schema = pq.read_schema(path)
    stored = (schema.pandas_metadata or {}).get("index_columns", [])
    index = [name for name in stored if isinstance(name, str)]  # not a range
    names = schema.names if columns is None else columns
    names = [*names, *(name for name in index if name not in names)]
    if len(set(names)) < len(names):  # repeated names: pandas reads (and names) them
        return pd.read_parquet(path, columns=columns)
    parts = []
    for name in names:
        parts.append(pq.read_table(path, columns=[name]).column(0))
        release()
    table = pa.Table.from_arrays(parts, names=names).replace_schema_metadata(
        schema.metadata
    )
    del parts
    frame: pd.DataFrame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    release()
    return frame


BLOCK_ROWS = 100_000
"""Rows per row group of the files `prepare` writes: what `blocks()` and
`take()` decode at a time."""


def _batches(path: Path) -> Iterator[tuple[int, pa.Table]]:
    """(position of its first row, rows) of each row group of the file."""
    file = pq.ParquetFile(path)
    start = 0
    for group in range(file.num_row_groups):
        table = file.read_row_group(group)
        yield start, table
        start += len(table)
        del table
        release()


def blocks(path: Path) -> Iterator[pd.DataFrame]:
    """The rows of a Parquet file written without its index, a row group at a
    time, each block as read() would return those rows: the same dtypes, and
    the index their positions in the file."""
    for start, table in _batches(path):
        frame: pd.DataFrame = table.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        yield frame


def take(path: Path, positions: np.ndarray) -> pd.DataFrame:
    """The rows at the sorted `positions` of a Parquet file written without its
    index, as read().iloc[positions] returns them, in the memory of those rows
    and one row group."""
    parts = [pq.read_schema(path).empty_table()]
    for start, table in _batches(path):
        wanted = positions[(positions >= start) & (positions < start + len(table))]
        parts.append(table.take(pa.array(wanted - start)))
    chosen = pa.concat_tables(parts).replace_schema_metadata(parts[0].schema.metadata)
    frame: pd.DataFrame = chosen.to_pandas()
    frame.index = pd.Index(positions)
    return frame
