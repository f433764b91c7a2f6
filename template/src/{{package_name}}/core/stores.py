"""Object-store URLs (s3://, gs://, az://, ...): the one place that opens them.

`predict --input` and `--output` take a URL wherever they take a path: a folder
(`s3://bucket/new/`: every part under the prefix), a glob
(`s3://bucket/new/*.parquet`) or one file. fsspec opens them, with the package
of the scheme: s3fs for s3:// (which `dvc[s3]` brings; else `uv add s3fs`),
gcsfs for gs://, adlfs for az://. Credentials come from the environment, as for
DVC and MLflow: for S3, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or
AWS_PROFILE), and AWS_ENDPOINT_URL_S3 for MinIO or another S3-compatible store.
On a Dask cluster every worker reads and writes the URLs itself, so the workers
need the same variables (compose.yaml sets them).

An object store cannot rename: an output is written under a temporary name
beside `--output` and copied into place when complete. One file appears whole
or not at all (an object is replaced in one step); a folder of parts is copied
part by part and gets the marker `_SUCCESS` last, as Spark and Hadoop write it:
a reader of the folder waits for `_SUCCESS`. A failure removes what was written.
"""

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import DataError, ProjectError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SUCCESS = "_SUCCESS"
"""The marker written last into a complete folder of parts."""
PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs"}
"""The fsspec package of each scheme, named in the error when it is missing."""
HINT = (
    "check the URL and the store's credentials in the environment (for S3: "
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and AWS_ENDPOINT_URL_S3 for MinIO)"
)


def is_url(text: str) -> bool:
    """Whether `text` is an object-store URL rather than a local path."""
    return bool(URL.match(text)) and not text.startswith("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of `url` and the path within it; a scheme whose
    package is missing is one DataError naming the package."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        scheme = url.split("://", 1)[0].lower()
        package = PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
        raise DataError(
            f"{url}: reading {scheme}:// URLs needs {package}; add it to the "
            f"project (`uv add {package}`), or copy the data to a local path"
        ) from exc
    except ValueError as exc:  # an unknown scheme
        raise DataError(f"{url}: {exc}; give a path or an s3://, gs:// URL") from exc
    return fs, str(path)


@contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turn what the store raises (missing bucket, credentials, no connection)
    into one DataError naming `url` and what to check."""
    try:
        yield
    except ProjectError:
        raise
    except Exception as exc:  # botocore and friends raise their own kinds
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{url}: cannot reach it ({reason}); {HINT}") from exc


def name(url: str) -> str:
    """The last part of `url` ("a.parquet" of "s3://b/in/a.parquet")."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def listing(url: str, pattern: bool) -> tuple[list[str], bool]:
    """The file URLs under `url` (a glob when `pattern`, else a folder or one
    file) and whether `url` named parts rather than one file."""
    fs, path = filesystem(url)
    with reaching(url):
        if pattern:
            found = fs.glob(path)
            return [fs.unstrip_protocol(p) for p in found if fs.isfile(p)], True
        if fs.isfile(path):
            return [fs.unstrip_protocol(path)], False
        if fs.isdir(path):
            return [fs.unstrip_protocol(p) for p in fs.find(path)], True
    raise DataError(
        f"{url}: no such file or folder in the store; put the data there or fix --input"
    )


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    with reaching(url):
        return bool(fs.exists(path))


def names(url: str) -> list[str]:
    """The names of the files in the folder `url` (empty when there is none)."""
    fs, path = filesystem(url)
    with reaching(url):
        if not fs.isdir(path):
            return []
        return [name(p) for p in fs.find(path)]


@contextmanager
def opened(url: str, mode: str = "rb") -> Iterator[IO[bytes]]:
    """`url` opened in `mode` ("rb" or "wb"; written on close)."""
    import fsspec

    filesystem(url)  # a missing package is one line
    with reaching(url), fsspec.open(url, mode) as handle:
        yield handle


def remove(url: str) -> None:
    """Remove the file or folder at `url`, if any."""
    fs, path = filesystem(url)
    with reaching(url):
        if fs.exists(path):
            fs.rm(path, recursive=True)


def upload(path: Path, url: str) -> None:
    """Copy the local file `path` to `url`, whole or not at all."""
    with atomic_url(url) as tmp:
        fs, target = filesystem(tmp)
        with reaching(url):
            fs.put_file(str(path), target)


def _beside(url: str) -> str:
    parent, _, last = url.rstrip("/").rpartition("/")
    return f"{parent}/.{last}.{secrets.token_hex(6)}.tmp"


@contextmanager
def atomic_url(url: str) -> Iterator[str]:
    """Yield a temporary URL beside `url`; copied to `url` only on success."""
    fs, path = filesystem(url)
    tmp = _beside(url)
    try:
        yield tmp
        with reaching(url):
            fs.copy(filesystem(tmp)[1], path)
    finally:
        remove(tmp)


@contextmanager
def atomic_url_folder(url: str, replaceable: Callable[[str], bool]) -> Iterator[str]:
    """Yield a temporary folder URL beside `url`; on success its files replace
    `url`'s (only when `replaceable(url)`: an earlier output), then SUCCESS is
    written. On failure nothing is left: neither the temporary files nor a part
    of the copy.
    """
    fs, path = filesystem(url)
    tmp = _beside(url)
    copied = False
    try:
        yield tmp
        with reaching(url):
            if fs.exists(path):
                if not replaceable(url):
                    raise ProjectError(f"{url}: exists and is not an earlier output")
                fs.rm(path, recursive=True)
            source = filesystem(tmp)[1]
            copied = True
            for part in sorted(fs.find(source)):
                fs.copy(part, path + part[len(source) :])
            fs.pipe(f"{path}/{SUCCESS}", b"")
            copied = False
    finally:
        if copied:  # the copy failed half-way: take back what it wrote
            remove(url)
        remove(tmp)
