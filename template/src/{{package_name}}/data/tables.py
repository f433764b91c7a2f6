"""Stage `prepare`: load the raw data, validate it against params.yaml, split it."""

import hashlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import pandas as pd

from ..config import Config, DataConfig
from ..core import parquet, paths
from ..core.artifacts import DataSummary
from ..core.errors import DataError, warn
from ..core.files import atomic_path
from ..modeling.features import conform, detect_kinds
from ..modeling.tasks import current
from . import leakage
from .csv_blocks import read_csv
from .textfiles import check_csv_header, check_not_compressed, where_not_utf8

MIN_ROWS = 2
"""Fewer rows with a target than this cannot even be split."""

PREFIXES = ("probability_", "explain_")
"""Of the columns predict adds (predict.py): `prediction`, then names with these."""
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


@overload
def shown(path: Path) -> Path: ...
@overload
def shown(path: str) -> str: ...
def shown(path: Path | str) -> Path | str:
    """`path` as the user wrote it: relative to the working directory when inside
    (an object-store URL, a str, as it is)."""
    if isinstance(path, str):
        return path
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def read_table(
    path: Path,
    setting: str = "data.path in params.yaml",
    na_values: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a CSV or Parquet file; errors name the file and the `setting` to fix.

    CSV files are UTF-8 (a byte-order mark is fine), comma-separated, with one
    header row of distinct column names. Cells holding one of `na_values`
    (data.na_values) are read as missing, besides pandas' own markers.
    """
    kind = readable(path, setting)
    with reading(path, kind):
        if kind == "CSV":
            frame = read_csv(path, list(na_values))  # in blocks, typed as a whole
        else:
            frame = parquet.read(path)
            if na_values:
                frame = frame.replace(list(na_values), np.nan).infer_objects()
    check_columns(frame, path)
    if frame.empty:
        raise DataError(
            f"{shown(path)}: file has no data rows; add rows below the header"
        )
    return frame


def readable(path: Path, setting: str) -> str:
    """The kind of a data file ("CSV" or "Parquet") once it exists, is not empty
    and (a CSV) has a header pandas reads right; else the DataError to fix it.
    """
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
    kind = READERS[suffix]
    if kind == "CSV":
        check_not_compressed(path, name)
        with reading(path, kind):
            check_csv_header(path, name)
    return kind


@contextmanager
def reading(path: Path | str, kind: str) -> Iterator[None]:
    """Turn what reading `path` as `kind` raises into one DataError naming it."""
    name = shown(path)
    try:
        yield
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name}: not UTF-8 text ({where_not_utf8(path, exc)}); save it as UTF-8 "
            "(CSV UTF-8 in a spreadsheet)"
        ) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"{name}: cannot read it as {kind}: {reason}") from exc


def check_columns(frame: pd.DataFrame, path: Path | str) -> None:
    """Refuse repeated column names (Parquet can hold them)."""
    duplicates = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicates:
        raise DataError(
            f"{shown(path)}: duplicate column names {duplicates}; rename them"
        )


def validate(frame: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """The rows with a target, every column checked against the data contract
    (see features.py for feature columns), the dropped columns removed.
    """
    source = cfg.path
    if cfg.target not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:20]))
        raise DataError(
            f"{source}: target column '{cfg.target}' not found "
            f"(data.target in params.yaml); columns are: {columns}"
        )
    if cfg.target in cfg.drop:
        raise DataError(
            f"{source}: the target column '{cfg.target}' is also in data.drop; "
            "remove it from data.drop in params.yaml"
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
    features = frame.drop(columns=cfg.target)
    if features.columns.empty:
        raise DataError(
            f"{source}: no feature columns left besides '{cfg.target}'; "
            "check data.drop in params.yaml"
        )
    labelled = int(target.notna().sum())
    if labelled < MIN_ROWS:
        raise DataError(
            f"{source}: only {labelled} row has a value in '{cfg.target}'; too few "
            "rows to train and test a model, add rows"
        )
    empty = [str(c) for c in features.columns if features[c].isna().all()]
    if empty:
        raise DataError(
            f"{source}: feature columns {empty} have no values; fill them in or "
            "add them to data.drop in params.yaml"
        )
    check_reserved(features, source)
    features = conform(features, detect_kinds(features, str(source)), str(source))
    target = current().conform_target(target, source)
    frame = features.assign(**{cfg.target: target})
    unlabelled = int(target.isna().sum())
    if unlabelled:
        warn(
            f"{source}: {unlabelled} of {len(frame)} rows have no value in "
            f"'{cfg.target}' and are left out of training and testing"
        )
    return frame[target.notna()].reset_index(drop=True)


def check_reserved(features: pd.DataFrame, source: Path) -> None:
    """Refuse a feature column named like one `predict` adds to its output."""
    names = [str(c) for c in features.columns]
    if taken := [c for c in names if c == "prediction" or c.startswith(PREFIXES)]:
        raise DataError(
            f"{source}: feature columns {taken} have names that predict writes "
            "(prediction, probability_<class>, explain_*); rename them in the "
            "file, or add them to data.drop in params.yaml"
        )


def split(
    frame: pd.DataFrame, cfg: DataConfig, min_test_rows: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out `test_size` of the rows, as the task draws them (tasks/)."""
    try:
        held = current().hold_out(frame, cfg.target, cfg.test_size, cfg.seed)
    except DataError as exc:
        raise DataError(f"{cfg.path}: {exc}") from exc
    test = frame.loc[held.sort_values()]  # in file order, copied once
    train = frame.drop(index=held)
    if len(test) < min_test_rows or train.empty:
        needed = math.ceil(min_test_rows / cfg.test_size)
        raise DataError(
            f"{cfg.path}: {len(frame)} rows leave {len(test)} for testing at "
            f"data.test_size={cfg.test_size}, fewer than evaluate.min_test_rows="
            f"{min_test_rows} needed to judge a model; add rows (about {needed}) "
            "or raise data.test_size"
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def prepare(cfg: Config, root: Path) -> Prepared:
    """Run the prepare stage under `root`: read, validate, split, write."""
    prepared = split_data(cfg, root)
    for out, part in ((paths.TRAIN, prepared.train), (paths.TEST, prepared.test)):
        with atomic_path(root / out) as tmp:
            part.to_parquet(tmp, index=False, row_group_size=parquet.BLOCK_ROWS)
    prepared.summary.write(root / paths.DATA_SUMMARY)
    return prepared


def split_data(cfg: Config, root: Path) -> Prepared:
    """Read, validate and split the data in memory: what `prepare` writes, and
    what the `check` stage tries before any stage touches an output."""
    source = root / cfg.data.path
    raw = read_table(source, na_values=cfg.data.na_values)
    read = len(raw)
    frame = validate(raw, cfg.data)
    del raw  # from here on, memory holds the rows once or twice, not three times
    parquet.release()
    rows, features = len(frame), [str(c) for c in frame.columns if c != cfg.data.target]
    train, test = split(frame, cfg.data, cfg.evaluate.min_test_rows)
    del frame
    leaks = leakage.find(
        train, cfg.data.target, current().name == "classification", cfg.data.seed
    )
    for leak in leaks:
        warn(f"{cfg.data.path}: LIKELY LEAKAGE: {leak.sentence(cfg.data.target)}")
    summary = DataSummary(
        path=cfg.data.path.as_posix(),
        md5=file_md5(source),
        rows=rows,
        train_rows=len(train),
        test_rows=len(test),
        target=cfg.data.target,
        features=features,
        unlabelled=read - rows,
        leaks=[leak.to_dict() for leak in leaks],
    )
    return Prepared(train=train, test=test, summary=summary)
