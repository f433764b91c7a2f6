"""Run a function in a fresh Python process, for the memory of this one.

A process's peak memory counts every package it has loaded. On large tables
(insight.OWN_PROCESS_ROWS), `evaluate` computes the SHAP summary
(importance.directions) in a process of its own: SHAP, numba
and the LLVM compiler numba brings took about 190 MB, more than 1x a
1,000,000-row table, and stay loaded until the process exits (the template's
docs/benchmarks.md). That process is a new interpreter that imports only what
the function needs, and exits when it has returned. evaluate waits for it
rather than going on beside it: both predict with every core (OpenMP), and two
such processes on the same cores took twice as long as one after the other.

The call goes by file, not by multiprocessing: a "spawn" child runs the
parent's main script again, which breaks any script without an
`if __name__ == "__main__":` guard.
"""

import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .errors import ProjectError

Params = ParamSpec("Params")
Result = TypeVar("Result")


def run(
    function: Callable[Params, Result], *args: Params.args, **kwargs: Params.kwargs
) -> Result:
    """function(*args, **kwargs), called in a new process of this interpreter
    (and import path): its return value, or its exception raised here. The
    function and its arguments must pickle: a module-level function, and data."""
    with tempfile.TemporaryDirectory() as tmp:
        call, answer = Path(tmp, "call.pickle"), Path(tmp, "answer.pickle")
        call.write_bytes(pickle.dumps((function, args, kwargs)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(call), str(answer)], env=env
        )
        if not answer.is_file():
            raise ProjectError(
                f"{function.__qualname__} stopped in its own process (exit code "
                f"{done.returncode}) before it returned: see its output above"
            )
        failed, value = pickle.loads(answer.read_bytes())
    if failed:
        raise value
    return value  # type: ignore[no-any-return]


def _serve(call: Path, answer: Path) -> None:
    """The new process's side: call, and write (failed, value) to `answer`."""
    function, args, kwargs = pickle.loads(call.read_bytes())
    outcome: tuple[bool, Any]
    try:
        outcome = (False, function(*args, **kwargs))
    except Exception as error:  # raised again in the caller, with this traceback
        error.add_note(f"In the process of {function.__qualname__}:")
        error.add_note(traceback.format_exc())
        outcome = (True, error)
    try:
        data = pickle.dumps(outcome)
    except Exception:  # an exception that does not pickle: its text
        data = pickle.dumps((True, RuntimeError(traceback.format_exc())))
    answer.write_bytes(data)


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), Path(sys.argv[2]))
