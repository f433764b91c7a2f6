"""The model card's generated sections, in words a decision maker reads.

`sections` returns Markdown blocks that the card template
(cards/model_card.md.j2) places by name: summary, data_profile, explanations,
segment_table, glossary, demo_notice and not_written. Every number
in them is read from reports/metrics.json as evaluate wrote it (tests check
this); when the baseline or the uncertainty keys are absent the sentences
that need them are left out.
"""

from typing import Any

from ..config import Config
from ..core import paths
from ..core.artifacts import DataSummary
from ..modeling.tasks import current
from . import segmenting, trust
from .insight import Insight

NOT_WRITTEN = (
    "*Not yet written: the owner writes this section in cards/model_card.md.j2.*"
)
GLOSSARY = {
    "accuracy": "share of held-out cases whose class is predicted correctly",
    "f1_macro": "per class the balance (harmonic mean) of precision and recall, "
    "averaged over the classes with equal weight",
    "precision_macro": "of the cases predicted as a class, the share that are that "
    "class; averaged over the classes",
    "recall_macro": "of the cases of a class, the share the model finds; averaged "
    "over the classes",
    "brier_score": "mean squared gap between the predicted probabilities and what "
    "happened: 0 is perfect, lower is better",
    "roc_auc": "area under the ROC curve: the chance that a case of a class gets a "
    "higher probability of it than a case of another class (one-vs-rest, averaged "
    "over the classes); 0.5 is guessing, 1 is perfect",
    "log_loss": "mean of minus the log of the probability given to the true class: "
    "0 is perfect, lower is better; punishes confident mistakes",
    "r2": "share of the target's variation the model explains: 1 is perfect, 0 is "
    "no better than always predicting the mean",
    "rmse": "root mean squared error: the typical size of an error, in the "
    "target's units, large errors weighing more",
    "mae": "mean absolute error: the average size of an error, in the target's units",
}

RELATIONS = {
    "spearman": "Spearman",
    "correlation_ratio": "correlation ratio",
    "cramers_v": "Cramér's V",
}
"""The profile's measures of relation to the target, as the card names them."""


def _relation(measure: str, value: float | None) -> str:
    """'+0.42 (Spearman)', '0.87 (correlation ratio)': signed only if it has one."""
    if value is None:
        return "n/a"
    name = RELATIONS.get(measure, measure.replace("_", " "))
    return (
        f"{value:+.2f} ({name})" if measure == "spearman" else f"{value:.2f} ({name})"
    )


def _per_100(value: float) -> int:
    return round(value * 100)


def _direction(insight: Insight, column: str) -> str:
    """How higher values of `column` move the prediction, in words."""
    for item in insight.directions:
        if item.column == column and item.toward is not None:
            way = "toward" if (item.correlation or 0) > 0 else "away from"
            return f"higher values push {way} '{item.toward}'"
        if item.column == column and item.correlation is None:
            return "its effect depends on the value"
        if item.column == column and item.correlation is not None:
            if "'" in insight.units:  # binary classifier: toward the second class
                up = "push toward " + insight.units[insight.units.index("'") :]
                down = "push away from " + insight.units[insight.units.index("'") :]
            else:
                up, down = "raise the prediction", "lower the prediction"
            if item.correlation > 0.3:
                return f"higher values {up}"
            if item.correlation < -0.3:
                return f"higher values {down}"
            return "its effect goes both ways"
    return "direction not available for this model type"


def summary(
    cfg: Config, report: dict[str, Any], data: DataSummary, insight: Insight
) -> str:
    """The plain-words opening of the card."""
    metric = cfg.evaluate.primary_metric
    baseline = report.get("baseline") or {}
    interval = report.get("ci") or {}
    rows = data.test_rows
    boot = (report.get("bootstrap") or {}).get("rows")
    sampled = {"cv": (report.get("cv") or {}).get("rows"), "bootstrap": boot}
    lines = [
        *trust.warnings(data),
        f"- **What it predicts:** `{data.target}` from {len(data.features)} columns "
        f"of `{data.path}` ({data.rows} rows: {data.train_rows} to learn from, "
        f"{data.test_rows} held out to test it).",
    ]
    if current().name == "classification":
        key = "accuracy"
        right = (
            f"- **How often it is right:** about {_per_100(report[key])} of every 100 "
            f"cases, on {rows} held-out rows"
        )
        if key in baseline:
            right += (
                f", against {_per_100(baseline[key])} of every 100 for a baseline that "
                "always predicts the most common class"
            )
        lines.append(right + ".")
        if key in interval:
            low, high = interval[key]["low"], interval[key]["high"]
            sure = (
                f"between {_per_100(low)} and {_per_100(high)} of every 100 "
                f"({trust.method(key, rows, cfg.evaluate.bootstrap, boot)})"
            )
        else:
            sure = None
    else:
        key = "mae"
        right = (
            f"- **How close it is:** on {rows} held-out rows its predictions are off "
            f"by {report[key]:.3g} on average (mean absolute error, in the units of "
            f"`{data.target}`)"
        )
        if key in baseline:
            right += (
                f", against {baseline[key]:.3g} for a baseline that always "
                "predicts the mean"
            )
        lines.append(right + ".")
        sure = None
        if key in interval:
            low, high = interval[key]["low"], interval[key]["high"]
            sure = (
                f"between {low:.3g} and {high:.3g} "
                f"({trust.method(key, rows, cfg.evaluate.bootstrap, boot)})"
            )
    if sure is None:
        sure = (
            f"measured once on {rows} held-out rows; with other rows it "
            "would differ (no uncertainty estimate in this run)"
        )
    lines.append(f"- **How sure that number is:** {sure}{trust.rough(rows)}.")
    lines.append(
        trust.rests_on(data, cfg.evaluate.bootstrap, report.get("ci", {}), sampled)
    )
    top = [str(c) for c in insight.ranking["column"][:3]]
    named = "; ".join(f"`{c}` ({_direction(insight, c)})" for c in top)
    lines.append(f"- **The columns that matter most:** {named}.")
    found = report.get("segments") or {}
    worst = segmenting.worst(found, metric, cfg.evaluate.greater_is_better)
    if worst is None:
        where = (
            "no segments were judged; name columns in `evaluate.segments` "
            "(params.yaml) to compare groups"
        )
    else:
        column, value, entry = worst
        where = (
            f"`{column}` = {value} ({entry['rows']} rows): "
            f"{metric} {entry[metric]:.3f} "
            f"against {report[metric]:.3f} overall"
        )
    lines.append(f"- **Where it does worst:** {where}.")
    lines.append(
        "- **When not to use it:** on data unlike its training data (other "
        "populations, time periods or value ranges; see *Data at a glance*), and "
        "for decisions nobody reviews, unless *Intended use* below says otherwise."
    )
    return "\n".join(lines)


def _share(value: float) -> str:
    return f"{round(value * 100)}%"


def _span(entry: dict[str, Any]) -> str:
    return f"{entry['min']:.4g} to {entry['max']:.4g} (median {entry['median']:.4g})"


def data_profile(profile: dict[str, Any] | None) -> str:
    """A compact table of the profile stage's findings, or a pointer to the stage."""
    if not profile:
        return "No profile yet: run `dvc repro` (stage `profile`)."
    rows = [
        "| Column | Kind | Missing | Range or top values | Relation to target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in profile["columns"]:
        if "range" in entry:
            span = entry["range"]
        elif "min" in entry:
            span = _span(entry)
        else:
            span = ", ".join(f"{k} ({v})" for k, v in entry["top_values"].items())
        relation = _relation(entry["relation"], entry["relation_value"])
        missing = _share(entry["missing_share"])
        rows.append(
            f"| `{entry['column']}` | {entry['kind']} | {missing} "
            f"| {span} | {relation} |"
        )
    balance = profile["balance"]
    if "shares" in balance:
        text = ", ".join(f"{k} {_share(v)}" for k, v in balance["shares"].items())
    else:
        text = _span(balance)
    images = "\n".join(
        f"![{p.rsplit('/', 1)[-1][:-4]}]({p})" for p in profile.get("images", [])
    )
    return (
        f"Target `{profile['target']}` over {profile['rows']} training rows: "
        f"{text}.\n\n" + "\n".join(rows) + ("\n\n" + images if images else "")
    )


def explanations(insight: Insight) -> str:
    """Permutation importance (top 10) and, for classifiers, the threshold table."""
    rows = [
        "| Column | Importance | Spread (std over shuffles) | Direction |",
        "| --- | --- | --- | --- |",
    ]
    for record in insight.ranking.head(10).itertuples():
        rows.append(
            f"| `{record.column}` | {record.importance:.4f} | {record.spread:.4f} "
            f"| {_direction(insight, str(record.column))} |"
        )
    text = (
        "Permutation importance on the held-out rows: how much the primary metric "
        "worsens when one column is shuffled.\n\n" + "\n".join(rows)
    )
    if insight.thresholds:
        table = [
            "| Threshold | Flagged | Precision | Recall |",
            "| --- | --- | --- | --- |",
        ]
        for row in insight.thresholds:
            cells = [
                "n/a" if row[k] is None else f"{row[k]:.3f}"
                for k in ("precision", "recall")
            ]
            table.append(
                f"| {row['threshold']} | {row['flagged']} | {cells[0]} | {cells[1]} |"
            )
        text += (
            "\n\nPrecision and recall of the second class at other decision "
            "thresholds (predictions use 0.5):\n\n" + "\n".join(table)
        )
    return text


def segment_table(report: dict[str, Any], metric: str) -> str:
    """Metrics per segment, too-small ones marked."""
    found = report.get("segments") or {}
    if not found:
        return "No segments configured (`evaluate.segments` in params.yaml)."
    rows = [f"| Column | Value | Rows | {metric} |", "| --- | --- | --- | --- |"]
    for column, values in found.items():
        for value, entry in values.items():
            score = (
                "too few rows to judge"
                if entry["too_small"]
                else f"{entry[metric]:.4f}"
            )
            rows.append(f"| `{column}` | {value} | {entry['rows']} | {score} |")
    return "\n".join(rows)


def sections(
    cfg: Config, report: dict[str, Any], data: DataSummary, insight: Insight
) -> dict[str, str]:
    """The template variables of the generated sections."""
    demo = data.path == paths.DEMO_DATA.as_posix()
    names = [*report.keys()]
    return {
        "summary": summary(cfg, report, data, insight),
        "data_profile": data_profile(insight.profile),
        "explanations": explanations(insight),
        "segment_table": segment_table(report, cfg.evaluate.primary_metric),
        "glossary": "\n".join(
            f"- **{name}**: {GLOSSARY[name]}" for name in names if name in GLOSSARY
        ),
        "demo_notice": (
            "> **Demo data.** This model was trained on the bundled demo data set "
            f"(`{data.path}`), not on your data: its numbers say nothing about your "
            "problem. Point `data.path` in params.yaml at your data and run "
            "`dvc repro`."
            if demo
            else ""
        ),
        "not_written": NOT_WRITTEN,
    }
