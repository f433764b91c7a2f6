"""Benchmarks run from the repository root: `uv run python -m benchmarks.bench`."""
