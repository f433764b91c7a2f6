"""The one place that knows about Dask: where the scheduler is, and connecting to it.

A single machine needs nothing: with no `--scheduler` option and no
DASK_SCHEDULER_ADDRESS in the environment, every command runs in its own
process, with no cluster to start. A cluster is one setting, Dask's own
DASK_SCHEDULER_ADDRESS, or the `--scheduler` option of a command that takes it
(the option wins): `tcp://scheduler:8786` in compose, or the address that the
Kubernetes operator, Dask Gateway or dask-jobqueue gives you.

The workers unpickle this project's model, so they need this package and the
same locked environment (`uv sync --frozen` from the same uv.lock, or the
project's image); they read the input paths themselves, so those must be paths
or URLs that every worker can reach.
"""

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ProjectError

if TYPE_CHECKING:  # distributed takes a second or two to import: only when used
    from distributed import Client

ENV = "DASK_SCHEDULER_ADDRESS"
"""Dask's own setting for the scheduler address; this project reads it too."""
OPTION = "--scheduler"
Result = TypeVar("Result")
TIMEOUT = 10.0
"""Seconds to wait for the scheduler (and for its first worker) before giving up,
unless TIMEOUT_ENV says otherwise."""
TIMEOUT_ENV = "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT"
"""Dask's own connect timeout (`60s`, `2m`), read from the environment: a cluster
whose workers start on demand needs longer than TIMEOUT."""


class ClusterError(ProjectError):
    """The Dask scheduler cannot be reached, has no workers, or lost the job."""


def scheduler_address(option: str | None) -> str | None:
    """The scheduler to use: `option` (from --scheduler), else DASK_SCHEDULER_ADDRESS,
    else None (run locally). An empty value counts as not set.
    """
    if option:
        return option.strip()
    value = os.environ.get(ENV, "").strip()
    return value or None


def origin(address: str, option: str | None = None) -> str:
    """Where `address` came from, as the user would fix it."""
    if option and option.strip() == address:
        return OPTION
    return ENV if os.environ.get(ENV, "").strip() == address else OPTION


def _unreachable(address: str, source: str, reason: str) -> ClusterError:
    return ClusterError(
        f"Dask scheduler {address} (from {source}) {reason}; start the scheduler "
        f"and workers there (`dask scheduler`, `dask worker {address}`) or fix "
        f"{source}; without a scheduler address the command runs locally"
    )


@contextmanager
def job_failures(
    address: str, job: str, fix: str, rerun: str, subject: str | None = None
) -> Iterator[None]:
    """Turn how a job on the cluster fails into one ClusterError: its workers
    dying again and again (Dask's KilledWorker, after
    distributed.scheduler.allowed-failures retries: `fix` says what to change),
    or the scheduler lost (`rerun` says how to start again). `subject` (a file)
    begins the message, else the scheduler does."""
    from distributed import KilledWorker

    who = (
        f"{subject}: the Dask workers at {address}"
        if subject
        else f"Dask scheduler {address}: its workers"
    )
    try:
        yield
    except KilledWorker as exc:
        raise ClusterError(
            f"{who} died again and again {job} (out of memory?); {fix}"
        ) from exc
    except OSError as exc:
        raise ClusterError(
            f"Dask scheduler {address}: lost during the job ({exc}); check that it "
            f"still runs, then {rerun}"
        ) from exc


def connect_timeout() -> float:
    """Seconds to wait for the scheduler: TIMEOUT_ENV when set, else TIMEOUT. A
    value that is not a positive duration is one ClusterError naming it."""
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return TIMEOUT
    from dask.utils import parse_timedelta

    try:
        seconds = parse_timedelta(value, default="seconds")
    except (KeyError, TypeError, ValueError):
        seconds = None
    if not seconds or seconds <= 0:
        raise ClusterError(
            f"{TIMEOUT_ENV}={value!r} is not a positive duration; set it like "
            f"`60s` or `2m`, or unset it to wait {TIMEOUT:g} s"
        )
    return float(seconds)


@contextmanager
def connect(
    address: str, timeout: float | None = None, source: str | None = None
) -> Iterator["Client"]:
    """A Client of the scheduler at `address` with at least one worker; closed on
    exit. A scheduler that does not answer, or has no worker, within `timeout`
    seconds (default: connect_timeout()) is one ClusterError naming the address,
    `source` (default: guessed from the environment) and the fix.
    """
    from distributed import Client

    timeout = connect_timeout() if timeout is None else timeout
    source = source or origin(address)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _unreachable(
            address, source, f"not reachable within {timeout:g} s ({reason})"
        ) from exc
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise _unreachable(
                address, source, f"has no worker after {timeout:g} s"
            ) from exc
        yield client
    finally:
        client.close()


def map_shared(
    client: "Client",
    func: Callable[..., Result],
    shared: object,
    items: Sequence[tuple[Any, ...]],
) -> list[Result]:
    """`func(shared, *item)` for every item on the cluster's workers, in order.

    `shared` (a model) is sent to every worker once, not once per item. When a
    worker is lost, the scheduler runs its items again on the others; a job that
    keeps losing workers (distributed.scheduler.allowed-failures) or the scheduler
    is one ClusterError.
    """
    address = str(client.scheduler.address) if client.scheduler else "(closed)"
    on_each = client.scatter(shared, broadcast=True, hash=False)
    arguments = [list(column) for column in zip(*items, strict=True)]
    futures = client.map(func, [on_each] * len(items), *arguments, pure=False)
    with job_failures(
        address,
        f"running {getattr(func, '__name__', 'the job')}",
        "give the workers more memory (dask worker --memory-limit) or score "
        "smaller batches (--batch-rows)",
        "run the command again",
    ):
        results: list[Result] = client.gather(futures)
    return results
