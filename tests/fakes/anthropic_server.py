"""A fake Anthropic Messages API (`POST /v1/messages`) speaking the real wire protocol.

- JSON responses and SSE streams shaped like the real API (message_start ... message_stop).
- Prompt caching simulated from the request: the prefix (system, then message blocks) up to each
  `cache_control` breakpoint is hashed; a later request with the same prefix reads it
  (`cache_read_input_tokens`) instead of writing it (`cache_creation_input_tokens`). Prefixes
  under `min_cache_tokens` are not cached, entries expire after `cache_ttl_s`, and, like the real
  API, a breakpoint also finds entries written at up to 20 earlier block boundaries.
- Tokens ~= len(text) / 4; images (width * height) / 750 from the PNG header, at most 1,600.
- Scripted failures (`fail_with([429, 529])`), a scripted answer, recorded requests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}

Answer = str | Callable[[dict[str, Any]], str]


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def png_tokens(png: bytes) -> int:
    """Anthropic's estimate for an image: width * height / 750, images being scaled to ~1.15 MP."""
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        w, h = struct.unpack(">II", png[16:24])
        return max(1, min(1600, math.ceil(w * h / 750)))
    return 1600


def split_for_stream(text: str, words_per_delta: int = 2) -> list[str]:
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i : i + words_per_delta]) for i in range(0, len(words), words_per_delta)] or [""]


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_tokens(str(block.get("text", "")))
    if kind == "image":
        src = block.get("source", {})
        data = base64.b64decode(src.get("data", "")) if src.get("type") == "base64" else b""
        return png_tokens(data)
    return count_tokens(json.dumps(block))


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeAnthropic:
    """State and script of the fake; the pytest fixture resets it between tests."""

    api_key: str = "test-key"
    answer: Answer | None = None
    failures: deque[int] = field(default_factory=deque)
    retry_after: float = 1.0
    stream_error_after: int | None = None  # send an overloaded `event: error` after N deltas (once)
    stream_drop_after: int | None = None  # cut the connection after N deltas (once)
    delta_delay_s: float = 0.0
    response_delay_s: float = 0.0
    min_cache_tokens: int = 1024  # Sonnet's minimum cacheable prompt
    cache_ttl_s: float = 300.0
    requests: list[Recorded] = field(default_factory=list)
    cache: dict[str, float] = field(default_factory=dict)  # prefix hash -> expiry
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.api_key = "test-key"
            self.answer = None
            self.failures.clear()
            self.retry_after = 1.0
            self.stream_error_after = None
            self.stream_drop_after = None
            self.delta_delay_s = 0.0
            self.response_delay_s = 0.0
            self.min_cache_tokens = 1024
            self.cache_ttl_s = 300.0
            self.requests.clear()
            self.cache.clear()

    def fail_with(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1].body

    # --- simulation ----------------------------------------------------------------------------

    def usage_for(self, body: dict[str, Any]) -> dict[str, int]:
        """Input-side usage of a request, updating the cache as the real API would."""
        segments: list[tuple[dict[str, Any], int, bool]] = []  # (block sans cache_control, tokens, breakpoint)
        system = body.get("system")
        if isinstance(system, str):
            segments.append(({"type": "text", "text": system}, count_tokens(system), False))
        elif isinstance(system, list):
            segments += [(_strip(b), _block_tokens(b), "cache_control" in b) for b in system]
        for msg in body.get("messages", []):
            content = msg.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            for i, b in enumerate(blocks):
                # Role changes are part of the prefix.
                marker = {"role": msg.get("role"), "first": i == 0, **_strip(b)}
                segments.append((marker, _block_tokens(b), "cache_control" in b))

        h = hashlib.sha256(str(body.get("model")).encode())
        hashes: list[str] = []
        cum: list[int] = []
        total = 0
        for block, tokens, _ in segments:
            h.update(json.dumps(block, sort_keys=True).encode())
            hashes.append(h.hexdigest())
            total += tokens
            cum.append(total)
        breakpoints = [i for i, (_, _, bp) in enumerate(segments) if bp]

        now = time.monotonic()
        with self.lock:
            self.cache = {k: exp for k, exp in self.cache.items() if exp > now}
            read_at = -1
            for b in breakpoints:
                for j in range(b, max(-1, b - 21), -1):  # lookback of 20 blocks before a breakpoint
                    if hashes[j] in self.cache and j > read_at:
                        read_at = j
                        break
            read = cum[read_at] if read_at >= 0 else 0
            if read_at >= 0:
                self.cache[hashes[read_at]] = now + self.cache_ttl_s  # a hit refreshes the TTL
            written = 0
            for b in breakpoints:
                if b > read_at and cum[b] >= self.min_cache_tokens:
                    self.cache[hashes[b]] = now + self.cache_ttl_s
                    written = cum[b] - read
        return {
            "input_tokens": total - read - written,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }

    def answer_for(self, body: dict[str, Any]) -> str:
        if callable(self.answer):
            return self.answer(body)
        if self.answer is not None:
            return self.answer
        text = json.dumps(body.get("messages", []))
        m = re.search(r'<source id=\\"([^"\\]+)\\"', text)
        if not m:
            return "I don't know based on the provided sources."
        return f"The figure is reported in the filing [{m.group(1)}]."


def _strip(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }
    return JSONResponse(body, status_code=status, headers={"request-id": body["request_id"], **(headers or {})})


def _validate(body: dict[str, Any]) -> str | None:
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    blocks: list[dict[str, Any]] = list(body["system"]) if isinstance(body.get("system"), list) else []
    for msg in body["messages"]:
        if isinstance(msg.get("content"), list):
            blocks += msg["content"]
    if sum(1 for b in blocks if "cache_control" in b) > 4:
        return "A maximum of 4 blocks with cache_control may be provided."
    for b in blocks:
        if b.get("type") == "image":
            src = b.get("source", {})
            if src.get("media_type") not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
                return "image source media_type invalid"
            try:
                base64.b64decode(src.get("data", ""), validate=True)
            except ValueError:
                return "image source data is not valid base64"
    return None


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def create_app(state: FakeAnthropic) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"data": [{"type": "model", "id": "claude-sonnet-4-6", "display_name": "Claude Sonnet 4.6"}]}

    @app.post("/v1/messages")
    async def messages(request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return error_response(400, "request body is not valid JSON")
        state.requests.append(Recorded("/v1/messages", dict(request.headers), body))
        if state.response_delay_s:
            await asyncio.sleep(state.response_delay_s)
        # Older SDKs send `x-api-key`, SDK 2.x sends `Authorization: Bearer <key>`; the API takes both.
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization", "").removeprefix("Bearer ")}
        if state.api_key not in keys:
            return error_response(401, "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            return error_response(400, "anthropic-version header is required")
        if state.failures:
            status = state.failures.popleft()
            headers = {"retry-after": f"{state.retry_after:g}"} if status == 429 else {}
            messages = {429: "Rate limited", 529: "Overloaded", 500: "Internal server error"}
            return error_response(status, messages.get(status, f"scripted error {status}"), headers)
        if problem := _validate(body):
            return error_response(400, problem)

        usage = state.usage_for(body)
        text = state.answer_for(body)
        stop = "end_turn"
        if count_tokens(text) > int(body["max_tokens"]):
            text, stop = text[: int(body["max_tokens"]) * 4], "max_tokens"
        out_tokens = max(1, count_tokens(text))
        msg_id = f"msg_{uuid.uuid4().hex[:24]}"
        req_id = f"req_{uuid.uuid4().hex[:24]}"
        message: dict[str, Any] = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": out_tokens},
        }
        if not body.get("stream"):
            return JSONResponse(message, headers={"request-id": req_id})

        async def events() -> AsyncIterator[bytes]:
            start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
            yield _sse("message_start", {"type": "message_start", "message": start})
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
            yield _sse("ping", {"type": "ping"})
            for n, piece in enumerate(split_for_stream(text)):
                if state.stream_error_after is not None and n >= state.stream_error_after:
                    state.stream_error_after = None
                    err = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                    yield _sse("error", err)
                    return
                if state.stream_drop_after is not None and n >= state.stream_drop_after:
                    state.stream_drop_after = None
                    raise ConnectionAbortedError("scripted drop")  # uvicorn aborts the chunked response
                if state.delta_delay_s:
                    await asyncio.sleep(state.delta_delay_s)
                delta = {"type": "text_delta", "text": piece}
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            yield _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": out_tokens},
                },
            )
            yield _sse("message_stop", {"type": "message_stop"})

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"request-id": req_id, "cache-control": "no-cache"}
        )

    return app
