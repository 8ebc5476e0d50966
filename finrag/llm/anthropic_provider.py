"""Claude through the official `anthropic` SDK, with prompt caching on the system prompt and context."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping
from typing import Any

import anthropic

try:  # the SDK's HTTP library (httpx2 from anthropic 2.x, httpx before)
    import httpx2 as _http
except ImportError:  # pragma: no cover
    import httpx as _http  # type: ignore[no-redef]

from finrag.llm.base import (
    LLMConnectionError,
    LLMError,
    LLMEvent,
    LLMRequest,
    LLMResponse,
    LLMTimeoutError,
    ServerError,
    StreamEnd,
    TextDelta,
    Usage,
    error_for_status,
    missing_credentials,
    parse_retry_after,
)
from finrag.llm.prompting import SOURCES_PREAMBLE, render_question, render_source
from finrag.settings import DEFAULT_ANTHROPIC_MODEL, LLMSettings, ModelPrice, cost_usd

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}


def build_messages_params(request: LLMRequest, model: str) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create/stream`.

    Cache prefix order is system -> messages, so the stable parts go first: system prompt
    (breakpoint 1), the question-independent filing pages (`prefix`, breakpoint 2), the retrieved
    sources (breakpoint 3 on the last one, when `cache_context`), then what changes per call: images
    and the question."""
    system_block: dict[str, Any] = {"type": "text", "text": request.system}
    if request.cache:
        system_block["cache_control"] = dict(EPHEMERAL)

    content: list[dict[str, Any]] = []
    if request.context or request.prefix:
        content.append({"type": "text", "text": SOURCES_PREAMBLE})
    for block in request.prefix:
        content.append({"type": "text", "text": render_source(block)})
    if request.prefix and request.cache:
        content[-1]["cache_control"] = dict(EPHEMERAL)  # breakpoint 2: the question-independent sources
    if request.context:
        for block in request.context:
            content.append({"type": "text", "text": render_source(block)})
        if request.cache and request.cache_context:
            content[-1]["cache_control"] = dict(EPHEMERAL)
    for png in request.images:
        content.append(
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png).decode()},
            }
        )
    content.append({"type": "text", "text": render_question(request.question)})

    return {
        "model": model,
        "max_tokens": request.max_tokens,
        "system": [system_block],
        "messages": [{"role": "user", "content": content}],
    }


def _usage(u: Any) -> Usage:
    return Usage(
        input_tokens=int(u.input_tokens or 0),
        output_tokens=int(u.output_tokens or 0),
        cache_creation_input_tokens=int(getattr(u, "cache_creation_input_tokens", 0) or 0),
        cache_read_input_tokens=int(getattr(u, "cache_read_input_tokens", 0) or 0),
    )


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        *,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        prices: Mapping[str, ModelPrice] | None = None,
        client: anthropic.Anthropic | None = None,
    ) -> None:
        self.model = model
        self.prices = dict(prices or {})
        # max_retries=0: FallbackChain owns retries, so attempts are counted and traced in one place.
        self.client = client or anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url or None,
            max_retries=0,
            timeout=anthropic.Timeout(timeout_s, connect=connect_timeout_s),
        )

    @classmethod
    def from_settings(cls, s: LLMSettings) -> AnthropicProvider:
        if problem := missing_credentials("anthropic", s):
            raise ValueError(problem)
        return cls(
            s.anthropic_api_key.get_secret_value(),
            s.anthropic_model,
            base_url=s.anthropic_base_url or None,
            timeout_s=s.timeout_s,
            connect_timeout_s=s.connect_timeout_s,
            prices=s.price_table,
        )

    def _response(
        self, msg: Any, started: float, first_token: float | None = None, request_id: str | None = None
    ) -> LLMResponse:
        usage = _usage(msg.usage)
        model = str(getattr(msg, "model", "") or self.model)
        text = "".join(b.text for b in msg.content if getattr(b, "type", "") == "text")
        return LLMResponse(
            text=text,
            usage=usage,
            cost_usd=cost_usd(self.prices, model, usage),
            provider=self.name,
            model=model,
            latency_ms=(time.perf_counter() - started) * 1000,
            stop_reason=str(msg.stop_reason or ""),
            first_token_ms=None if first_token is None else (first_token - started) * 1000,
            request_id=request_id or str(getattr(msg, "_request_id", "") or ""),
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        started = time.perf_counter()
        try:
            msg = self.client.messages.create(**build_messages_params(request, self.model))
        except anthropic.AnthropicError as e:
            raise self._error(e) from e
        return self._response(msg, started)

    def stream(self, request: LLMRequest) -> Iterator[LLMEvent]:
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        try:
            with self.client.messages.stream(**build_messages_params(request, self.model)) as s:
                for text in s.text_stream:
                    if first is None:
                        first = time.perf_counter()
                    parts.append(text)
                    yield TextDelta(text)
                msg = s.get_final_message()
                request_id = s.request_id
        except anthropic.AnthropicError as e:
            raise self._error(e, "".join(parts)) from e
        except _http.TransportError as e:  # a connection dropped mid-stream is not wrapped by the SDK
            kind = LLMTimeoutError if isinstance(e, _http.TimeoutException) else LLMConnectionError
            raise kind(
                str(e) or type(e).__name__, provider=self.name, model=self.model, partial_text="".join(parts)
            ) from e
        yield StreamEnd(self._response(msg, started, first, request_id))

    def _error(self, e: anthropic.AnthropicError, partial: str = "") -> LLMError:
        kw: dict[str, Any] = {"provider": self.name, "model": self.model, "partial_text": partial}
        if isinstance(e, anthropic.APITimeoutError):
            return LLMTimeoutError(str(e), **kw)
        if isinstance(e, anthropic.APIConnectionError):
            return LLMConnectionError(str(e), **kw)
        if isinstance(e, anthropic.APIStatusError):
            # Mid-stream `event: error` arrives on a 200 response: classify by the error type too.
            status = e.status_code if e.status_code >= 400 else None
            message = e.api_message or str(e)
            retry_after = parse_retry_after(e.response.headers.get("retry-after"))
            return error_for_status(status, message, error_type=str(e.type or ""), retry_after=retry_after, **kw)
        if isinstance(e, anthropic.APIResponseValidationError):
            return ServerError(str(e), **kw)
        return LLMError(str(e), **kw)
