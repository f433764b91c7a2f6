"""Stage `prepare`: load the raw data, validate it against params.yaml, split it."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import paths
from .artifacts import DataSummary
from .config import Config, DataConfig
from .errors import DataError
from .files import atomic_path
from .tasks import current

READERS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}


@dataclass(frozen=True)
class Prepared:
    """The result of the prepare stage."""

    train: pd.DataFrame
    test: pd.DataFrame
    summary: DataSummary


def file_md5(path: Path) -> str:
    """MD5 of a file's bytes, the same content hash DVC records for it."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shown(path: Path) -> Path:
    """`path` as the user wrote it: relative to the working directory when inside."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def read_table(path: Path, setting: str = "data.path in params.yaml") -> pd.DataFrame:
    """Read a CSV or Parquet file; errors name the file and the `setting` to fix."""
    name = shown(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise DataError(
            f"{name}: unknown file type '{suffix or '(none)'}'; "
            f"use a .csv or .parquet file (set {setting})"
        )
    if not path.is_file():
        raise DataError(f"{name}: file not found; put the data there or fix {setting}")
    if path.stat().st_size == 0:
        raise DataError(f"{name}: file is empty; it needs a header row and data rows")
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split())
        kind = READERS[suffix]
        raise DataError(f"{name}: cannot read it as {kind}: {reason}") from exc
    if frame.empty:
        raise DataError(f"{name}: file has no data rows; add rows below the header")
    return frame


def validate(frame: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """Check the target and dropped columns; drop rows without a target."""
    source = cfg.path
    if cfg.target not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:20]))
        raise DataError(
            f"{source}: target column '{cfg.target}' not found "
            f"(data.target in params.yaml); columns are: {columns}"
        )
    missing = [c for c in cfg.drop if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: columns {missing} in data.drop are not in the file; "
            "remove them from data.drop in params.yaml"
        )
    frame = frame.drop(columns=list(cfg.drop))
    target = frame[cfg.target]
    if target.isna().all():
        raise DataError(
            f"{source}: target column '{cfg.target}' has no values; "
            "fill it in or point data.target at another column"
        )
    frame = frame[target.notna()].reset_index(drop=True)
    if len(frame.columns) < 2:
        raise DataError(
            f"{source}: no feature columns left besides '{cfg.target}'; "
            "check data.drop in params.yaml"
        )
    current().check_target(frame[cfg.target], cfg.target, str(source))
    return frame


def split(frame: pd.DataFrame, cfg: DataConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out `test_size` of the rows, as the task draws them (tasks/)."""
    test = current().hold_out(frame, cfg.target, cfg.test_size, cfg.seed)
    train = frame.drop(index=test.index)
    if test.empty or train.empty:
        raise DataError(
            f"{cfg.path}: {len(frame)} rows are too few to hold out "
            f"data.test_size={cfg.test_size}; add rows or change data.test_size"
        )
    return train.reset_index(drop=True), test.sort_index().reset_index(drop=True)


def prepare(cfg: Config, root: Path) -> Prepared:
    """Run the prepare stage under `root`: read, validate, split, write."""
    source = root / cfg.data.path
    frame = validate(read_table(source), cfg.data)
    train, test = split(frame, cfg.data)
    summary = DataSummary(
        path=cfg.data.path.as_posix(),
        md5=file_md5(source),
        rows=len(frame),
        train_rows=len(train),
        test_rows=len(test),
        target=cfg.data.target,
        features=[str(c) for c in frame.columns if c != cfg.data.target],
    )
    for out, part in ((paths.TRAIN, train), (paths.TEST, test)):
        with atomic_path(root / out) as tmp:
            part.to_parquet(tmp, index=False)
    summary.write(root / paths.DATA_SUMMARY)
    return Prepared(train=train, test=test, summary=summary)
