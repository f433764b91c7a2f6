"""Where `predict` writes parts: the checks of a folder `--output`, and a file
written batch by batch.

A file input writes one file (.csv or .parquet; predict.check_output checks
it); parts write a folder of Parquet parts. A local `--output` or an
object-store URL (stores.py): an existing folder is replaced only when it holds
nothing but earlier parts, and an output inside the input is refused. Whatever
--overwrite says, `predict` never writes where the pipeline or DVC does
(check_not_owned): data/, models/, reports/, an output in dvc.lock, a path
tracked by a .dvc file.
"""

from contextlib import ExitStack
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..core import stores
from ..core.errors import DataError
from ..data.tables import shown
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


OWNED = ("data", "models", "reports")
"""The project's folders that the pipeline and DVC write."""


def owner(target: Path, root: Path) -> str | None:
    """Why the pipeline or DVC owns `target` (resolved) in project `root`, or None."""
    if not (root / "dvc.yaml").is_file():
        return None
    places = (target, *target.parents)
    if root in target.parents and target.relative_to(root).parts[0] in OWNED:
        return f"{target.relative_to(root).parts[0]}/ is written by the pipeline"
    for path in places:
        if path.name and path.with_name(path.name + ".dvc").is_file():
            return f"DVC tracks it ({path.name}.dvc)"
    lock = root / "dvc.lock"
    stages = yaml.safe_load(lock.read_text()) if lock.is_file() else None
    for stage, entry in ((stages or {}).get("stages") or {}).items():
        for out in entry.get("outs", []):
            if (root / out["path"]).resolve() in places:
                return f"stage '{stage}' writes it (dvc.lock)"
    return None


def check_not_owned(output: Source, root: Path) -> None:
    """Refuse a local --output the pipeline or DVC owns, even with --overwrite."""
    if isinstance(output, str):
        return
    why = owner(output.resolve(), root.resolve())
    if why is not None:
        raise DataError(
            f"{output}: predict does not write there: {why}; choose an --output "
            "outside data/, models/ and reports/, such as predictions/"
        )


def check_parts_output(parts: Parts, output: Source) -> None:
    """Refuse an --output that would clobber the input or a folder of other files."""
    name = stores.name(output) if isinstance(output, str) else output.name
    if Path(name).suffix.lower() in (".csv", ".parquet", ".pq"):
        raise DataError(
            f"{shown(output)}: a folder or glob --input writes a folder of Parquet "
            "parts, not one file; give --output a folder name without a suffix"
        )
    check_not_owned(output, Path.cwd())
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
