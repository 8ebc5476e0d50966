"""A fake OpenAI-compatible server: `POST /v1/chat/completions` (JSON and SSE), `POST /v1/embeddings`,
`GET /v1/models` -- what OpenAI, vLLM and Ollama all serve.

Automatic prompt caching is simulated like OpenAI's: the longest prefix shared with an earlier
prompt is reported as `prompt_tokens_details.cached_tokens`, in 128-token steps, once it reaches
1,024 tokens. Embeddings are deterministic unit vectors of a configurable dimension (float or
base64, the official client asks for base64)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.fakes.anthropic_server import Recorded, count_tokens, png_tokens, split_for_stream

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}

Answer = str | Callable[[dict[str, Any]], str]


def _common_prefix(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))  # noqa: RUF071 -- character prefix is what we want


@dataclass
class FakeOpenAI:
    api_key: str = "test-key"
    answer: Answer | None = None
    failures: deque[int] = field(default_factory=deque)
    retry_after: float = 1.0
    embedding_dim: int = 384
    min_cache_tokens: int = 1024
    requests: list[Recorded] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)  # earlier prompts, for the prefix cache
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.api_key = "test-key"
            self.answer = None
            self.failures.clear()
            self.retry_after = 1.0
            self.embedding_dim = 384
            self.min_cache_tokens = 1024
            self.requests.clear()
            self.prompts.clear()

    def fail_with(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1].body

    def usage_for(self, body: dict[str, Any]) -> tuple[int, int]:
        """(prompt_tokens, cached_tokens)."""
        text_parts: list[str] = []
        image_tokens = 0
        for msg in body.get("messages", []):
            text_parts.append(f"<|{msg.get('role')}|>")
            content = msg.get("content")
            if isinstance(content, str):
                text_parts.append(content)
                continue
            for part in content or []:
                if part.get("type") == "text":
                    text_parts.append(part.get("text", ""))
                elif part.get("type") == "image_url":
                    url = part.get("image_url", {}).get("url", "")
                    data = base64.b64decode(url.split(",", 1)[1]) if url.startswith("data:") else b""
                    image_tokens += png_tokens(data)
                    text_parts.append(f"<image {hashlib.sha256(data).hexdigest()[:16]}>")
        prompt = "\n".join(text_parts)
        with self.lock:
            shared = max((_common_prefix(prompt, p) for p in self.prompts), default=0)
            self.prompts.append(prompt)
        cached = (shared // 4) // 128 * 128
        if cached < self.min_cache_tokens:
            cached = 0
        return count_tokens(prompt) + image_tokens, cached

    def answer_for(self, body: dict[str, Any]) -> str:
        if callable(self.answer):
            return self.answer(body)
        if self.answer is not None:
            return self.answer
        import re

        m = re.search(r'<source id=\\"([^"\\]+)\\"', json.dumps(body.get("messages", [])))
        if not m:
            return "I don't know based on the provided sources."
        return f"The figure is reported in the filing [{m.group(1)}]."


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    etype, code = ERROR_TYPES.get(status, ("server_error", None))
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers={"x-request-id": uuid.uuid4().hex, **(headers or {})})


def _embedding(text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def create_app(state: FakeOpenAI) -> FastAPI:
    app = FastAPI()

    async def guard(request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None, error_response(400, "We could not parse the JSON body of your request.")
        state.requests.append(Recorded(request.url.path, dict(request.headers), body))
        if request.headers.get("authorization") != f"Bearer {state.api_key}":
            return None, error_response(401, "Incorrect API key provided.")
        if state.failures:
            status = state.failures.popleft()
            headers = {"retry-after": f"{state.retry_after:g}"} if status == 429 else {}
            return None, error_response(status, f"scripted error {status}", headers)
        return body, None

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "finrag-tests"}]}

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body, err = await guard(request)
        if err is not None or body is None:
            return err
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if not texts or not all(isinstance(t, str) for t in texts):
            return error_response(400, "'input' must be a string or a list of strings")
        dim = int(body.get("dimensions") or state.embedding_dim)
        data = []
        for i, text in enumerate(texts):
            vec = _embedding(text, dim)
            emb: Any = (
                base64.b64encode(vec.astype("<f4").tobytes()).decode()
                if body.get("encoding_format") == "base64"
                else vec.tolist()
            )
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(count_tokens(t) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body, err = await guard(request)
        if err is not None or body is None:
            return err
        if "model" not in body or not body.get("messages"):
            return error_response(400, "'model' and 'messages' are required")
        prompt_tokens, cached = state.usage_for(body)
        text = state.answer_for(body)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if limit and count_tokens(text) > int(limit):
            text, finish = text[: int(limit) * 4], "length"
        completion = max(1, count_tokens(text))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        model = body["model"]
        if not body.get("stream"):
            return {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            }
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            c: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                c["usage"] = None
            return f"data: {json.dumps(c)}\n\n".encode()

        async def events() -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": ""})
            for piece in split_for_stream(text):
                await asyncio.sleep(0)
                yield chunk({"content": piece})
            yield chunk({}, finish)
            if include_usage:
                last = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
                yield f"data: {json.dumps(last)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
