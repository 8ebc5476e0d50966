"""Pure ASGI middleware (streams pass through untouched): request ids, access logs, request metrics,
last-resort error handling, authentication before any body is read, and body size limits."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
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


def presented_secret(headers: Headers) -> str | None:
    """The API key of a request: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return credential.strip()
    return headers.get("x-api-key") or None


async def _refuse(send: Send, status: int, type_: str, message: str, extra: dict[str, str] | None = None) -> None:
    start, body = _json_error(status, type_, message)
    for name, value in (extra or {}).items():
        start["headers"].append((name.lower().encode(), value.encode()))
    # The body was not read: tell the client this connection ends here.
    start["headers"].append((b"connection", b"close"))
    await send(start)
    await send(body)


class AuthGateMiddleware:
    """Checks the API key of every /v1/ request from its headers alone, before any of its body is read
    or parsed: an unauthenticated client cannot make the server read, buffer or parse anything.
    (The route's own dependency checks scopes and rate limits; a verified key is cached, so the second
    look costs nothing.)"""

    def __init__(
        self, app: ASGIApp, verify: Callable[[str], object | None], metrics: Metrics, prefix: str = "/v1/"
    ) -> None:
        self.app = app
        self.verify = verify
        self.metrics = metrics
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        secret = presented_secret(Headers(scope=scope))
        challenge = {"WWW-Authenticate": "Bearer"}
        if not secret:
            message = "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
            self.metrics.errors.labels(type="unauthorized").inc()
            await _refuse(send, 401, "unauthorized", message, challenge)
            return
        if await run_in_threadpool(self.verify, secret) is None:
            self.metrics.errors.labels(type="unauthorized").inc()
            await _refuse(send, 401, "unauthorized", "invalid or revoked API key", challenge)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """A size limit on every request body, enforced while it arrives (Content-Length first, then counted
    bytes), so a huge body is never buffered, spooled or parsed: `max_bytes` for every route, and
    `per_path` limits for the routes that take more (uploads)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        metrics: Metrics,
        per_path: dict[str, tuple[int, str]] | None = None,
        setting: str = "FINRAG_SECURITY_MAX_BODY_KB",
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.per_path = per_path or {}
        self.setting = setting

    async def _too_large(self, send: Send, message: str) -> None:
        self.metrics.errors.labels(type="payload_too_large").inc()
        await _refuse(send, 413, "payload_too_large", message)

    def _limit(self, path: str) -> tuple[int, str]:
        return self.per_path.get(path.rstrip("/"), (self.max_bytes, self.setting))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit(scope["path"])
        size = f"{limit / 2**20:.1f} MB" if limit >= 2**20 else f"{limit / 1024:.0f} KB"
        message = f"request body larger than the limit of {size} ({setting})"
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > limit:
            await self._too_large(send, message)
            return
        seen = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app made of the aborted body, the answer is 413
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    await self._too_large(send, message)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            if not started:
                await self._too_large(send, message)
        except Exception:
            if not exceeded:
                raise
            if not started:  # the app wrapped our signal in its own error: still a 413
                await self._too_large(send, message)


# The web page loads only its own script, style and images (page PNGs are shown from blob: URLs).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """nosniff, no framing and no referrer on every response; the content security policy on the web
    page and its static files (not on /docs, whose Swagger UI loads from a CDN)."""

    def __init__(self, app: ASGIApp, page_paths: tuple[str, ...] = ("/", "/static/")) -> None:
        self.app = app
        self.page_paths = page_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        page = path == "/" or any(path.startswith(p) for p in self.page_paths if p != "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if page:
                    headers.setdefault("Content-Security-Policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
