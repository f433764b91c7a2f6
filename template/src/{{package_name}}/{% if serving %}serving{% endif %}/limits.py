"""Request size limits: records per request and bytes per body.

A request body larger than `max_body_bytes` (`serve --max-body-bytes`) is refused
with 413 before any of it is parsed, whether it declares its length or is sent in
chunks: the server never holds more than that limit of one request in memory.
"""

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_RECORDS = 1000
"""Default limit of records in one request (`serve --max-records`)."""
MAX_RECORDS_LIMIT = 100_000
"""Upper bound of `serve --max-records`."""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Default limit of a request body in bytes (`serve --max-body-bytes`)."""
MAX_BODY_BYTES_LIMIT = 1024 * 1024 * 1024
"""Upper bound of `serve --max-body-bytes`."""


class BodyLimit:
    """ASGI middleware: 413 for a body above `max_bytes`, before the app reads it.

    A declared Content-Length above the limit is refused at once; otherwise the
    body is read chunk by chunk (chunked requests have no Content-Length) and
    refused as soon as it passes the limit, then handed to the app whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (
            f"request body larger than {self.max_bytes} bytes; send fewer records "
            "per request (the server's limit is `serve --max-body-bytes`)"
        )
        response = JSONResponse(status_code=413, content={"detail": detail})
        # The unread rest of the body is dropped: the server closes the connection.
        await response(scope, receive, send)
