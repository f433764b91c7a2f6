"""Serving that can be watched: the data contract at the door, metrics, request log.

- `Guard.check` runs before a request is scored: a date that is not ISO 8601 is a
  422 naming the field (as batch predict refuses it), and the records' soft
  findings against the training profile (contract.py) are counted; with
  monitor.on_soft_finding `reject` they are a 422 too.
- GET /metrics answers in the Prometheus text format (prometheus-client): requests
  by endpoint and status, latency histograms, records scored, soft findings by
  column and kind, and the served model version.
- The request log (off unless monitor.request_log or `serve --request-log` names a
  folder) appends one JSON line per scored request to requests.jsonl there:
  time, model version, the records' features and the predictions. The file is
  rotated by size; `<package> monitor --input FOLDER` reads it back.
"""

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel

from ..config import MonitorConfig
from ..core.errors import ProjectError
from ..core.files import make_folder
from ..modeling.features import DATETIME, as_datetimes, model_kinds
from ..modeling.tasks import Scores
from ..monitoring.contract import Findings, check
from ..monitoring.reference import Reference, optional_for_model
from .model import ServedModel
from .schemas import to_frame

LOG_NAME = "requests.jsonl"


class Metrics:
    """The server's Prometheus metrics, in a registry of their own."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by endpoint, method and status code.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by endpoint and method.",
            ["endpoint", "method"],
            registry=self.registry,
        )
        self.records = Counter(
            "model_records_scored", "Records scored.", registry=self.registry
        )
        self.findings = Counter(
            "model_soft_findings",
            "Values outside the training profile, by column and kind.",
            ["column", "finding"],
            registry=self.registry,
        )
        info = Gauge(
            "model_info", "The served model.", ["model_version"], registry=self.registry
        )
        info.labels(model_version=version).set(1)

    def count(self, findings: Findings) -> None:
        """Add a request's soft findings."""
        for column, by_kind in findings.counts.items():
            for kind, rows in by_kind.items():
                self.findings.labels(column=column, finding=kind).inc(rows)


class RequestLog:
    """Appends one JSON line per scored request; rotated by size."""

    def __init__(self, folder: Path, cfg: MonitorConfig) -> None:
        make_folder(folder, "fix --request-log or monitor.request_log in params.yaml")
        self.logger = logging.getLogger(f"{__name__}.{folder.resolve()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        if not self.logger.handlers:
            try:
                handler = RotatingFileHandler(
                    folder / LOG_NAME,
                    maxBytes=cfg.request_log_max_mb * 1024 * 1024,
                    backupCount=cfg.request_log_files,
                    encoding="utf-8",
                )
            except OSError as exc:
                raise ProjectError(
                    f"{folder / LOG_NAME}: cannot write the request log "
                    f"({exc.strerror}); fix --request-log or monitor.request_log"
                ) from exc
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.logger.addHandler(handler)

    def write(self, version: str, frame: pd.DataFrame, scores: Scores) -> None:
        """Log the request's features and predictions."""
        records = frame.astype(object).where(frame.notna(), None)
        entry = {
            "timestamp": datetime.now(UTC).isoformat(),
            "model_version": version,
            "records": records.to_dict(orient="records"),
            "predictions": scores.predictions,
        }
        self.logger.info(json.dumps(entry, allow_nan=False, default=str))


class Guard:
    """The data contract at the door, the metrics and the request log of one app."""

    def __init__(self, served: ServedModel, cfg: MonitorConfig, root: Path) -> None:
        self.served = served
        self.cfg = cfg
        self.kinds = model_kinds(served.pipeline)
        self.reference: Reference | None = optional_for_model(served.source, root)
        self.metrics = Metrics(served.version)
        folder = cfg.request_log
        self.log = None
        if folder is not None:
            self.log = RequestLog(
                folder if folder.is_absolute() else root / folder, cfg
            )

    def check(self, records: list[BaseModel]) -> pd.DataFrame:
        """The records as a frame, after the contract's checks (see the module doc)."""
        frame = to_frame(records, self.served.features)
        # Numbers and strings are typed by the request schema already; dates are
        # text until parsed here (the one check the schema cannot make).
        conformed = frame.copy(deep=False)
        errors: list[dict[str, Any]] = []
        for name, kind in self.kinds.items():
            if kind != DATETIME:
                continue
            values = frame[name]
            stamps = as_datetimes(values.to_numpy())
            bad = values.notna().to_numpy() & stamps.isna().to_numpy()
            errors += [
                {
                    "type": "datetime_from_date_parsing",
                    "loc": ("body", "records", int(row), name),
                    "msg": "must be an ISO 8601 date such as 2024-05-31 or "
                    "2024-05-31T14:00:00",
                }
                for row in bad.nonzero()[0]
            ]
            stamps.index = frame.index
            conformed[name] = stamps
        if errors:
            raise RequestValidationError(errors)
        if self.reference is not None:
            findings = check(conformed, self.reference, self.cfg)
            self.metrics.count(findings)
            if self.cfg.on_soft_finding == "reject" and findings.total:
                raise RequestValidationError(
                    [
                        {
                            "type": f"soft_finding_{kind}",
                            "loc": ("body", "records", column),
                            "msg": f"{kind} in {rows} records (monitor.on_soft_finding"
                            " is reject)",
                        }
                        for column, by_kind in findings.counts.items()
                        for kind, rows in by_kind.items()
                    ]
                )
        return frame

    def scored(self, frame: pd.DataFrame, scores: Scores) -> None:
        """Count the scored records; log them when the request log is on."""
        self.metrics.records.inc(len(frame))
        if self.log is not None:
            self.log.write(self.served.version, frame, scores)


def install(app: FastAPI, guard: Guard) -> None:
    """Time and count every request; serve GET /metrics."""
    metrics = guard.metrics

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        """The metrics in the Prometheus text format."""
        return Response(
            generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Any]]
    ) -> Any:
        # The route's path, never the raw URL: unknown paths would grow the labels.
        paths = {getattr(route, "path", "") for route in app.routes}
        endpoint = request.url.path if request.url.path in paths else "other"
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            metrics.latency.labels(endpoint, request.method).observe(
                time.perf_counter() - start
            )
            metrics.requests.labels(endpoint, request.method, str(status)).inc()
