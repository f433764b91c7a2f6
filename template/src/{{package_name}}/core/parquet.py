"""Read the Parquet files the stages pass on, in about the memory of their frame.

`pd.read_parquet` decodes every column at once and then converts the whole table:
at 800,000 rows x 20 columns its peak is 2.9x the 139 MB frame it returns, and
Arrow's memory pool keeps the freed pages for its next allocation (NumPy and
scikit-learn allocate elsewhere, so they count until the stage exits). `read()`
decodes one column at a time, converts the table column by column, freeing each
as it goes, and hands the spare pages back: its peak is 1.6x the frame (the
template's docs/benchmarks.md). The frame is the same, dtypes and all.
"""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def release() -> None:
    """Return the memory Arrow's pool holds but no longer uses to the system."""
    pa.default_memory_pool().release_unused()


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
