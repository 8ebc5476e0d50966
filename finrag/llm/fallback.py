"""Retries with back-off, then the next provider, then the offline answerer.

Every failed attempt is recorded on the response (`LLMResponse.attempts`) so the answer trace
shows what was tried and which provider finally answered."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence

from finrag.llm.base import (
    AllProvidersFailedError,
    Attempt,
    LLMError,
    LLMEvent,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    StreamEnd,
    TextDelta,
    missing_credentials,
)
from finrag.settings import LLMSettings

log = logging.getLogger(__name__)

OfflineAnswerer = Callable[[LLMRequest], LLMResponse]


class FallbackChain:
    """An LLMProvider made of providers tried in order.

    Retryable errors (429, 5xx, 529, timeouts, connection) are retried `retries` times with
    exponential back-off and jitter; a `retry-after` longer than `backoff_max` is not waited for,
    the chain falls over to the next provider instead. Fatal errors (400, 401) skip straight to
    the next provider. When all fail, `offline` answers (extractive, no network)."""

    name = "fallback"

    def __init__(
        self,
        providers: Sequence[LLMProvider],
        *,
        retries: int = 2,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        offline: OfflineAnswerer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not providers and offline is None:
            raise ValueError("FallbackChain needs at least one provider or an offline answerer")
        self.providers = list(providers)
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.offline = offline
        self.sleep = sleep
        self.rand = rand

    @property
    def model(self) -> str:
        return self.providers[0].model if self.providers else "extractive"

    def describe(self) -> list[str]:
        names = [f"{p.name}:{p.model}" for p in self.providers]
        return [*names, "offline"] if self.offline else names

    def backoff(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (0-based); None = do not wait, fall over."""
        if retry_after is not None:
            return retry_after if retry_after <= self.backoff_max else None
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * (0.5 + 0.5 * self.rand())  # "equal jitter": spreads out clients retrying together

    def _record(self, p: LLMProvider, e: LLMError, started: float, attempts: list[Attempt]) -> Attempt:
        a = Attempt(
            provider=p.name,
            model=p.model,
            error=type(e).__name__,
            message=e.message[:300],
            status=e.status,
            retryable=e.retryable,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        attempts.append(a)
        log.warning("LLM %s:%s failed (%s %s): %s", p.name, p.model, a.error, e.status, a.message)
        return a

    def _should_retry(self, e: LLMError, i: int, a: Attempt) -> bool:
        if not e.retryable or i >= self.retries:
            return False
        delay = self.backoff(i, e.retry_after)
        if delay is None:
            return False
        a.slept_s = delay
        self.sleep(delay)
        return True

    def _offline(self, request: LLMRequest, attempts: list[Attempt]) -> LLMResponse:
        if self.offline is None:
            raise AllProvidersFailedError(
                "all LLM providers failed: " + "; ".join(f"{a.provider} {a.error} {a.status}" for a in attempts),
                attempts,
            )
        resp = self.offline(request)
        resp.attempts = attempts + resp.attempts
        return resp

    def complete(self, request: LLMRequest) -> LLMResponse:
        attempts: list[Attempt] = []
        for p in self.providers:
            i = 0
            while True:
                started = time.perf_counter()
                try:
                    resp = p.complete(request)
                except LLMError as e:
                    a = self._record(p, e, started, attempts)
                    if self._should_retry(e, i, a):
                        i += 1
                        continue
                    break
                resp.attempts = attempts + resp.attempts
                return resp
        return self._offline(request, attempts)

    def stream(self, request: LLMRequest) -> Iterator[LLMEvent]:
        """Like `complete`, but a failure after text has been sent to the caller cannot be retried
        invisibly: it is raised (with `partial_text`) for the caller to show or discard."""
        attempts: list[Attempt] = []
        for p in self.providers:
            i = 0
            while True:
                started = time.perf_counter()
                sent = False
                try:
                    for ev in p.stream(request):
                        if isinstance(ev, TextDelta):
                            sent = True
                            yield ev
                        elif isinstance(ev, StreamEnd):
                            ev.response.attempts = attempts + ev.response.attempts
                            yield ev
                            return
                except LLMError as e:
                    a = self._record(p, e, started, attempts)
                    if sent:
                        raise
                    if self._should_retry(e, i, a):
                        i += 1
                        continue
                    break
                # A provider stream that ended without StreamEnd is a provider bug; try the next one.
                break
        resp = self._offline(request, attempts)
        if resp.text:
            yield TextDelta(resp.text)
        yield StreamEnd(resp)


def build_chain(
    settings: LLMSettings,
    offline: OfflineAnswerer | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[FallbackChain, list[str]]:
    """The chain named by `settings.providers`, and notes on providers skipped (no key, no SDK).

    "extractive" in the list means: use `offline` as the last resort."""
    providers: list[LLMProvider] = []
    notes: list[str] = []
    for name in settings.providers:
        if problem := missing_credentials(name, settings):
            notes.append(f"LLM provider {name} skipped: {problem}")
            continue
        try:
            if name == "anthropic":
                from finrag.llm.anthropic_provider import AnthropicProvider

                providers.append(AnthropicProvider.from_settings(settings))
            elif name == "openai":
                from finrag.llm.openai_provider import OpenAICompatibleProvider

                providers.append(OpenAICompatibleProvider.from_settings(settings))
        except (ImportError, ValueError) as e:
            notes.append(f"LLM provider {name} skipped: {e}")
    use_offline = offline if "extractive" in settings.providers else None
    chain = FallbackChain(
        providers,
        retries=settings.max_retries,
        backoff_base=settings.backoff_base_s,
        backoff_max=settings.backoff_max_s,
        offline=use_offline,
        sleep=sleep,
    )
    return chain, notes
