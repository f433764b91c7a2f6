"""A user's own table, as the slow tests bring it: an id column, numbers, a string
column and a string target."""

from __future__ import annotations

import csv
import random
from pathlib import Path


def own_data(path: Path, rows: int = 300) -> None:
    """A user's table: an id column, numbers, a string column, a string target."""
    rng = random.Random(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "tenure", "spend", "plan", "churned"])
        for i in range(rows):
            tenure, spend = rng.randint(1, 72), round(rng.uniform(10, 120), 2)
            plan = rng.choice(["basic", "plus", "pro"])
            churned = "yes" if tenure < 12 and spend > 60 else "no"
            writer.writerow([10_000 + i, tenure, spend, plan, churned])


def use_own_data(params: str, path: str = "data/raw/churn.csv") -> str:
    """params.yaml's text with the user's data settings, edited by hand as the
    README says (the list one `- name` line each)."""
    lines = {
        "  path: data/raw/demo.csv\n": f"  path: {path}\n",
        "  target: diagnosis\n": "  target: churned\n",
        "  drop: []\n": "  drop:\n  - customer_id\n",
    }
    for old, new in lines.items():
        assert params.count(old) == 1, old
        params = params.replace(old, new)
    return params
