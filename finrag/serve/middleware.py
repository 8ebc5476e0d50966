"""Pure ASGI middleware (streams pass through untouched): request ids, access logs, request metrics,
last-resort error handling, and the upload size limit."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finrag.observability.metrics import Metrics

log = logging.getLogger("finrag.serve.access")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("finrag_request_id", default="")
_RID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


class RequestIdLogFilter(logging.Filter):
    """Adds the current request id to every log record (installed by `serve_command`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id_var.get()
        if rid and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


def _json_error(status: int, type_: str, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": {"type": type_, "message": message}}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        rid = incoming if _RID_OK.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        started = False
        t0 = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Last resort: a JSON 500 that still carries the request id (the log has the traceback).
            log.exception("unhandled error", extra={"request_id": rid, "path": scope.get("path")})
            self.metrics.errors.labels(type="internal_error").inc()
            if not started:
                start, body = _json_error(500, "internal_error", f"internal error; request id {rid}")
                await send_with_id(start)
                await send(body)
            status = 500
        finally:
            elapsed = time.perf_counter() - t0
            route = scope.get("route")
            # Route templates, not raw paths, keep label cardinality bounded.
            route_label = getattr(route, "path", None) or "unmatched"
            pipeline = str(state.get("pipeline", "none"))
            self.metrics.requests.labels(route=route_label, method=scope["method"], status=str(status)).inc()
            self.metrics.request_latency.labels(route=route_label, pipeline=pipeline).observe(elapsed)
            fields = {
                "request_id": rid,
                "method": scope["method"],
                "path": scope.get("path"),
                "route": route_label,
                "status": status,
                "ms": round(elapsed * 1000, 1),
                "tenant": state.get("tenant", ""),
                "key_id": state.get("key_id", ""),
                "pipeline": pipeline,
            }
            log.log(logging.DEBUG if scope.get("path") in QUIET_PATHS else logging.INFO, "request", extra=fields)
            request_id_var.reset(token)


class _TooLarge(Exception):
    pass


class UploadLimitMiddleware:
    """Refuses oversized uploads while they arrive (Content-Length first, then counted bytes), so a
    huge body is never spooled to disk before being rejected."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: frozenset[str] = frozenset({"/v1/documents"})) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") not in self.paths:
            await self.app(scope, receive, send)
            return
        message = f"upload larger than the limit of {self.max_bytes / 2**20:.1f} MB (FINRAG_SERVE_MAX_UPLOAD_MB)"
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            start, body = _json_error(413, "payload_too_large", message)
            await send(start)
            await send(body)
            return
        seen = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app made of the aborted body, the answer is 413
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    start, body = _json_error(413, "payload_too_large", message)
                    await send(start)
                    await send(body)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            if not started:
                start, body = _json_error(413, "payload_too_large", message)
                await send(start)
                await send(body)
