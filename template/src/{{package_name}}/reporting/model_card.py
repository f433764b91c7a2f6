"""MODEL_CARD.md: rendered after every evaluation from a card template you own.

Edit cards/model_card.md.j2 (intended use, limitations, ethics); the numbers,
run id and data facts are filled in here from the run that just finished.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import sklearn
import yaml
from sklearn.pipeline import Pipeline

from .. import DISTRIBUTION, PROJECT_NAME, TASK
from ..config import Config
from ..core import paths
from ..core.artifacts import DataSummary
from ..core.errors import ConfigError
from ..core.files import write_text
from ..modeling import families

if TYPE_CHECKING:
    from ..versioning.registry import Promotion

HF_LICENSES = {
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
    "BSD-3-Clause": "bsd-3-clause",
}


def project_facts() -> dict[str, str]:
    """Name, description, license and authors from the installed package metadata."""
    try:
        meta = metadata(DISTRIBUTION).json
    except PackageNotFoundError:
        meta = {}
    return {
        "name": str(meta.get("name", DISTRIBUTION)),
        "description": str(meta.get("summary", "")),
        "license": str(meta.get("license_expression", "")),
        "authors": str(meta.get("author_email", "")),
    }


DRAFT_MARKERS = ("Not yet written", "Your words:")
"""Text of owner sections not written yet (new and older card templates)."""


def front_matter(
    project: dict[str, str],
    metrics: dict[str, float],
    data: DataSummary,
    draft: bool = False,
) -> str:
    """YAML front matter in the Hugging Face model-card format (model-index);
    `status: draft` while owner sections are not written.
    """
    task_type = f"tabular-{TASK}"
    card: dict[str, object] = {
        "license": HF_LICENSES.get(project["license"], "other"),
        "library_name": "sklearn",
        "tags": ["sklearn", task_type, "mlflow", "dvc"],
        "model-index": [
            {
                "name": project["name"],
                "results": [
                    {
                        "task": {"type": task_type, "name": task_type},
                        "dataset": {
                            "name": Path(data.path).name,
                            "type": "tabular",
                            "split": "test",
                        },
                        "metrics": [
                            {"type": name, "name": name, "value": value}
                            for name, value in metrics.items()
                        ],
                    }
                ],
            }
        ],
    }
    if draft:
        card["status"] = "draft"
    return "---\n" + yaml.safe_dump(card, sort_keys=False, allow_unicode=True) + "---"


def render(
    template: Path,
    *,
    cfg: Config,
    model: Pipeline,
    run_id: str,
    experiment: str,
    metrics: dict[str, float],
    data: DataSummary,
    images: list[Path],
    certainty: dict[str, Any],
    promotion: Promotion,
    sections: dict[str, str] | None = None,
) -> str:
    """The card's text for one evaluated run.

    `certainty` is evaluate's baseline, cross-validation and bootstrap facts;
    `promotion` the champion decision; `sections` the generated blocks of
    card_text.py (summary, data_profile, ...).
    """
    if not template.is_file():
        raise ConfigError(
            f"{template}: model card template missing; restore it from the "
            "template with `copier update` or write your own"
        )
    project = project_facts()
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    card = env.from_string(template.read_text(encoding="utf-8"))
    context = dict(
        project=project,
        title=PROJECT_NAME,
        task=TASK,
        run_id=run_id,
        experiment=experiment,
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        framework=f"scikit-learn {sklearn.__version__}",
        estimator=type(model.named_steps["model"]).__name__,
        family=family_line(cfg.model.type),
        hyperparameters={
            f"{cfg.model.type}.{key}": value
            for key, value in certainty["hyperparameters"].items()
        },
        data=data.to_dict(),
        metrics=metrics,
        primary_metric=cfg.evaluate.primary_metric,
        images=[image.as_posix() for image in images],
        baseline=certainty["baseline"],
        cv=certainty["cv"],
        ci=certainty["ci"],
        best_iteration=certainty["best_iteration"],
        rounds=certainty["rounds"],
        promotion=promotion,
        **(sections or {}),
    )
    text = card.render(front_matter=front_matter(project, metrics, data), **context)
    if any(marker in text for marker in DRAFT_MARKERS):
        matter = front_matter(project, metrics, data, draft=True)
        text = card.render(front_matter=matter, **context)
    return text


def family_line(name: str) -> str:
    """The card's sentence on the model family: why, when it is the default."""
    text = f"Family `{name}` (`model.type` in params.yaml)"
    if name == families.DEFAULT:
        return f"{text}, the template's default: {families.WHY_DEFAULT}."
    return f"{text}; the template's default is `{families.DEFAULT}`."


def write(root: Path, text: str) -> Path:
    """Write MODEL_CARD.md atomically; return its path."""
    path = root / paths.MODEL_CARD
    write_text(path, text)
    return path
