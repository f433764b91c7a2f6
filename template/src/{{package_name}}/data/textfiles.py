"""What a CSV file holds before pandas reads it: compressed bytes under a .csv
name, text that is not UTF-8, another delimiter, repeated column names. Each
finding is one DataError naming the file and the fix (data.readable calls these).
"""

import csv
from collections import Counter
from pathlib import Path

from ..core.errors import DataError

COMPRESSED = {
    b"\x1f\x8b": ("gzip", "gunzip"),
    b"PK\x03\x04": ("zip", "unzip"),
    b"BZh": ("bzip2", "bunzip2"),
    b"\xfd7zXZ\x00": ("xz", "unxz"),
    b"\x28\xb5\x2f\xfd": ("zstd", "unzstd"),
}
"""The first bytes of a compressed file, its format and the command that unpacks it."""


def check_not_compressed(path: Path, name: Path) -> None:
    """Refuse a compressed file named .csv: say what it is and how to unpack it."""
    with path.open("rb") as handle:
        head = handle.read(6)
    for magic, (format_, command) in COMPRESSED.items():
        if head.startswith(magic):
            raise DataError(
                f"{name}: is a {format_}-compressed file, not CSV text; unpack it "
                f"first ({command}) and point at the .csv file inside"
            )


def where_not_utf8(path: Path | str, exc: UnicodeDecodeError) -> str:
    """first_non_utf8 of a local file; the decoder's own words for a URL."""
    if isinstance(path, str):
        return f"byte {exc.object[exc.start]:#04x} at offset {exc.start} of a block"
    return first_non_utf8(path)


def first_non_utf8(path: Path) -> str:
    """Where a file stops being UTF-8: 'line 2 holds byte 0xe9'."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"line {number} holds byte 0x{line[exc.start]:02x}"
    return "a character is cut off at the end"


def check_csv_header(path: Path, name: Path) -> None:
    """Refuse what pandas would read wrongly without a word: another delimiter,
    repeated column names (renamed to a.1, a.2).
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    if len(header) == 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs")):
            if delimiter in header[0]:
                raise DataError(
                    f"{name}: columns are separated by {label}; save it with commas "
                    "as the separator (or as Parquet)"
                )
    counts = Counter(header)
    repeated = sorted(column for column, count in counts.items() if count > 1)
    if repeated:
        raise DataError(
            f"{name}: duplicate column names {repeated} in the header; "
            "give every column its own name"
        )
