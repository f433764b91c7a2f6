"""The model: the family table, the gradient-boosting and other families,
preprocessing, plots, and `tasks/` (what varies by task). Imports only core."""
