"""Read a whole CSV file in blocks of rows, with the types of one read at once.

pandas' parser keeps the text of every cell of the rows it parses: parsing a
million rows at once (`low_memory=False`) peaks at 3.7x the frame it returns.
Parsed BLOCK_ROWS rows at a time, the peak is the blocks plus their joined copy,
about 2x. A block infers its columns' types from its own rows, so a column is
joined as one read of the whole file would type it:

- the same type in every block, or numbers (and empty blocks) throughout: as is
  (integers with a missing value become floats, as at once);
- True/False (and empty blocks) throughout: True/False with NaN, as at once;
- anything else (text in one block, numbers in another): read again as the
  file's text, which is what one read gives a column it cannot read as numbers.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..modeling.features import is_boolean

BLOCK_ROWS = 200_000


def read_csv(path: Path, na_values: list[str]) -> pd.DataFrame:
    """The rows of a UTF-8 CSV file (a byte-order mark is fine); cells holding one
    of `na_values` are missing, besides pandas' own markers."""
    # low_memory=False: each block parsed at once, not in pieces typed apart
    options: dict[str, Any] = {
        "encoding": "utf-8-sig",
        "na_values": na_values,
        "low_memory": False,
    }
    blocks = list(pd.read_csv(path, chunksize=BLOCK_ROWS, **options))
    if len(blocks) == 1:
        return blocks[0]
    names = list(blocks[0].columns)
    texts = [n for i, n in enumerate(names) if not _joinable(blocks, i)]
    frame = pd.concat(blocks, ignore_index=True)
    del blocks
    for name in texts:
        column = pd.read_csv(
            path, chunksize=BLOCK_ROWS, usecols=[name], dtype={name: str}, **options
        )
        frame[name] = pd.concat([block[name] for block in column], ignore_index=True)
    return frame


def _joinable(blocks: list[pd.DataFrame], position: int) -> bool:
    """Whether column `position` of the blocks joins as one read would type it."""
    columns = [block.iloc[:, position] for block in blocks]
    filled = [c for c in columns if c.notna().any()]
    if len({str(c.dtype) for c in columns}) == 1 and columns[0].dtype != object:
        return True
    if all(c.dtype in (np.int64, np.float64) for c in columns):
        return True
    return all(is_boolean(c) for c in filled)
