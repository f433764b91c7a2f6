"""Where models, runs and data are recorded: MLflow tracking, the registry and
its champion gate, the data a model was trained on, the pipeline's provenance,
loading a model back, and CI's check that the data is in the clone."""
