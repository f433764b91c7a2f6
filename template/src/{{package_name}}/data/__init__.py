"""The data: the demo set, reading and checking a table, the split (stage
prepare), and the profile of the training rows (stage profile)."""
