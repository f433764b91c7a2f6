"""Where each pipeline stage reads and writes, relative to the project root.

dvc.yaml names the same paths; tests/test_paths.py checks that the two agree.
"""

from pathlib import Path

PARAMS = Path("params.yaml")
CHECKED = Path("reports/checked.txt")
DEMO_DATA = Path("data/raw/demo.csv")
TRAIN = Path("data/prepared/train.parquet")
TEST = Path("data/prepared/test.parquet")
DATA_SUMMARY = Path("data/prepared/summary.json")
MODEL = Path("models/model.joblib")
SCHEMA = Path("models/schema.json")
BEST_PARAMS = Path("models/best_params.json")
STUDY = Path("tuning/study.db")
REFERENCE = Path("models/reference.json")
METRICS = Path("reports/metrics.json")
PLOTS = Path("reports/plots")
FIGURES = Path("reports/figures")
CARD_TEMPLATE = Path("cards/model_card.md.j2")
MODEL_CARD = Path("MODEL_CARD.md")
PROFILE = Path("reports/profile.json")
PROFILE_FIGURES = Path("reports/profile")
MONITOR = Path("reports/monitor")
