"""Why the model predicted what it did: signed contributions per input column.

For one row, `base + sum(contributions) == output`, where `output` is the
model's own number for that row in its output units:

- regression: the prediction;
- a tree classifier (random forest): the probability of the predicted class;
- a linear classifier: the log-odds of the predicted class (multi-class: its
  softmax score);
- gradient-boosted trees: their raw score (log-odds for classifiers).

LightGBM is explained by its own TreeSHAP (`pred_contrib`), on the trees it
predicts with (early stopping keeps a few more).

Tree models are explained with SHAP's exact tree algorithm (the `shap`
library, path-dependent: no background data needed); linear models exactly by
`coefficient * transformed value` around the intercept, which for scaled
numeric columns is the training mean. HistGradientBoosting splitting on string
columns' categories (which SHAP's tree algorithm cannot follow) and networks are
explained by SHAP's permutation explainer against a few training inputs the
model keeps (`background_`): estimates, but they add up all the same.
Contributions of the model inputs made from one column (one-hot categories,
date parts) are summed back to that column, so every number names a column of
your data. The sum is checked for every row: an explanation that does not add
up is an error, never a result.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..core.errors import ProjectError

PREFIX = "explain_"
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Explanation:
    """Contributions of each input column for each row."""

    columns: list[str]
    base: np.ndarray
    """(rows,) the output before any column is known."""
    values: np.ndarray
    """(rows, columns) signed contributions in output units."""
    output: np.ndarray
    """(rows,) the model's output that base + contributions reproduce."""
    units: str

    def top(self, k: int) -> list[list[tuple[str, float]]]:
        """Per row, the k columns that moved the output most, largest first."""
        order = np.argsort(-np.abs(self.values), axis=1, kind="stable")[:, :k]
        return [
            [(self.columns[j], float(self.values[i, j])) for j in row]
            for i, row in enumerate(order)
        ]


def column_groups(model: Pipeline) -> list[tuple[str, list[int]]]:
    """Each input column and the positions of the model inputs made from it."""
    transformer = model.named_steps["features"]
    groups: dict[str, list[int]] = {str(c): [] for c in model.feature_names_in_}
    for part, fitted, columns in transformer.transformers_:
        if part == "remainder" or len(columns) == 0:
            continue
        start = transformer.output_indices_[part].start
        for column, width in zip(columns, _widths(fitted, len(columns)), strict=True):
            groups[str(column)].extend(range(start, start + width))
            start += width
    return list(groups.items())


def _widths(fitted: Any, count: int) -> list[int]:
    """How many model inputs each of `count` columns becomes in one part."""
    steps = getattr(fitted, "named_steps", {})
    if "encode" in steps:  # one-hot: one input per kept category, one for the rare
        encoder = steps["encode"]
        rare = getattr(encoder, "infrequent_categories_", [None] * count)
        return [
            len(categories) - (0 if r is None else len(r) - 1)
            for categories, r in zip(encoder.categories_, rare, strict=True)
        ]
    width = len(fitted.get_feature_names_out()) // count
    return [width] * count


class Explainer:
    """Explains one fitted model pipeline; build once, call for many rows."""

    def __init__(self, model: Pipeline) -> None:
        self.model = model
        self.transform = model[:-1]
        self.estimator = model[-1]
        self.groups = column_groups(model)
        self.classes = getattr(self.estimator, "classes_", None)
        self.linear = hasattr(self.estimator, "coef_")
        self.booster: Any = getattr(self.estimator, "booster_", None)  # LightGBM
        # A network (torch_mlp) or HistGradientBoosting on categories (train.py)
        # keeps a few training inputs: model-agnostic SHAP.
        self.sampled = hasattr(self.estimator, "background_")
        self.tree: Any = None
        if not self.linear and self.booster is None and not self.sampled:
            self.tree = _tree_explainer(self.estimator)

    def explain(self, features: pd.DataFrame) -> Explanation:
        """Contributions for the rows of `features` (conformed input columns)."""
        inputs = np.asarray(self.transform.transform(features), dtype=float)
        if self.linear:
            base, values, units = self._linear(inputs)
        elif self.booster is not None:
            base, values, units = self._lightgbm(inputs)
        elif self.sampled:
            base, values, units = self._permutation(inputs)
        else:
            base, values, units = self._trees(inputs)
        grouped = np.column_stack(
            [values[:, positions].sum(axis=1) for _, positions in self.groups]
        )
        output = self._output(inputs, base + values.sum(axis=1))
        total = base + grouped.sum(axis=1)
        scale = max(1.0, float(np.abs(output).max(initial=0.0)))
        if not np.allclose(total, output, rtol=0.0, atol=TOLERANCE * scale):
            worst = float(np.abs(total - output).max())
            raise ProjectError(
                f"explanations do not add up to the model's output (off by {worst:g}); "
                f"{type(self.estimator).__name__} is not supported by --explain"
            )
        return Explanation(
            columns=[name for name, _ in self.groups],
            base=base,
            values=grouped,
            output=output,
            units=units,
        )

    def _predicted(self, inputs: np.ndarray) -> np.ndarray:
        """Index of the predicted class of each row."""
        return np.asarray(
            np.searchsorted(self.classes, self.estimator.predict(inputs))
            if self.classes is not None
            else np.zeros(len(inputs), dtype=int)
        )

    def _linear(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        coef = np.atleast_2d(np.asarray(self.estimator.coef_, dtype=float))
        intercept = np.atleast_1d(np.asarray(self.estimator.intercept_, dtype=float))
        if self.classes is None:
            base = np.full(len(inputs), intercept[0])
            return base, inputs * coef[0], "prediction"
        chosen = self._predicted(inputs)
        if len(coef) == 1:  # binary: log-odds of class 1; class 0 is its negative
            sign = np.where(chosen == 1, 1.0, -1.0)[:, None]
            base = sign[:, 0] * intercept[0]
            return base, sign * inputs * coef[0], "log-odds of the predicted class"
        return (
            intercept[chosen],
            inputs * coef[chosen],
            "softmax score of the predicted class",
        )

    def _permutation(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """SHAP's permutation explainer against the estimator's `background_` rows:
        any model, additive by construction, one pass of antithetic orderings."""
        import shap

        estimator = self.estimator
        output = estimator.predict if self.classes is None else estimator.predict_proba
        explainer = shap.PermutationExplainer(output, estimator.background_, seed=0)
        result = explainer(inputs, max_evals=2 * inputs.shape[1] + 1, silent=True)
        values = np.asarray(result.values, dtype=float)
        base = np.asarray(result.base_values, dtype=float)
        if values.ndim == 2:
            return base, values, "prediction"
        rows, chosen = np.arange(len(inputs)), self._predicted(inputs)
        units = "probability of the predicted class"
        return base[rows, chosen], values[rows, :, chosen], units

    def _trees(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        values = np.asarray(self.tree.shap_values(inputs, check_additivity=False))
        expected = np.atleast_1d(np.asarray(self.tree.expected_value, dtype=float))
        rows = np.arange(len(inputs))
        if values.ndim == 3:  # one output per class: explain the predicted one
            chosen = self._predicted(inputs)
            return expected[chosen], values[rows, :, chosen], self._tree_units()
        if self.classes is None:
            return np.full(len(inputs), expected[0]), values, "prediction"
        chosen = self._predicted(inputs)  # binary margin: log-odds of class 1
        sign = np.where(chosen == 1, 1.0, -1.0)
        base = sign * expected[0]
        return base, sign[:, None] * values, "log-odds of the predicted class"

    def _lightgbm(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """LightGBM's own TreeSHAP (pred_contrib), on the trees it predicts with."""
        found = np.asarray(self.booster.predict(inputs, pred_contrib=True))
        per = found.reshape(len(inputs), -1, inputs.shape[1] + 1)  # rows, outputs
        if self.classes is None or per.shape[1] == 1:
            units = "prediction" if self.classes is None else "log-odds"
            sign = np.ones(len(inputs))
            if self.classes is not None:  # binary margin: log-odds of class 1
                sign = np.where(self._predicted(inputs) == 1, 1.0, -1.0)
                units = "log-odds of the predicted class"
            return sign * per[:, 0, -1], sign[:, None] * per[:, 0, :-1], units
        chosen, rows = self._predicted(inputs), np.arange(len(inputs))
        return per[rows, chosen, -1], per[rows, chosen, :-1], self._tree_units()

    def _tree_units(self) -> str:
        if hasattr(self.estimator, "predict_proba") and hasattr(
            self.estimator, "estimators_"
        ):
            return "probability of the predicted class"
        return "raw score of the predicted class"

    def _output(self, inputs: np.ndarray, total: np.ndarray) -> np.ndarray:
        """The model's own output for each row, in the units explained."""
        estimator = self.estimator
        if self.classes is None:
            return np.asarray(estimator.predict(inputs), dtype=float)
        chosen = self._predicted(inputs)
        rows = np.arange(len(inputs))
        if self.sampled:
            probabilities = np.asarray(estimator.predict_proba(inputs), dtype=float)
            return np.asarray(probabilities[rows, chosen])
        if self.linear or not hasattr(estimator, "estimators_"):
            scores = np.asarray(
                estimator.decision_function(inputs)
                if hasattr(estimator, "decision_function")
                else self.booster.predict(inputs, raw_score=True),  # LightGBM
                dtype=float,
            )
            if scores.ndim == 1:
                return np.asarray(np.where(chosen == 1, scores, -scores))
            return np.asarray(scores[rows, chosen])
        probabilities = np.asarray(estimator.predict_proba(inputs))
        return np.asarray(probabilities[rows, chosen])


def _tree_explainer(estimator: Any) -> Any:
    categorical = getattr(estimator, "is_categorical_", None)
    if categorical is not None and bool(np.any(categorical)):
        # SHAP's tree algorithm ignores HistGradientBoosting's category splits.
        raise ProjectError(
            f"{type(estimator).__name__} splits string columns as categories, "
            "which SHAP cannot explain exactly; choose lightgbm or random_forest "
            "(model.type) for explanations"
        )
    import shap

    try:
        return shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")
    except Exception as exc:  # shap raises plain Exceptions for unknown models
        raise ProjectError(
            f"{type(estimator).__name__}: no exact explanation for this model type "
            "(tree and linear models only)"
        ) from exc


def explain_frame(
    explainer: Explainer, features: pd.DataFrame, k: int
) -> dict[str, Any]:
    """The columns `predict --explain K` adds: base, output, the top k columns
    with their contributions, and the rest summed in `explain_other`.
    """
    explanation = explainer.explain(features)
    k = min(k, len(explanation.columns))
    top = explanation.top(k)
    columns: dict[str, Any] = {
        f"{PREFIX}units": [explanation.units] * len(features),
        f"{PREFIX}base": explanation.base,
    }
    shown = np.zeros(len(features))
    for rank in range(k):
        names = [row[rank][0] for row in top]
        values = np.array([row[rank][1] for row in top])
        columns[f"{PREFIX}{rank + 1}_column"] = names
        columns[f"{PREFIX}{rank + 1}_contribution"] = values
        shown += values
    total = explanation.values.sum(axis=1)
    columns[f"{PREFIX}other"] = total - shown
    columns[f"{PREFIX}output"] = explanation.output
    return columns


def output_names(k: int) -> list[str]:
    """The names of the columns explain_frame adds for k columns."""
    ranks = [
        f"{PREFIX}{rank}_{part}"
        for rank in range(1, k + 1)
        for part in ("column", "contribution")
    ]
    return [
        f"{PREFIX}units",
        f"{PREFIX}base",
        *ranks,
        f"{PREFIX}other",
        f"{PREFIX}output",
    ]
