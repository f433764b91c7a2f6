"""The template repository's own harness: render, run and serve generated projects.

Tests, scripts and benchmarks import it from the repository root (pytest does;
`python -m scripts.demo`, `python -m benchmarks.bench`), so there is one copy of
"render, git init, commit, uv sync, dvc repro" and of the environment it runs in.
"""
