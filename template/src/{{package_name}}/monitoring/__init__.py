"""What the model expects and how far new rows are from it: the training rows'
reference profile, the soft contract, drift tests and the `monitor` command."""
