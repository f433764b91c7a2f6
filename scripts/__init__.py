"""Scripts run from the repository root: `uv run python -m scripts.demo`."""
