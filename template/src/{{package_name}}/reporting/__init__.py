"""Stage evaluate: metrics, explanations, importance, segments and the model
card, logged to MLflow."""
