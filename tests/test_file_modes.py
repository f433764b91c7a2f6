"""Files the pipeline and `predict` write get the modes a normally written file gets.

files.py has no Jinja in it, so it is imported here from the template as it is.
The umask is process-wide: each case runs in a child process that sets its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.template import TEMPLATE

FILES = TEMPLATE / "template" / "src" / "{{package_name}}" / "files.py"

WRITE = """
import importlib.util, os, sys
from pathlib import Path
os.umask(int(sys.argv[1], 8))
spec = importlib.util.spec_from_file_location("files", sys.argv[2])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
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
    subprocess.run(
        [sys.executable, "-c", WRITE, f"{umask:o}", str(FILES), str(tmp_path)], check=True
    )
    assert oct((tmp_path / "reports" / "metrics.json").stat().st_mode & 0o777) == oct(mode)
    assert oct((tmp_path / "models" / "model.bin").stat().st_mode & 0o777) == oct(mode)
    # The same mode as a file written with open(..., "w") under that umask.
    assert (tmp_path / "plain.txt").stat().st_mode & 0o777 == mode
    assert (tmp_path / "reports" / "metrics.json").read_text() == '{\n  "accuracy": 1.0\n}\n'
    # A failed write leaves neither the target nor a temporary file behind.
    leftovers = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert leftovers == ["metrics.json", "model.bin", "plain.txt"]
