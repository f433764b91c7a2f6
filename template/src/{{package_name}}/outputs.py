"""Where `predict` writes parts: the checks of a folder `--output`, and a file
written batch by batch.

A file input writes one file (.csv or .parquet; predict.check_output checks
it); parts write a folder of Parquet parts. A local `--output` or an
object-store URL (stores.py): an existing folder is replaced only when it holds
nothing but earlier parts, and an output inside the input is refused.
"""

from contextlib import ExitStack
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import stores
from .data import shown
from .errors import DataError
from .partitions import Parts, Source


class Writer:
    """A CSV or Parquet file (or object) written one scored batch at a time;
    created with the first batch."""

    def __init__(self, target: Source, where: str, *, csv: bool) -> None:
        self.target, self.where, self.csv = target, where, csv
        self.opened = ExitStack()
        self.handle: IO[bytes] | None = None
        self.parquet: pq.ParquetWriter | None = None
        self.rows = 0

    def _handle(self) -> IO[bytes]:
        if self.handle is None:
            target = self.target
            self.handle = self.opened.enter_context(
                stores.opened(target, "wb")
                if isinstance(target, str)
                else target.open("wb")
            )
        return self.handle

    def write(self, frame: pd.DataFrame) -> None:
        if self.csv:
            frame.to_csv(self._handle(), header=not self.rows, index=False)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self._handle(), table.schema)
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
        with self.opened:
            if self.parquet is not None:
                self.parquet.close()


def check_parts_output(parts: Parts, output: Source) -> None:
    """Refuse an --output that would clobber the input or a folder of other files."""
    there = stores.exists(output) if isinstance(output, str) else output.exists()
    if there and not earlier_output(output):
        raise DataError(
            f"{shown(output)}: --output exists and is not a folder of predicted "
            "parts; choose a new folder (partitioned input writes a folder of parts)"
        )
    if isinstance(output, str):
        prefix = output.rstrip("/") + "/"
        root = str(parts.root).rstrip("/") + "/" if parts.root else None
        inside = (root is not None and prefix.startswith(root)) or any(
            str(f).startswith(prefix) for f in parts.files
        )
    else:
        target = output.resolve()
        local = [f for f in parts.files if isinstance(f, Path)]
        inside = (
            isinstance(parts.root, Path)
            and parts.root.resolve() in (target, *target.parents)
        ) or any(target in f.resolve().parents for f in local)
    if inside:
        raise DataError(
            f"{shown(output)}: --output is inside the input; choose a folder outside "
            "the input"
        )


def _is_part(name: str) -> bool:
    return name.startswith("part-") and name.endswith(".parquet")


def earlier_output(path: Source) -> bool:
    """A folder holding nothing but part files, as scoring.py writes them (and,
    in an object store, the marker _SUCCESS)."""
    if isinstance(path, str):
        found = stores.names(path)
        return bool(found) and all(n == stores.SUCCESS or _is_part(n) for n in found)
    return path.is_dir() and all(
        p.is_file() and _is_part(p.name) for p in path.iterdir()
    )
