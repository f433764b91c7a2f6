"""Leakage: one column that, alone, nearly decides the target.

A model that reads the label in disguise (a 0/1 copy of it, a code set after the
outcome, an id that numbers the rows class by class) scores near perfectly and
means nothing. `prepare` scores every feature column ALONE on the training rows:
a decision tree on that one column, cross-validated over FOLDS folds
(at most MAX_ROWS rows, drawn at random). Its score is the balanced accuracy
(classification: 1 is perfect, 1 / classes is guessing) or R² (regression: 1
is perfect). A column scoring at least LEAK_SCORE is reported on the console
and in the model card's opening, with the fix: `data.drop` in params.yaml.
Text columns are ordered by value and dates by time, so an id that orders rows
by label is caught too.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

LEAK_SCORE = 0.98
"""A column alone scoring at least this is named as likely leakage."""
FOLDS = 3
MAX_ROWS = 5000
DEPTH = None
"""Trees grow until pure: a column that decides the target scores near 1 out of
fold, one that merely relates to it less (an overfitted tree generalises badly)."""


@dataclass(frozen=True)
class Leak:
    """A column that alone predicts the target: its cross-validated score."""

    column: str
    score: float
    measure: str

    def to_dict(self) -> dict[str, Any]:
        """As data/prepared/summary.json holds it."""
        return {"column": self.column, "score": self.score, "measure": self.measure}

    def sentence(self, target: str) -> str:
        """What the console and the card say about it, with the fix."""
        return (
            f"column '{self.column}' alone predicts '{target}' ({self.measure} "
            f"{self.score:.2f} from that column only, cross-validated on the "
            "training rows): it is likely the target in disguise, recorded after "
            "the outcome, or an id that orders the rows by label, so the test "
            f"numbers overstate the model; add '{self.column}' to data.drop in "
            "params.yaml unless it is truly known before each prediction"
        )


def _numbers(values: pd.Series) -> np.ndarray:
    """One column as floats a tree can split: text by sorted value, dates by
    time, booleans as 0/1; missing below every value."""
    if pd.api.types.is_datetime64_any_dtype(values):
        numbers = (values - values.min()) / pd.Timedelta(days=1)  # NaT stays NaN
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
        values
    ):
        numbers = values.astype(float)
    else:
        codes, _ = pd.factorize(
            values.astype(object).map(str).where(values.notna()), sort=True
        )
        numbers = pd.Series(codes, index=values.index, dtype=float).where(codes >= 0)
    array = numbers.to_numpy(dtype=float)
    present = array[~np.isnan(array)]
    low = present.min() - 1 if len(present) else 0.0
    return np.where(np.isnan(array), low, array)


def _folds(target: pd.Series, classification: bool, seed: int) -> list[Any]:
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter: Any = KFold(FOLDS, shuffle=True, random_state=seed)
    if classification:
        smallest = int(target.value_counts().min())
        if smallest < 2:
            return []
        splitter = StratifiedKFold(
            min(FOLDS, smallest), shuffle=True, random_state=seed
        )
    return list(splitter.split(np.zeros(len(target)), target))


def _score(truth: np.ndarray, guess: np.ndarray, classification: bool) -> float:
    """Balanced accuracy (mean recall over classes) or R² (as scikit-learn's)."""
    if classification:
        return float(
            np.mean([np.mean(guess[truth == c] == c) for c in np.unique(truth)])
        )
    spread = float(np.sum((truth - truth.mean()) ** 2))
    return 1 - float(np.sum((truth - guess) ** 2)) / spread if spread else 0.0


def scores(
    train: pd.DataFrame, target: str, classification: bool, seed: int = 0
) -> dict[str, float]:
    """Each feature column's cross-validated score alone (see the module doc)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if len(train) > MAX_ROWS:
        train = train.sample(n=MAX_ROWS, random_state=seed)
    labels = train[target].reset_index(drop=True)
    truth = labels.astype(str).to_numpy() if classification else labels.to_numpy(float)
    folds = _folds(
        labels.astype(str) if classification else labels, classification, seed
    )
    tree: Any = DecisionTreeClassifier if classification else DecisionTreeRegressor
    result: dict[str, float] = {}
    for column in train.columns:
        if column == target or not folds:
            continue
        values = _numbers(train[column].reset_index(drop=True)).reshape(-1, 1)
        found = []
        for fit, held in folds:
            model = tree(max_depth=DEPTH, random_state=seed)
            model.fit(values[fit], truth[fit])
            guess = model.predict(values[held])
            found.append(_score(truth[held], guess, classification))
        result[str(column)] = float(np.mean(found))
    return result


def find(
    train: pd.DataFrame, target: str, classification: bool, seed: int = 0
) -> list[Leak]:
    """The columns that alone score at least LEAK_SCORE, best first."""
    measure = "balanced accuracy" if classification else "R²"
    found = [
        Leak(column, round(score, 4), measure)
        for column, score in scores(train, target, classification, seed).items()
        if score >= LEAK_SCORE
    ]
    return sorted(found, key=lambda leak: -leak.score)
