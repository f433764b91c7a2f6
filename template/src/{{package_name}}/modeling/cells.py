"""Cells in error messages, and numbers a file holds as text.

`rows_text` names the first offending rows of a column and their values. A
column read as text that is really numbers is either refused, with the fix
(`check_text_numbers`: some cells are markers of missing values or typos, or
the numbers are too long for an integer), or left as categories (mostly text).
"""

from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import DataError

MAX_MAGNITUDE = 1e15
"""Largest absolute value a number may have (tree models compute in float32)."""
SHOWN = 5
"""How many offending rows an error message lists."""


def rows_text(bad: "pd.Series[bool]", values: pd.Series) -> str:
    """The first few rows (1 = first data row) where `bad` holds, and their values:
    "rows 3, 8 ('x', inf)"; counted by the index, which a batch of a file carries
    on from the batch before (partitions.batches).
    """
    positions = np.flatnonzero(bad.to_numpy())
    counted = pd.api.types.is_integer_dtype(bad.index.dtype)
    rows = bad.index[positions] if counted else positions
    shown = ", ".join(str(r + 1) for r in rows[:SHOWN])
    examples = ", ".join(_shown(values.iloc[p]) for p in positions[:SHOWN])
    more = f" and {len(positions) - SHOWN} more" if len(positions) > SHOWN else ""
    noun = "row" if len(positions) == 1 else "rows"
    return f"{noun} {shown}{more} ({examples})"


def _shown(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 30 else text[:27] + "..."


def check_text_numbers(values: pd.Series, name: str, where: str) -> None:
    """A text column that is numbers but for some cells ('unknown' in every 7th
    row): a number column with markers of missing values or typos, not
    categories. Numbers too long for an integer arrive here as text: they get
    the rule of every number (MAX_MAGNITUDE).
    """
    present = values.notna()
    numbers = pd.to_numeric(values, errors="coerce")
    text = present & numbers.isna()
    if not text.any():
        check_magnitude(numbers, values, name, where)
        return
    if text.sum() * 100 <= present.sum():
        raise DataError(
            f"{where}: column '{name}' holds numbers except in "
            f"{rows_text(text, values)}; fix or empty those cells "
            "(empty cells are imputed)"
        )
    if text.sum() * 2 <= present.sum():
        share = round(100 * text.sum() / present.sum())
        markers = ", ".join(repr(v) for v in values[text].astype(str).unique()[:SHOWN])
        raise DataError(
            f"{where}: column '{name}' holds numbers, but {share}% of its cells are "
            f"text ({markers}); if they mean 'missing', list them in data.na_values "
            "in params.yaml (they are then imputed), else clean the file"
        )


def check_magnitude(
    numbers: "pd.Series[float]", values: pd.Series, name: str, where: str
) -> None:
    """Refuse numbers that are infinite or above MAX_MAGNITUDE in size."""
    huge = ~(numbers.abs() <= MAX_MAGNITUDE) & numbers.notna()
    if huge.any():
        raise DataError(
            f"{where}: column '{name}' holds infinite or huge values "
            f"(above {MAX_MAGNITUDE:g} in size) in {rows_text(huge, values)}; "
            "use finite numbers or empty those cells"
        )
