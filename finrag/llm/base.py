"""Provider-neutral request / response / error types for LLM calls.

Every provider (Anthropic, OpenAI-compatible, the offline extractive fallback) takes an `LLMRequest`
and returns an `LLMResponse` whose usage follows one convention, so cost and traces add up the same
way whichever provider ran."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from finrag.settings import LLMSettings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class ContextBlock:
    """One retrieved source shown to the model. `id` is the label the model must cite, e.g. "3M_2022_10K p.47"."""

    id: str
    text: str
    title: str = ""


@dataclass(slots=True)
class LLMRequest:
    system: str
    question: str
    context: list[ContextBlock] = field(default_factory=list)
    max_tokens: int = 1024
    # None = the provider's default. Not sent to Anthropic at all: the current Messages API (SDK 2.x)
    # no longer takes sampling parameters.
    temperature: float | None = None
    images: list[bytes] = field(default_factory=list)  # PNG bytes (page renders, charts) for vision models
    # Prompt caching: `cache` marks the system prompt, `cache_context` also the context blocks.
    # Context caching pays off when the same sources are sent again within minutes (follow-up
    # questions on one filing); for one-off questions the cache write costs 25% more than input.
    cache: bool = True
    cache_context: bool = True
    # Sources that do not depend on the question (a filing's cover and statement pages), sent before
    # `context` and, with `cache`, marked as one cached prefix: follow-up questions read them from the cache.
    prefix: list[ContextBlock] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, img in enumerate(self.images):
            if not img.startswith(PNG_MAGIC):
                raise ValueError(f"image {i} is not a PNG")


@dataclass(slots=True)
class Usage:
    """Token counts in Anthropic's convention: `input_tokens` excludes the cached parts, so
    total prompt = input_tokens + cache_creation_input_tokens + cache_read_input_tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclass(slots=True)
class Attempt:
    """One failed call, kept for the answer trace."""

    provider: str
    model: str
    error: str  # LLMError subclass name
    message: str
    status: int | None
    retryable: bool
    elapsed_ms: float
    slept_s: float = 0.0  # back-off waited after this attempt

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "error": self.error,
            "message": self.message,
            "status": self.status,
            "retryable": self.retryable,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "slept_s": round(self.slept_s, 3),
        }


@dataclass(slots=True)
class LLMResponse:
    text: str
    usage: Usage
    cost_usd: float
    provider: str
    model: str
    latency_ms: float
    stop_reason: str = ""
    first_token_ms: float | None = None  # streaming only
    request_id: str = ""
    attempts: list[Attempt] = field(default_factory=list)  # failures before this response (FallbackChain)

    def trace(self) -> dict[str, Any]:
        """What the answer trace records about the LLM step."""
        return {
            "provider": self.provider,
            "model": self.model,
            "usage": self.usage.as_dict(),
            "cost_usd": round(self.cost_usd, 6),
            "latency_ms": round(self.latency_ms, 1),
            "first_token_ms": None if self.first_token_ms is None else round(self.first_token_ms, 1),
            "stop_reason": self.stop_reason,
            "request_id": self.request_id,
            "failed_attempts": [a.as_dict() for a in self.attempts],
        }


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """Last event of a stream: the whole text again plus usage and cost."""

    response: LLMResponse


LLMEvent = TextDelta | StreamEnd


@runtime_checkable
class LLMProvider(Protocol):
    name: str
    model: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...

    def stream(self, request: LLMRequest) -> Iterator[LLMEvent]:
        """Text deltas, then exactly one StreamEnd. Raises LLMError before or during the stream."""
        ...


# --- errors -----------------------------------------------------------------------------------------


class LLMError(Exception):
    """A failed LLM call. `retryable` decides whether FallbackChain tries again / falls over."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after = retry_after
        self.partial_text = partial_text  # text already streamed when a stream broke


class RetryableLLMError(LLMError):
    retryable = True


class RateLimitedError(RetryableLLMError):
    """429."""


class OverloadedError(RetryableLLMError):
    """529 (Anthropic overloaded_error) or 503."""


class ServerError(RetryableLLMError):
    """5xx, 408, 409."""


class LLMTimeoutError(RetryableLLMError):
    pass


class LLMConnectionError(RetryableLLMError):
    pass


class FatalLLMError(LLMError):
    retryable = False


class AuthError(FatalLLMError):
    """401 / 403: a wrong or missing key will not fix itself."""


class BadRequestError(FatalLLMError):
    """400, 404, 413, 422: the request itself is wrong (prompt too long, unknown model ...)."""


class AllProvidersFailedError(LLMError):
    """Every provider in the chain failed and there was no offline fallback."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


def error_for_status(status: int | None, message: str, *, error_type: str = "", **kwargs: Any) -> LLMError:
    """Map an HTTP status (and the provider's error type, which matters for mid-stream errors
    that arrive on a 200 response) to our hierarchy."""
    if error_type in ("overloaded_error",) or status in (529, 503):
        return OverloadedError(message, status=status, **kwargs)
    if error_type == "rate_limit_error" or status == 429:
        return RateLimitedError(message, status=status, **kwargs)
    if error_type in ("api_error", "server_error", "timeout_error") or (
        status is not None and (status >= 500 or status in (408, 409))
    ):
        return ServerError(message, status=status, **kwargs)
    if status in (401, 403) or error_type in ("authentication_error", "permission_error"):
        return AuthError(message, status=status, **kwargs)
    return BadRequestError(message, status=status, **kwargs)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `retry-after` header (numeric form only; HTTP dates are rare from these APIs)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def missing_credentials(name: str, s: LLMSettings) -> str:
    """Why provider `name` cannot be built from `s` ("" when it can): checked before its SDK is imported,
    since the SDKs take seconds to import and most runs without a key never need them."""
    if name == "anthropic" and s.anthropic_api_key is None:
        return "FINRAG_LLM_ANTHROPIC_API_KEY is not set"
    if name == "openai" and s.openai_api_key is None and not s.openai_base_url:
        return "set FINRAG_LLM_OPENAI_API_KEY or FINRAG_LLM_OPENAI_BASE_URL"
    return ""
