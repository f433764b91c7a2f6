"""Demo data that ships inside scikit-learn: nothing downloads at run time.

The data set is the task's (tasks/): its `load_demo` and `demo_target`.
"""

from pathlib import Path

from ..core.files import atomic_path
from ..modeling.tasks import current


def write_demo(path: Path) -> int:
    """Write the demo data set as CSV; return its row count."""
    frame = current().load_demo()
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return len(frame)
