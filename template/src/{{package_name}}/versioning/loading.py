"""Load a trained model: the one place that tells a file from an MLflow URI.

`predict`, `serve` and the tests all load through `load_model`. A source that
looks like a URI (`models:/NAME@champion`, `runs:/ID/model`) is read from the
MLflow tracking store; anything else is a local joblib file.
"""

from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from ..core.errors import DataError


def is_tracked(source: str) -> bool:
    """Whether `source` is an MLflow model URI rather than a file path."""
    return ":/" in source


def local_path(source: str, root: Path | None = None) -> Path:
    """A model file's path; a relative one is read under `root`, if given."""
    path = Path(source)
    if root is not None and not path.is_absolute():
        path = root / path
    return path


def load_model(source: str, root: Path | None = None) -> Pipeline:
    """The model at `source`: a local file, or an MLflow model URI.

    Relative paths are read under `root` (default: the working directory); an
    MLflow URI is read from the tracking store of `root`.
    """
    if is_tracked(source):
        from .tracking import load_logged_model

        model: Any = load_logged_model(source, Path.cwd() if root is None else root)
        return model
    path = local_path(source, root)
    if not path.is_file():
        raise DataError(f"{path}: model not found; run `dvc repro` to train it")
    not_a_model = (
        f"{path}: not a model file; pass the models/model.joblib that "
        "`train` writes, or an MLflow URI such as models:/NAME@champion"
    )
    try:
        model = joblib.load(path)
    except Exception as exc:  # a file of another kind fails in any of many ways
        raise DataError(not_a_model) from exc
    if not isinstance(model, Pipeline) or "features" not in model.named_steps:
        raise DataError(not_a_model)
    return model
