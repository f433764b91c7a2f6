"""Files the pipeline and `predict` write get the modes a normally written file gets.

core/files.py and core/errors.py (which it imports) have no Jinja in them, so they are
copied from the template as they are into a package of their own and imported from there.
The umask is process-wide: each case runs in a child process that sets its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.template import TEMPLATE

PACKAGE = TEMPLATE / "template" / "src" / "{{package_name}}"

WRITE = """
import importlib, os, sys
from pathlib import Path
os.umask(int(sys.argv[1], 8))
sys.path.insert(0, sys.argv[2])
files = importlib.import_module("pkg.files")
out = Path(sys.argv[3])
files.write_json(out / "reports" / "metrics.json", {"accuracy": 1.0})
with files.atomic_path(out / "models" / "model.bin") as tmp:
    tmp.write_bytes(b"model")
try:
    with files.atomic_path(out / "failed.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("stage failed")
except RuntimeError:
    pass
with open(out / "plain.txt", "w") as handle:
    handle.write("x")
"""


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_follow_the_umask_and_stay_atomic(
    tmp_path: Path, umask: int, mode: int
) -> None:
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for module in ("files.py", "errors.py"):
        shutil.copyfile(PACKAGE / "core" / module, package / module)
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-c", WRITE, f"{umask:o}", str(package.parent), str(out)], check=True
    )
    assert oct((out / "reports" / "metrics.json").stat().st_mode & 0o777) == oct(mode)
    assert oct((out / "models" / "model.bin").stat().st_mode & 0o777) == oct(mode)
    # The same mode as a file written with open(..., "w") under that umask.
    assert (out / "plain.txt").stat().st_mode & 0o777 == mode
    assert (out / "reports" / "metrics.json").read_text() == '{\n  "accuracy": 1.0\n}\n'
    # A failed write leaves neither the target nor a temporary file behind.
    leftovers = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert leftovers == ["metrics.json", "model.bin", "plain.txt"]
