"""Stages check, tune and train, on this machine or a Dask cluster, and the
baseline, cross-validation and bootstrap intervals evaluate reports."""
