"""What every part of the package uses: errors, paths, atomic files, progress
lines, typed artifacts, object stores and the Dask scheduler. Imports nothing else
of the package."""
