"""Batch scoring: add predictions to a CSV or Parquet file of feature rows.

The input's feature columns are checked against the kinds the model was trained
on (features.conform) before the model sees them; other columns are kept as they
are. The output is the input plus `prediction` (and `probability_<class>` for a
classifier, and the `explain_*` columns with `--explain K`); an input that
already has one of those columns is refused rather than overwritten.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import MonitorConfig
from ..core import stores
from ..core.errors import DataError
from ..core.files import atomic_path
from ..data.tables import read_table, shown
from ..modeling.features import conform, model_kinds
from ..modeling.tasks import current
from ..monitoring.contract import Findings, check, enforce
from ..monitoring.reference import optional_for_model
from ..reporting.explain import Explainer, explain_frame, output_names
from ..versioning.loading import load_model
from .outputs import check_not_owned

WRITERS = (".csv", ".parquet", ".pq")
PREDICTION = "prediction"


def expected_columns(model: Pipeline) -> list[str]:
    """The feature columns the model was trained on."""
    return [str(c) for c in model.feature_names_in_]


def output_columns(model: Pipeline) -> list[str]:
    """The columns predict adds to its input."""
    labels = current().classes(model) or []
    return [PREDICTION, *(f"probability_{label}" for label in labels)]


def predict_frame(
    model: Pipeline, frame: pd.DataFrame, where: str = "input", explain: int = 0
) -> pd.DataFrame:
    """`frame` with a `prediction` column (and class probabilities, if any);
    with `explain` K > 0 also the K columns that moved each prediction most
    (explain.py).
    """
    columns = expected_columns(model)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: lacks the feature columns {missing}; the model needs {columns}"
        )
    added = output_columns(model)
    if explain:
        explain = min(explain, len(columns))
        added += output_names(explain)
    taken = [c for c in added if c in frame.columns]
    if taken:
        raise DataError(
            f"{where}: has columns {taken} that predict writes; "
            "rename or drop them in the input"
        )
    features = conform(frame, model_kinds(model), where)
    result = frame.copy()
    result[PREDICTION] = model.predict(features)
    for column, values in current().probabilities(model, features).items():
        result[column] = values
    if explain:
        result = result.assign(**explain_frame(Explainer(model), features, explain))
    return result


@dataclass(frozen=True)
class Scored:
    """What predict_file wrote: rows, and the soft findings (None: not checked)."""

    rows: int
    findings: Findings | None


def check_output(source: Path | str, output: Path | str, overwrite: bool) -> None:
    """Refuse an --output file of an unknown type, one the pipeline or DVC owns,
    or an existing file (the input too) without --overwrite (either may be an
    object-store URL, a str: stores.py)."""
    name = stores.name(output) if isinstance(output, str) else output.name
    if Path(name).suffix.lower() not in WRITERS:
        raise DataError(f"{output}: unknown output type; use .csv or .parquet")
    check_not_owned(output, Path.cwd())
    if isinstance(source, str) or isinstance(output, str):
        same = str(output) == str(source)
    else:
        same = output.resolve() == source.resolve()
    if same and not overwrite:
        raise DataError(
            f"{output}: --output is the --input file; choose another --output, or "
            "pass --overwrite to replace the input with the scored rows"
        )
    there = stores.exists(output) if isinstance(output, str) else output.exists()
    if there and not overwrite:
        raise DataError(
            f"{output}: --output exists; choose another --output, or pass "
            "--overwrite to replace it"
        )


def predict_file(
    source: Path,
    output: Path,
    model_source: str,
    *,
    overwrite: bool = False,
    explain: int = 0,
    monitor: MonitorConfig | None = None,
) -> Scored:
    """Score `source` into `output`, checking the rows against the training profile
    (contract.py) with the `monitor` settings; with `explain` K > 0 also write each
    row's K strongest columns (explain.py).
    """
    check_output(source, output, overwrite)
    model = load_model(model_source)
    frame = read_table(source, setting="--input")
    where = str(shown(source))
    result = predict_frame(model, frame, where, explain)
    cfg = monitor or MonitorConfig()
    reference = optional_for_model(model_source, Path.cwd())
    findings = None
    if reference is not None:
        findings = check(conform(frame, model_kinds(model), where), reference, cfg)
        enforce(findings, cfg, where)
    with atomic_path(output) as tmp:
        if output.suffix.lower() == ".csv":
            result.to_csv(tmp, index=False)
        else:
            result.to_parquet(tmp, index=False)
    return Scored(len(result), findings)
