"""Online scoring: a FastAPI app that serves the trained model over HTTP.

`<package> serve` runs it with uvicorn. The request schema is built from the
model's feature schema (models/schema.json, written by `train`), so a request that
lacks a feature or sends a value of the wrong type gets a 422 naming the field
before the model sees it. Rows go through the same saved sklearn Pipeline as batch
`predict`, so both return the same predictions for the same rows.

- `model.py`: which model is served and what the API says about it;
- `batching.py`: concurrent requests scored together (micro-batching);
- `limits.py`: records per request and bytes per body (413 above the limit);
- `schemas.py`: the request and response bodies;
- `explaining.py`: POST /explain, the numbers of `predict --explain`;
- `observe.py`: the data contract at the door, GET /metrics, the request log;
- `app.py`: the FastAPI app and `run`.
"""

from ..modeling.tasks import Scores
from .app import create_app, run
from .batching import MicroBatcher
from .limits import MAX_BODY_BYTES, MAX_RECORDS

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_RECORDS",
    "MicroBatcher",
    "Scores",
    "create_app",
    "run",
]
