"""Feature engineering: raw columns -> model inputs, as one sklearn transformer.

The transformer is saved inside the model pipeline, so training, batch prediction
and serving apply exactly the same steps: impute, scale numbers, one-hot encode
everything else.
"""

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .config import FeaturesConfig


def split_columns(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric columns and categorical (every other) columns, in file order."""
    numeric = [
        str(c)
        for c in features.columns
        if pd.api.types.is_numeric_dtype(features[c])
        and not pd.api.types.is_bool_dtype(features[c])
    ]
    categorical = [str(c) for c in features.columns if str(c) not in numeric]
    return numeric, categorical


def column_kinds(features: pd.DataFrame) -> dict[str, str]:
    """Each column's kind as the model expects it: "number" or "string"."""
    numeric, _ = split_columns(features)
    return {str(c): "number" if str(c) in numeric else "string" for c in features}


def build_preprocessor(
    features: pd.DataFrame, cfg: FeaturesConfig
) -> ColumnTransformer:
    """A transformer fitted later on the training features."""
    numeric, categorical = split_columns(features)
    numeric_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy=cfg.numeric_imputer)),
    ]
    if cfg.scale:
        numeric_steps.append(("scale", StandardScaler()))
    categorical_steps: list[tuple[str, object]] = [
        ("impute", SimpleImputer(strategy="most_frequent")),
        (
            "encode",
            OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                max_categories=cfg.max_categories,
                sparse_output=False,
            ),
        ),
    ]
    return ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), numeric),
            ("categorical", Pipeline(categorical_steps), categorical),
        ],
    )


def display_name(feature: str) -> str:
    """A transformed feature's name without the transformer prefix."""
    return feature.split("__", 1)[-1]
