"""Stage `tune`: search the chosen family's hyperparameters with Optuna.

The search space is `tune.space.<model.type>` in params.yaml; each trial is
scored by cross-validation on the training rows (uncertainty.cross_validate), and
the median pruner stops a trial whose running mean after a fold falls behind.
The sampler (TPE) is seeded from `data.seed`.

The study is stored (tuning/study.db, or `tune.storage`, a database URL), named
after what it searches: the data, the family, the space and the fixed settings.
`tune.n_trials` is the number of finished (complete or pruned) trials the
study holds in all, so raising it continues the same study; failed trials are
recorded and do not count. The best trial's values go to models/best_params.json,
which `train` reads. With `n_trials: 0` nothing is searched and the file says so.

MLflow: one parent run per `tune`, one nested run per trial (its params, the CV
score and the trial's state: COMPLETE, PRUNED or FAIL).

With a Dask scheduler (`--scheduler` or DASK_SCHEDULER_ADDRESS) the trials run
on the cluster's workers (tune_cluster.py).
"""

import hashlib
import json
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..config import Config
from ..core import parquet, paths, progress
from ..core.artifacts import BestParams, DataSummary
from ..core.errors import ConfigError, ProjectError
from .search_space import check_space, suggest


class TuningError(ProjectError):
    """No trial of the study completed."""


def study_name(cfg: Config, data_md5: str) -> str:
    """Same data, family, space and fixed settings -> the same study."""
    facts = {
        "data": data_md5,
        "family": cfg.model.type,
        "space": cfg.tune.space,
        "fixed": cfg.model.hyperparameters,
        "features": cfg.raw.get("features"),
        "metric": cfg.evaluate.primary_metric,
        "folds": cfg.evaluate.cv_folds,
        "seed": cfg.data.seed,
    }
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode())
    return f"{cfg.model.type}-{digest.hexdigest()[:12]}"


def storage_url(cfg: Config, root: Path) -> str:
    """tune.storage, or the project's own SQLite file."""
    if cfg.tune.storage:
        return cfg.tune.storage
    (root / paths.STUDY).parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(root / paths.STUDY).resolve().as_posix()}"


DRIVERS = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
}
"""The package of a database driver module SQLAlchemy imports (postgresql:// is
psycopg 3 since SQLAlchemy 2.1; postgresql+psycopg2:// is psycopg2)."""


def storage_problem(url: str, exc: Exception) -> str:
    """One line: tune.storage (password hidden), what went wrong, what to do."""
    shown = re.sub(r"://([^:/@]*):[^@/]*@", r"://\1:***@", url)
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    if isinstance(exc, ImportError):
        missing = getattr(exc.__cause__, "name", None) or getattr(exc, "name", None)
        package = DRIVERS.get(str(missing), str(missing))
        reason = f"its driver {missing} is not installed (uv add '{package}')"
    return (
        f"params.yaml: tune.storage {shown} cannot be opened: {reason}; fix the URL "
        "or the database, or set tune.storage: null for the project's own file"
    )


def check_storage(cfg: Config) -> None:
    """`tune.storage` (when set and tuning is on) opens: a wrong URL or a missing
    driver stops the `check` stage, before `tune` deletes models/best_params.json."""
    if not (cfg.tune.n_trials and cfg.tune.storage):
        return
    import optuna

    try:
        optuna.storages.RDBStorage(cfg.tune.storage)
    except Exception as exc:  # SQLAlchemy and driver errors have no common base
        raise ConfigError(storage_problem(cfg.tune.storage, exc)) from exc


def tune(cfg: Config, root: Path, scheduler: str | None = None) -> BestParams:
    """Run the tune stage under `root` (on the Dask cluster of `scheduler` or
    DASK_SCHEDULER_ADDRESS, if set); write and return models/best_params.json."""
    metric = cfg.evaluate.primary_metric
    if cfg.tune.n_trials == 0:
        best = BestParams(cfg.model.type, {}, metric, None, None, 0, None)
        best.write(root / paths.BEST_PARAMS)
        return best

    import optuna

    from ..core.cluster import scheduler_address
    from ..versioning import tracking
    from .uncertainty import cross_validate

    check_space(cfg)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train = parquet.read(root / paths.TRAIN)
    data = DataSummary.read(root / paths.DATA_SUMMARY)
    name = study_name(cfg, data.md5)
    storage = storage_url(cfg, root)
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            load_if_exists=True,
            direction="maximize" if cfg.evaluate.greater_is_better else "minimize",
            sampler=optuna.samplers.TPESampler(seed=cfg.data.seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        )
    except Exception as exc:  # SQLAlchemy and driver errors have no common base
        if not cfg.tune.storage:
            raise
        raise ConfigError(storage_problem(cfg.tune.storage, exc)) from exc
    space = cfg.tune.space
    kinds = {spec.name: spec.kind for spec in cfg.model.family.hyperparameters}

    def objective(trial: optuna.Trial) -> float:
        values = dict(cfg.model.hyperparameters)
        values.update(
            {key: suggest(trial, key, spec, kinds[key]) for key, spec in space.items()}
        )

        def report(fold: int, running: float) -> None:
            trial.report(running, fold)
            if trial.should_prune():
                raise optuna.TrialPruned

        try:
            scores = cross_validate(train, cfg, values, report)
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}"[:300])
            raise
        return sum(scores) / len(scores)

    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    done = len(study.get_trials(deepcopy=False, states=finished))
    remaining = max(cfg.tune.n_trials - done, 0)
    address = scheduler_address(scheduler)
    tags = {"tune.study": name}
    with ExitStack() as stack:
        # On a cluster: connected, and every worker opens the study, before any run.
        client = None
        if remaining and address:
            from . import tune_cluster

            client = stack.enter_context(
                tune_cluster.ready(address, scheduler, storage, name)
            )
        parent = stack.enter_context(
            tracking.start_run(root, tags, run_name=f"tune {name}")
        )
        logger = tracking.TrialLogger(parent, metric)

        def tell(study: Any, trial: Any) -> None:
            """Log a finished trial to MLflow; one progress line on stderr."""
            logger.log(trial)
            count = len(study.get_trials(deepcopy=False, states=finished))
            progress.trial(count, cfg.tune.n_trials, trial.value, _best_value(study))

        progress.step(f"tuning: {remaining} of {cfg.tune.n_trials} trials to run")
        if client is not None:
            before = len(study.get_trials(deepcopy=False))
            tune_cluster.optimize(
                client,
                storage,
                name,
                cfg.data.seed,
                objective,
                remaining,
                cfg.tune.timeout,
            )
            for trial in study.get_trials(deepcopy=False)[before:]:
                tell(study, trial)
        elif remaining:
            study.optimize(
                objective,
                n_trials=remaining,
                timeout=cfg.tune.timeout,
                n_jobs=cfg.tune.n_jobs,
                catch=(Exception,),
                callbacks=[tell],
            )
        best = _best(study, cfg, name)
        tracking.log_tuning(best.params, best.value, len(study.trials), metric)
    best.write(root / paths.BEST_PARAMS)
    return best


def _best_value(study: Any) -> float | None:
    """The best value so far, or None before the first complete trial."""
    try:
        return float(study.best_value)
    except ValueError:
        return None


def _best(study: Any, cfg: Config, name: str) -> BestParams:
    """The best completed trial, or one clear error when none completed."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        errors = [t.user_attrs["error"] for t in trials if "error" in t.user_attrs]
        last = f"; the last error: {errors[-1]}" if errors else ""
        raise TuningError(
            f"tuning {cfg.model.type}: none of the {len(trials)} trials of study "
            f"{name} completed{last}; check tune.space.{cfg.model.type} in params.yaml"
        )
    best = study.best_trial
    return BestParams(
        family=cfg.model.type,
        params=dict(best.params),
        metric=cfg.evaluate.primary_metric,
        value=float(best.value),
        trial=int(best.number),
        trials=len(trials),
        study=name,
    )
