"""
ASGI middleware at the edge: the request-body limit and the HTTP metrics.

Both are plain ASGI (no ``BaseHTTPMiddleware``), so they cost little on the request path.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import NodeMetrics


async def _reply(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """
    Answers 413 to a body larger than ``max_bytes``: at once when ``Content-Length`` says so,
    otherwise (chunked bodies) after reading at most ``max_bytes + 1`` bytes, which are then
    replayed to the app when the body fits.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        length: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _reply(send, 400, "invalid Content-Length header")
                    return
                break
        too_large = f"request body larger than {self.max_bytes} bytes"
        if length is not None:
            if length > self.max_bytes:
                await _reply(send, 413, too_large)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reply(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class MetricsMiddleware:
    """
    Counts requests per method, handler and status, and times them per handler. The handler is the
    matched route's name (``create_inference``, ``read_receipt``…), ``unmatched`` when none.
    """

    def __init__(self, app: ASGIApp, metrics: NodeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            handler = str(getattr(route, "name", None) or "unmatched")
            self.metrics.http_latency.labels(handler).observe(time.perf_counter() - start)
            self.metrics.http_requests.labels(scope["method"], handler, str(status)).inc()
