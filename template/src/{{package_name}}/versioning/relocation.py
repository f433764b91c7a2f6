"""A copied or moved project logs into itself: re-point its own MLflow store.

MLflow records where artifacts live as absolute paths in `mlflow.db`: each
experiment's artifact location, each run's artifact URI, each model version's
source. A project folder copied or moved elsewhere would go on writing its
artifacts into the old folder's `mlruns/` (or fail once that folder is gone).
Before MLflow touches the project's own store (tracking.use_store), `repoint`
finds the folder the store was made in and, when it is not this one, replaces
that folder by this one in every path the store holds: `mlruns/` came along
with the copy, so the old runs stay readable and new ones land here.
"""

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlparse

ARTIFACTS = "/mlruns/"
"""Where the local store keeps artifacts, under the folder it was made in."""


def made_in(database: Path) -> str | None:
    """The folder whose `mlruns/` the store's experiments point at, if any."""
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT artifact_location FROM experiments").fetchall()
    for (location,) in rows:
        text = str(location or "")
        path = unquote(urlparse(text).path) if text.startswith("file:") else text
        if ARTIFACTS in path:
            return path[: path.index(ARTIFACTS)]
    return None


def repoint(database: Path, root: Path) -> bool:
    """Re-point the store at `root` if it was made in another folder; whether it was."""
    if not database.is_file():
        return False
    try:
        old = made_in(database)
    except sqlite3.Error:  # not an MLflow store yet (or not SQLite): nothing to do
        return False
    new = root.resolve().as_posix()
    if old is None or old == new:
        return False
    with closing(sqlite3.connect(database)) as db, db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        for (table,) in tables.fetchall():
            for column in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, kind = column[1], str(column[2]).upper()
                if not any(text in kind for text in ("CHAR", "TEXT", "CLOB")):
                    continue
                db.execute(
                    f'UPDATE "{table}" SET "{name}" = REPLACE("{name}", ?, ?) '
                    f'WHERE "{name}" LIKE ?',
                    (f"{old}/", f"{new}/", f"%{old}/%"),
                )
    return True
