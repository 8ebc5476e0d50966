"""Draft text while an LLM writes: a caller that shows progress (the API's stream) sets a sink for the
current request; the answerer then streams the model's reply into it instead of waiting for the whole
text. The draft is only a preview: the answer served is the checked one (grounding and trust may reject
a draft, and pipelines may write several), so a sink is told when a new draft starts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from finrag.llm.base import AllProvidersFailedError, LLMError, LLMRequest, LLMResponse, StreamEnd, TextDelta
from finrag.llm.fallback import FallbackChain


class DraftSink(Protocol):
    def start(self) -> None:
        """A new draft begins: text sent before belongs to a discarded one."""
        ...

    def delta(self, text: str) -> None: ...


_SINK: ContextVar[DraftSink | None] = ContextVar("finrag_draft_sink", default=None)


@contextmanager
def drafts_to(sink: DraftSink) -> Iterator[None]:
    """Send the drafts of LLM calls made in this context (this thread) to `sink`."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def complete(chain: FallbackChain, request: LLMRequest) -> LLMResponse:
    """`chain.complete(request)`, streamed into the current sink when there is one. A stream that breaks
    after text was sent is not retried invisibly by the chain: it is redone as a plain completion."""
    sink = _SINK.get()
    if sink is None:
        return chain.complete(request)
    sink.start()
    try:
        for ev in chain.stream(request):
            if isinstance(ev, TextDelta):
                sink.delta(ev.text)
            elif isinstance(ev, StreamEnd):
                return ev.response
    except AllProvidersFailedError:
        raise
    except LLMError:
        pass  # broke mid-stream: the partial draft is discarded below
    sink.start()
    return chain.complete(request)
