"""The FastAPI app: /health, /metadata, /predict and /explain over the served model."""

from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from .. import DISTRIBUTION, PROJECT_NAME, TASK, __version__
from ..config import MonitorConfig
from ..core import paths
from ..core.errors import ProjectError
from ..modeling.tasks import Scores, current
from .batching import MicroBatcher
from .explaining import TOP, UNEXPLAINABLE, Explanations, explain_rows, explainer_for
from .limits import MAX_BODY_BYTES, MAX_RECORDS, BodyLimit
from .model import load_served
from .observe import Guard, install
from .schemas import (
    Health,
    metadata_model,
    predictions_model,
    record_model,
    request_model,
    to_frame,
)


def create_app(
    model: str = str(paths.MODEL),
    *,
    root: Path | None = None,
    max_records: int = MAX_RECORDS,
    max_body_bytes: int = MAX_BODY_BYTES,
    monitor: MonitorConfig | None = None,
) -> FastAPI:
    """The API serving `model`, loaded now (a missing model fails here, not later).

    Relative paths (the model, reports/metrics.json, the request log) are read
    under `root`, the project folder (default: the current directory). `monitor`:
    the data contract and request log settings (observe.py).
    """
    task = current()
    folder = Path.cwd() if root is None else root
    served = load_served(model, folder)
    guard = Guard(served, monitor or MonitorConfig(), folder)
    request_body = request_model(record_model(served.features), max_records)
    transform = served.pipeline[:-1]
    estimator = served.pipeline[-1]
    classes = task.classes(estimator)
    labels = [str(c) for c in classes or []]
    has_classes = classes is not None
    metadata_body = metadata_model(task.label_type, has_classes)
    predictions_body = predictions_model(task.label_type, has_classes)
    app = FastAPI(
        title=PROJECT_NAME,
        version=__version__,
        description=f"Predictions of the {TASK} model of {DISTRIBUTION}.",
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    def score(records: list[BaseModel]) -> Scores:
        # What the Pipeline's predict does, preprocessing the records only once.
        features = transform.transform(to_frame(records, served.features))
        return task.score(estimator, features)

    batcher = MicroBatcher(score, max_rows=max(max_records, MAX_RECORDS))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(
        request: Request, exc: RequestValidationError
    ) -> JSONResponse:
        """422 naming each bad field; the bad values are not echoed back."""
        detail = [
            {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    # FastAPI answers an unreadable body with Starlette's HTTPException(400).
    @app.exception_handler(HTTPException)
    async def unreadable_body(request: Request, exc: HTTPException) -> Response:
        """A body that is not UTF-8 JSON is a bad request like any other: 422."""
        if exc.status_code != 400:
            return await http_exception_handler(request, exc)
        detail = [{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.get("/health")
    async def health() -> Health:
        """The server is up and the model is loaded."""
        return Health(status="ok", model_loaded=True, model_version=served.version)

    @app.get("/metadata", response_model=metadata_body)
    async def metadata() -> BaseModel:
        """Model version, feature schema and training metrics."""
        extra = {} if classes is None else {"classes": classes}
        return metadata_body(
            name=DISTRIBUTION,
            version=__version__,
            task=TASK,
            model_source=served.source,
            model_version=served.version,
            target=served.target,
            features=served.features,
            **extra,
            metrics=served.metrics,
            max_records=max_records,
        )

    @app.post("/predict", response_model=predictions_body)
    async def predict(body: request_body) -> BaseModel:  # type: ignore[valid-type]
        """Score 1 to max_records records with the same Pipeline as batch predict."""
        frame = guard.check(body.records)  # type: ignore[attr-defined]
        try:
            scores = await batcher.score(body.records)  # type: ignore[attr-defined]
        except ValueError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", "records"),
                        "msg": f"the model cannot score these values: {exc}",
                    }
                ]
            ) from exc
        guard.scored(frame, scores)
        extra = {}
        if classes is not None:
            extra["probabilities"] = [
                dict(zip(labels, row, strict=True)) for row in scores.probabilities
            ]
        return predictions_body(
            predictions=scores.predictions, **extra, model_version=served.version
        )

    explainer = explainer_for(served.pipeline)

    @app.post(
        "/explain",
        response_model=Explanations,
        responses={501: UNEXPLAINABLE},
    )
    def explain(
        body: request_body,  # type: ignore[valid-type]
        top: int = Query(TOP, ge=1, description="columns listed per record"),
    ) -> Explanations:
        """Per record, the `top` columns that moved its prediction most, with
        signed contributions: base + contributions + other = output. The records
        pass the same data contract as /predict (observe.py).
        """
        frame = guard.check(body.records)  # type: ignore[attr-defined]
        try:
            return explain_rows(explainer(), frame, top, served.version)
        except ProjectError as exc:
            raise HTTPException(status_code=501, detail=str(exc)) from exc
        except ValueError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", "records"),
                        "msg": f"the model cannot explain these values: {exc}",
                    }
                ]
            ) from exc

    install(app, guard)
    return app


def run(
    model: str,
    host: str,
    port: int,
    max_records: int = MAX_RECORDS,
    max_body_bytes: int = MAX_BODY_BYTES,
    monitor: MonitorConfig | None = None,
) -> None:
    """Load the model, then serve it until interrupted (Ctrl+C or SIGTERM)."""
    import uvicorn

    app = create_app(
        model, max_records=max_records, max_body_bytes=max_body_bytes, monitor=monitor
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
