"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, llama.cpp) via the `openai` SDK."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping
from typing import Any

import openai

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
from finrag.settings import LLMSettings, ModelPrice, cost_usd


def build_chat_params(request: LLMRequest, model: str, max_tokens_param: str = "max_tokens") -> dict[str, Any]:
    """Sources before the question so the prompt prefix is stable: OpenAI and vLLM cache
    identical prefixes automatically (no markers to place)."""
    sources = ""
    blocks = [*request.prefix, *request.context]  # the stable prefix first: it is what gets cached
    if blocks:
        sources = SOURCES_PREAMBLE + "\n\n" + "\n\n".join(render_source(b) for b in blocks) + "\n\n"
    question = render_question(request.question)
    user: str | list[dict[str, Any]]
    if request.images:
        parts: list[dict[str, Any]] = []
        if sources:
            parts.append({"type": "text", "text": sources.rstrip()})
        for png in request.images:
            url = "data:image/png;base64," + base64.b64encode(png).decode()
            parts.append({"type": "image_url", "image_url": {"url": url}})
        parts.append({"type": "text", "text": question})
        user = parts
    else:
        # A plain string is what every text-only server accepts.
        user = sources + question
    params: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": user}],
        max_tokens_param: request.max_tokens,
    }
    if request.temperature is not None:  # reasoning models reject anything but their default
        params["temperature"] = request.temperature
    return params


def _usage(u: Any) -> Usage:
    if u is None:
        return Usage()
    details = getattr(u, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    prompt = int(u.prompt_tokens or 0)
    # OpenAI's prompt_tokens include the cached ones; we store them apart (Anthropic's convention).
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(u.completion_tokens or 0),
        cache_read_input_tokens=cached,
    )


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_tokens_param: str = "max_tokens",
        prices: Mapping[str, ModelPrice] | None = None,
        client: openai.OpenAI | None = None,
    ) -> None:
        self.model = model
        self.prices = dict(prices or {})
        self.max_tokens_param = max_tokens_param
        self.client = client or openai.OpenAI(
            # Local servers (vLLM, Ollama) ignore the key, but the SDK insists on one.
            api_key=api_key or "not-needed",
            base_url=base_url or None,
            max_retries=0,  # FallbackChain retries
            timeout=openai.Timeout(timeout_s, connect=connect_timeout_s),
        )

    @classmethod
    def from_settings(cls, s: LLMSettings) -> OpenAICompatibleProvider:
        if problem := missing_credentials("openai", s):
            raise ValueError(problem)
        return cls(
            s.openai_model,
            api_key=s.openai_api_key.get_secret_value() if s.openai_api_key else None,
            base_url=s.openai_base_url or None,
            timeout_s=s.timeout_s,
            connect_timeout_s=s.connect_timeout_s,
            max_tokens_param=s.openai_max_tokens_param,
            prices=s.price_table,
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        return build_chat_params(request, self.model, self.max_tokens_param)

    def _response(
        self,
        text: str,
        usage: Usage,
        model: str,
        stop: str,
        started: float,
        first: float | None = None,
        request_id: str = "",
    ) -> LLMResponse:
        model = model or self.model
        return LLMResponse(
            text=text,
            usage=usage,
            cost_usd=cost_usd(self.prices, model, usage),
            provider=self.name,
            model=model,
            latency_ms=(time.perf_counter() - started) * 1000,
            stop_reason=stop,
            first_token_ms=None if first is None else (first - started) * 1000,
            request_id=request_id,
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        started = time.perf_counter()
        try:
            r = self.client.chat.completions.create(**self._params(request))
        except openai.OpenAIError as e:
            raise self._error(e) from e
        choice = r.choices[0] if r.choices else None
        text = (choice.message.content or "") if choice else ""
        stop = str(choice.finish_reason or "") if choice else ""
        rid = str(getattr(r, "_request_id", "") or "")
        return self._response(text, _usage(r.usage), r.model, stop, started, request_id=rid)

    def stream(self, request: LLMRequest) -> Iterator[LLMEvent]:
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        usage = Usage()
        model, stop = "", ""
        try:
            chunks = self.client.chat.completions.create(
                **self._params(request), stream=True, stream_options={"include_usage": True}
            )
            with chunks:
                for chunk in chunks:
                    model = chunk.model or model
                    if chunk.usage is not None:  # the last chunk, with empty choices
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices:
                        if choice.finish_reason:
                            stop = str(choice.finish_reason)
                        delta = choice.delta.content if choice.delta else None
                        if delta:
                            if first is None:
                                first = time.perf_counter()
                            parts.append(delta)
                            yield TextDelta(delta)
        except openai.OpenAIError as e:
            raise self._error(e, "".join(parts)) from e
        yield StreamEnd(self._response("".join(parts), usage, model, stop, started, first))

    def _error(self, e: openai.OpenAIError, partial: str = "") -> LLMError:
        kw: dict[str, Any] = {"provider": self.name, "model": self.model, "partial_text": partial}
        if isinstance(e, openai.APITimeoutError):
            return LLMTimeoutError(str(e), **kw)
        if isinstance(e, openai.APIConnectionError):
            return LLMConnectionError(str(e), **kw)
        if isinstance(e, openai.APIStatusError):
            headers = e.response.headers
            retry_after = parse_retry_after(headers.get("retry-after"))
            if (ms := parse_retry_after(headers.get("retry-after-ms"))) is not None:
                retry_after = ms / 1000
            err = e.body.get("error", e.body) if isinstance(e.body, dict) else {}
            etype = str(err.get("type") or "") if isinstance(err, dict) else ""
            status = e.status_code if e.status_code >= 400 else None
            return error_for_status(status, e.message, error_type=etype, retry_after=retry_after, **kw)
        if isinstance(e, openai.APIResponseValidationError):
            return ServerError(str(e), **kw)
        if isinstance(e, openai.APIError) and isinstance(e.body, dict):  # error chunk inside a stream
            return error_for_status(None, e.message, error_type=str(e.body.get("type") or ""), **kw)
        return LLMError(str(e), **kw)
