"""Which way a column pushes a classifier of more than two classes, from SHAP.

For two classes and for regression, importance.directions correlates a
column's values with its contributions to the one output. With more classes
each class has its own output: here every column's contributions toward EACH
class (tree SHAP, LightGBM's pred_contrib, or coefficient * value for linear
models; explain.py) are compared with the column's values. Of the classes
whose contributions follow the value clearly (|correlation| >= CLEAR), the one
they move most for is named: higher values push toward it ("higher flavanoids
push toward 'class_1'"), or away from it when the correlation is negative.
"""

from typing import Any

import numpy as np
import pandas as pd

from .explain import Explainer

CLEAR = 0.3
"""A correlation at least this strong counts as a direction."""


def by_class(explainer: Explainer, features: pd.DataFrame) -> np.ndarray:
    """Contributions of each input column toward each class: (rows, columns,
    classes), the model inputs of one column summed."""
    inputs = np.asarray(explainer.transform.transform(features), dtype=float)
    if explainer.linear:
        coef = np.asarray(explainer.estimator.coef_, dtype=float)
        values = inputs[:, :, None] * coef.T[None, :, :]
    elif explainer.booster is not None:
        found = np.asarray(explainer.booster.predict(inputs, pred_contrib=True))
        values = found.reshape(len(inputs), -1, inputs.shape[1] + 1)[:, :, :-1]
        values = values.transpose(0, 2, 1)
    else:
        values = np.asarray(explainer.tree.shap_values(inputs, check_additivity=False))
    return np.stack(
        [values[:, positions, :].sum(axis=1) for _, positions in explainer.groups],
        axis=1,
    )


def toward(
    numbers: pd.Series, contributions: np.ndarray, classes: list[Any]
) -> tuple[str | None, float | None]:
    """The class whose contributions move most with the value (per standard
    deviation of it) among those that move clearly with it (|correlation| at
    least CLEAR), and that correlation (negative: higher values push away from
    it); (None, the strongest correlation) when none is clear."""
    usable = numbers.notna().to_numpy()
    x = numbers.to_numpy(dtype=float)[usable]
    if usable.sum() <= 2 or np.std(x) == 0:
        return None, None
    found, moves = [], []
    for k in range(len(classes)):
        y = contributions[usable, k]
        spread = float(np.std(y))
        found.append(float(np.corrcoef(x, y)[0, 1]) if spread > 0 else 0.0)
        moves.append(abs(found[-1]) * spread)  # |slope| * std(x)
    clear = [k for k in range(len(classes)) if abs(found[k]) >= CLEAR]
    if not clear:
        return None, max(found, key=abs)
    best = max(clear, key=lambda k: moves[k])
    return str(classes[best]), found[best]
