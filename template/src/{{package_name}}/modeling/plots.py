"""Plot helpers shared by the tasks: data files for `dvc plots` and PNG images.

Each task's `write_plots` (tasks/) draws its own plots with these and adds the
feature importance plot that every task has.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from ..core import paths
from ..core.files import atomic_path
from .features import display_name

TOP_FEATURES = 20


def write_csv(frame: pd.DataFrame, root: Path, name: str) -> None:
    """Plot data for `dvc plots`: reports/plots/<name>."""
    with atomic_path(root / paths.PLOTS / name) as tmp:
        frame.to_csv(tmp, index=False)


def save(figure: Figure, root: Path, name: str) -> Path:
    """A PNG image under reports/figures; returns its path relative to `root`."""
    path = paths.FIGURES / name
    figure.tight_layout()
    with atomic_path(root / path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    return path


def feature_importance(model: Pipeline) -> pd.DataFrame:
    """Importance of each transformed feature, largest first."""
    names = model.named_steps["features"].get_feature_names_out()
    estimator = model.named_steps["model"]
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_)
    elif hasattr(estimator, "coef_"):
        coef = np.abs(np.asarray(estimator.coef_))
        values = coef.mean(axis=0) if coef.ndim == 2 else coef
    else:  # HistGradientBoosting reports none: the plot stays empty
        values = np.full(len(names), np.nan)
    frame = pd.DataFrame(
        {"feature": [display_name(str(n)) for n in names], "importance": values}
    )
    frame = frame.sort_values("importance", ascending=False, kind="stable")
    return frame.head(TOP_FEATURES).reset_index(drop=True)


def write_importance(model: Pipeline, root: Path) -> Path:
    """Feature importance as plot data and as an image; returns the image."""
    importance = feature_importance(model)
    write_csv(importance, root, "feature_importance.csv")
    figure = Figure(figsize=(7, 0.3 * len(importance) + 1.5))
    axis = figure.subplots()
    axis.barh(importance["feature"][::-1], importance["importance"][::-1])
    axis.set_xlabel("importance")
    axis.set_title("Feature importance")
    return save(figure, root, "feature_importance.png")


def write_learning_curve(model: Pipeline, root: Path) -> list[Path]:
    """A network's train and validation loss per epoch (`history_`, torch_mlp),
    with the epoch it kept; no image for the other families."""
    estimator = model.named_steps["model"]
    history = getattr(estimator, "history_", None)
    if not history:
        return []
    epochs = [row["epoch"] for row in history]
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    for key, label in (
        ("train_loss", "training rows"),
        ("val_loss", "validation rows"),
    ):
        axis.plot(epochs, [row[key] for row in history], label=label)
    best = getattr(estimator, "best_iteration_", None)
    if best is not None:
        axis.axvline(best, color="grey", linestyle="--", label=f"kept: epoch {best}")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title("Learning curve")
    axis.legend()
    return [save(figure, root, "learning_curve.png")]
