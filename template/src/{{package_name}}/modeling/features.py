"""Feature columns: what they may hold, and how they become model inputs.

Every feature column has one kind, decided once on the training rows:

- "number": numbers and booleans (True/False become 1/0); finite, at most
  MAX_MAGNITUDE in size (cells.py), however the file stores them;
- "datetime": Parquet timestamps, or CSV text in ISO 8601 (2024-05-31,
  2024-05-31T14:00:00+02:00); expanded inside the model to numeric parts
  (days since 1970, year, month, day, weekday, hour), read as UTC;
- "string": everything else, one-hot encoded; for a family with native
  categorical support (the boosting families) one code per category instead, with
  missing and unseen values as NaN (see `categorical_inputs`).

`conform` checks a frame against those kinds and stops at the first column that
does not fit, naming its rows; prepare (training rows) and batch predict (new rows)
both call it. The transformer below is saved inside the model pipeline, so
training, batch prediction and serving apply exactly the same steps.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from ..core.errors import DataError
from .cells import check_magnitude, check_text_numbers, rows_text

if TYPE_CHECKING:  # scikit-learn loads when a transformer is built (boosting.py)
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

NUMBER, DATETIME, STRING = "number", "datetime", "string"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_PARTS = ("days", "year", "month", "day", "weekday", "hour")
# The ColumnTransformer's part for each kind, by name (see build_preprocessor).
PARTS = {"numeric": NUMBER, "datetime": DATETIME, "categorical": STRING}
NATIVE_MAX_CATEGORIES = 255  # HistGradientBoosting's max_bins: codes per column


def _nested(values: pd.Series) -> pd.Series[bool]:
    return values.map(lambda v: isinstance(v, list | tuple | dict | np.ndarray))


def missing(value: Any) -> bool:
    """Whether one cell is empty (None, NaN, NaT)."""
    return value is None or bool(pd.isna(value))


def as_text(value: object) -> object:
    """One cell as text; an empty cell stays NaN."""
    return np.nan if missing(value) else str(value)


def is_boolean(values: pd.Series) -> bool:
    """True/False values (with or without holes)."""
    if pd.api.types.is_bool_dtype(values):
        return True
    if not pd.api.types.is_object_dtype(values):
        return False
    present = values.dropna()
    return len(present) > 0 and bool(
        present.map(lambda v: isinstance(v, bool | np.bool_)).all()
    )


def as_numbers(values: pd.Series) -> pd.Series[float]:
    """Numbers as float64; booleans as 1.0/0.0; anything else as NaN.

    A float64 column is returned as it is, not copied (pandas copies on write).
    """
    if values.dtype == np.float64:
        return values
    if is_boolean(values):
        return values.map(lambda v: np.nan if missing(v) else float(v)).astype(float)
    return pd.to_numeric(values, errors="coerce").astype(float)


def as_datetimes(values: Any) -> pd.Series:
    """ISO 8601 text or timestamps as UTC timestamps (naive ones read as UTC)."""
    return pd.to_datetime(
        pd.Series(values), utc=True, format="ISO8601", errors="coerce"
    )


def detect_kinds(frame: pd.DataFrame, where: str) -> dict[str, str]:
    """The kind of each feature column of the training rows (see the module doc)."""
    kinds: dict[str, str] = {}
    for column in frame.columns:
        values = frame[column]
        name = str(column)
        _check_nested(values, name, where)
        if is_boolean(values) or pd.api.types.is_numeric_dtype(values):
            kinds[name] = NUMBER
        elif pd.api.types.is_datetime64_any_dtype(values) or _iso_dates(values):
            kinds[name] = DATETIME
        else:
            check_text_numbers(values, name, where)
            kinds[name] = STRING
    return kinds


def _iso_dates(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty or not pd.api.types.is_string_dtype(values):
        return False
    if not present.map(lambda v: isinstance(v, str)).all():
        return False
    return bool(present.astype(str).str.match(ISO_DATE.pattern).all())


def _check_nested(values: pd.Series, name: str, where: str) -> None:
    if pd.api.types.is_object_dtype(values):
        nested = _nested(values)
        if nested.any():
            raise DataError(
                f"{where}: column '{name}' holds lists or structs in "
                f"{rows_text(nested, values)}; flatten it into plain columns "
                "or drop it (data.drop in params.yaml)"
            )


def conform(frame: pd.DataFrame, kinds: dict[str, str], where: str) -> pd.DataFrame:
    """The feature columns of `frame` as their kinds say; stop at a value that
    does not fit, naming the column and its first rows (1 = first data row).
    """
    columns: dict[str, Any] = {}
    for name, kind in kinds.items():
        values = frame[name]
        _check_nested(values, name, where)
        present = values.notna()
        if kind == NUMBER:
            numbers = as_numbers(values)
            text = present & numbers.isna()
            if text.any():
                raise DataError(
                    f"{where}: column '{name}' must hold numbers; fix or empty "
                    f"{rows_text(text, values)}"
                )
            check_magnitude(numbers, values, name, where)
            columns[name] = numbers
        elif kind == DATETIME:
            stamps = as_datetimes(values)
            stamps.index = values.index
            text = present & stamps.isna()
            if text.any():
                raise DataError(
                    f"{where}: column '{name}' must hold ISO 8601 dates such as "
                    "2024-05-31 or 2024-05-31T14:00:00; fix or empty "
                    f"{rows_text(text, values)}"
                )
            columns[name] = stamps
        else:
            columns[name] = as_texts(values)
    # copy=False: the columns above are new or float64 columns shared with
    # `frame`; copying them again into one block doubled the peak at a million rows.
    return pd.DataFrame(columns, index=frame.index, copy=False)


def as_texts(values: pd.Series) -> pd.Series:
    """A string column as text, object dtype even when every cell is empty
    (encoders compare types). Each distinct value becomes one Python string that
    every row holding it shares: 8 bytes a cell, where a string per cell (Arrow
    strings read from a file become that) costs about 60. Python objects (object
    dtype) are turned to text one by one: 1 and True stay apart.
    """
    if pd.api.types.is_object_dtype(values):  # str() of a str is that str
        return values.map(as_text).astype(object)
    codes, distinct = pd.factorize(values)  # missing: -1, the last text below
    texts = np.array([*(as_text(v) for v in distinct), np.nan], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype=object)


def served_kinds(kinds: dict[str, str]) -> dict[str, str]:
    """Kinds as requests send them: numbers, or strings (dates as ISO 8601 text)."""
    return {name: NUMBER if kind == NUMBER else STRING for name, kind in kinds.items()}


def model_kinds(model: Pipeline) -> dict[str, str]:
    """Each input column's kind, read from a fitted model pipeline."""
    transformer = model.named_steps["features"]
    kinds: dict[str, str] = {}
    for part, _, columns in transformer.transformers_:
        if part in PARTS:
            kinds.update({str(c): PARTS[part] for c in columns})
    return {str(c): kinds.get(str(c), STRING) for c in model.feature_names_in_}


def datetime_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric parts of each datetime column: days since 1970, year, ..., hour."""
    parts: dict[str, Any] = {}
    for column in frame.columns:
        stamps = as_datetimes(frame[column].to_numpy())
        epoch = pd.Timestamp(0, tz="UTC")
        parts[f"{column}_days"] = (stamps - epoch) / pd.Timedelta(days=1)
        parts[f"{column}_year"] = stamps.dt.year
        parts[f"{column}_month"] = stamps.dt.month
        parts[f"{column}_day"] = stamps.dt.day
        parts[f"{column}_weekday"] = stamps.dt.day_of_week
        parts[f"{column}_hour"] = stamps.dt.hour
    return pd.DataFrame(parts).astype(float)


def datetime_part_names(_: Any, columns: Any) -> list[str]:
    """The names datetime_parts gives its output columns."""
    return [f"{column}_{part}" for column in columns for part in DATETIME_PARTS]


class Preprocessing(Protocol):
    """How raw columns become model inputs: params.yaml's `features` section
    (config.FeaturesConfig)."""

    @property
    def numeric_imputer(self) -> str: ...
    @property
    def scale(self) -> bool: ...
    @property
    def max_categories(self) -> int: ...


def build_preprocessor(
    kinds: dict[str, str],
    cfg: Preprocessing,
    native_missing: bool = False,
    native_categories: bool = False,
) -> ColumnTransformer:
    """A transformer for columns of these kinds, fitted later on conformed rows.

    `native_missing=True` (the boosting families): numbers as they are, missing
    ones NaN, unscaled (trees split on order), float32 as scikit-learn's trees
    read them. `native_categories=True`: one code per category of a string
    column instead of one-hot columns (missing and unseen values NaN), for a
    model that splits on categories itself.
    """
    from sklearn import preprocessing
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    numeric = [c for c, k in kinds.items() if k == NUMBER]
    dates = [c for c, k in kinds.items() if k == DATETIME]
    categorical = [c for c, k in kinds.items() if k == STRING]
    dtype = np.float32 if native_missing else np.float64

    def numbers(*first: tuple[str, object]) -> Pipeline:
        steps = list(first)
        if native_missing:
            as_is = FunctionTransformer(
                np.asarray, kw_args={"dtype": dtype}, feature_names_out="one-to-one"
            )
            return Pipeline([*steps, ("float32", as_is)])
        steps.append(("impute", SimpleImputer(strategy=cfg.numeric_imputer)))
        if cfg.scale:
            steps.append(("scale", preprocessing.StandardScaler()))
        return Pipeline(steps)

    categories: Pipeline
    if native_categories:  # step "codes": explain.py reads "encode" as one-hot
        codes = preprocessing.OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            max_categories=min(cfg.max_categories, NATIVE_MAX_CATEGORIES),
            dtype=dtype,
        )
        categories = Pipeline([("codes", codes)])
    else:
        one_hot = preprocessing.OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=cfg.max_categories,
            sparse_output=False,
            dtype=dtype,
        )
        impute_text = SimpleImputer(strategy="most_frequent")
        categories = Pipeline([("impute", impute_text), ("encode", one_hot)])
    parts = FunctionTransformer(datetime_parts, feature_names_out=datetime_part_names)
    return ColumnTransformer(
        [
            ("numeric", numbers(), numeric),
            ("datetime", numbers(("parts", parts)), dates),
            ("categorical", categories, categorical),
        ],
    )


def categorical_inputs(kinds: dict[str, str]) -> list[int]:
    """Positions of the string columns' codes among build_preprocessor's outputs
    (native_categories=True): after the numbers and the date parts, in order.
    """
    widths = {NUMBER: 1, DATETIME: len(DATETIME_PARTS), STRING: 0}
    before = sum(widths[kind] for kind in kinds.values())
    strings = sum(kind == STRING for kind in kinds.values())
    return list(range(before, before + strings))


def display_name(feature: str) -> str:
    """A transformed feature's name without the transformer prefix."""
    return feature.split("__", 1)[-1]
