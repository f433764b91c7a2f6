"""Stage `check`: every setting and the data, checked before any output is touched.

DVC deletes a stage's outputs before it runs the stage, so an error found inside
`train` would arrive after the last good model is gone. `check` is the first
stage: it depends on the whole params.yaml file (any edit re-runs it, even of a
key no other stage reads) and on the data file, and every other stage comes after
it (`prepare` depends on its output). It reads every section of params.yaml
(an unknown key anywhere is an error naming the known ones; every hyperparameter
within its bounds), every search space, and reads, validates and splits the data
in memory as `prepare` would, checking the columns `evaluate.segments` names. It
writes one file whose text never changes, so passing it re-runs nothing else; a
failure stops `dvc repro` with one line and every earlier output as it was.
"""

import io
from contextlib import redirect_stderr
from pathlib import Path

from ..config import load_config, load_monitor
from ..core import paths
from ..core.errors import ConfigError
from ..core.files import write_text
from ..data.tables import split_data
from ..modeling.tasks import current

TEXT = (
    "params.yaml and the data passed the `check` stage (see dvc.yaml).\n"
    "Every other stage runs after it; this text never changes.\n"
)


def check(params: Path, root: Path) -> str:
    """Check everything `dvc repro` will need; write paths.CHECKED on success."""
    from .search_space import check_ranges, check_space
    from .tune import check_storage

    cfg = load_config(params)
    load_monitor(params)
    spaces = cfg.raw["tune"].get("space") or {}
    if not isinstance(spaces, dict):
        raise ConfigError(f"{params}: tune.space must be a mapping of model types")
    for name, space in spaces.items():
        family = next((f for f in current().families if f.name == name), None)
        if family is None or not isinstance(space, dict):
            known = ", ".join(f.name for f in current().families)
            raise ConfigError(
                f"{params}: tune.space.{name} is not a mapping of ranges of a "
                f"model.type; known: {known}"
            )
        check_ranges(family, space)
    if cfg.tune.n_trials:
        check_space(cfg)
        check_storage(cfg)
    with redirect_stderr(io.StringIO()):  # its warnings: `prepare` prints them
        prepared = split_data(cfg, root)
    columns = [c for c in prepared.test.columns if c != cfg.data.target]
    unknown = [c for c in cfg.evaluate.segments if c not in columns]
    if unknown:
        raise ConfigError(
            f"{params}: evaluate.segments names {unknown}, not feature columns of "
            f"{cfg.data.path}; choose from {[str(c) for c in columns]}"
        )
    write_text(root / paths.CHECKED, TEXT)
    return (
        f"checked {params} and {cfg.data.path} "
        f"({prepared.summary.rows} rows); wrote {paths.CHECKED}"
    )
