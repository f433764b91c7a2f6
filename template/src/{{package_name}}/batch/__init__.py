"""`predict`: batch scoring of a file, a folder of parts or an object store, in
memory, streamed, or on a Dask cluster."""
