"""Tuning on a Dask cluster: the study's trials run on the workers.

Every worker opens the same stored study (tune.storage, or tuning/study.db on
a path every worker reaches) and runs its share of the remaining trials with
its own TPE sampler, seeded `data.seed + worker index`; Optuna's storage keeps
the trials apart, and each worker's sampler sees the trials the others have
finished. So the trials run in parallel and in another order than serially,
and the best values may differ from a local run of the same study.

Before any trial is submitted, every worker opens the study: a worker that
cannot is one ClusterError naming tune.storage. The nested MLflow runs are
written here by the driver once the trials are done (the workers need not reach
the tracking server); each trial records the worker that ran it (user attribute
`worker`: host and process id).
"""

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..core.cluster import ClusterError, connect, job_failures, origin

if TYPE_CHECKING:
    from distributed import Client

Objective = Callable[[Any], float]


def worker_id() -> str:
    """This process as `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def shares(total: int, workers: int) -> list[int]:
    """`total` trials split as evenly as possible over at most `workers` parts."""
    parts = max(min(total, workers), 1)
    return [total // parts + (index < total % parts) for index in range(parts)]


def _probe(storage: str, name: str) -> str:
    """On a worker: '' when the study opens, else the first line of the reason."""
    try:
        import optuna

        optuna.load_study(study_name=name, storage=storage)
    except Exception as exc:  # any failure is reported back as one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"{type(exc).__name__}: {first}"[:200]
    return ""


def _optimize(
    storage: str,
    name: str,
    seed: int,
    objective: Objective,
    n_trials: int,
    timeout: float | None,
) -> str:
    """On a worker: run `n_trials` trials of the stored study; return the worker."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    here = worker_id()

    def tagged(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", here)
        return objective(trial)

    study.optimize(tagged, n_trials=n_trials, timeout=timeout, catch=(Exception,))
    return here


@contextmanager
def ready(
    address: str, option: str | None, storage: str, name: str
) -> Iterator["Client"]:
    """A Client of the cluster at `address` whose every worker opens study `name`
    in `storage`; one ClusterError naming the setting when one cannot."""
    with connect(address, source=origin(address, option)) as client:
        answers: dict[str, str] = client.run(_probe, storage, name)
        failed = {worker: reason for worker, reason in answers.items() if reason}
        if failed:
            worker, reason = sorted(failed.items())[0]
            raise ClusterError(
                f"Dask worker {worker} cannot open the study in {storage} ({reason}); "
                "set tune.storage in params.yaml to a database every worker reaches "
                "(or run tune from a folder the workers share)"
            )
        yield client


def optimize(
    client: "Client",
    storage: str,
    name: str,
    seed: int,
    objective: Objective,
    n_trials: int,
    timeout: float | None,
) -> list[str]:
    """Run `n_trials` trials of study `name` on the client's workers, split
    evenly; return the workers that ran them."""
    address = str(client.scheduler.address) if client.scheduler else "(closed)"
    workers = len(client.scheduler_info()["workers"])
    futures = [
        client.submit(
            _optimize,
            storage,
            name,
            seed + index,
            objective,
            count,
            timeout,
            pure=False,
        )
        for index, count in enumerate(shares(n_trials, workers))
    ]
    with job_failures(
        address,
        "running trials",
        "give the workers more memory (dask worker --memory-limit)",
        "run `tune` again (the study continues)",
    ):
        ran: list[str] = client.gather(futures)
    return ran
