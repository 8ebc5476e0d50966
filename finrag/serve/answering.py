"""The gateway's side of answering: cache lookup, QAService call, metrics, response shaping, SSE."""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio

from finrag.records import Answer, DocStatus
from finrag.serve.cache import cache_key
from finrag.serve.errors import ApiError
from finrag.serve.keys import Principal
from finrag.serve.schemas import CitationOut, Mode, QueryFilters, QueryResponse
from finrag.serve.state import ServeState

log = logging.getLogger(__name__)


def page_url(doc_id: str, page: int) -> str:
    return f"/v1/documents/{doc_id}/pages/{page}.png"


def to_response(answer: Answer, request_id: str, mode: Mode, cached: bool) -> QueryResponse:
    return QueryResponse(
        request_id=request_id,
        question=answer.question,
        answer=answer.text,
        mode=mode,
        pipeline=answer.pipeline,
        citations=[CitationOut(**c.model_dump(), page_image_url=page_url(c.doc_id, c.page)) for c in answer.citations],
        scope=answer.scope,
        timings_ms=answer.timings_ms,
        usage=answer.usage,
        cost_usd=answer.cost_usd,
        cached=cached,
        faithfulness=answer.faithfulness,
        unsupported_figures=answer.unsupported_figures,
        notes=answer.notes,
    )


class Answering:
    def __init__(self, state: ServeState) -> None:
        self.state = state
        # Pass the mode on as soon as QAService.ask takes one (answer pipelines land separately).
        self._ask_takes_mode = "mode" in inspect.signature(state.service.ask).parameters

    def validate(self, question: str, top_k: int | None) -> str:
        """Cheap checks done before any work (and before a stream starts), raising 422s."""
        question = self.state.service.validate_question(question)
        if top_k is not None and top_k > self.state.serve.max_top_k:
            raise ApiError(422, "validation_error", f"top_k: at most {self.state.serve.max_top_k}")
        return question

    def index_version(self, tenant: str) -> str:
        """The tenant's counter, plus a registry fingerprint that also catches CLI ingests and deletes."""
        docs = self.state.service.c.registry.list(tenant=tenant, status=DocStatus.READY)
        fingerprint = f"{len(docs)}:{max((d.updated_at for d in docs), default='')}"
        return f"{self.state.versions.get(tenant)}:{fingerprint}"

    def answer(
        self, who: Principal, question: str, mode: Mode, filters: QueryFilters | None, top_k: int | None
    ) -> tuple[Answer, bool]:
        """(answer, cached). Blocking: call from a worker thread."""
        st = self.state
        question = self.validate(question, top_k)
        filters = filters if filters is not None and not filters.is_empty() else None
        use_cache = st.cache.backend != "none"
        key = ""
        if use_cache:
            filter_key = filters.model_dump() if filters else {}
            key = cache_key(who.tenant, question, mode, filter_key, top_k, self.index_version(who.tenant))
            hit = st.cache.get(key)
            if hit is not None:
                st.metrics.cache.labels(result="hit").inc()
                st.metrics.pipeline.labels(pipeline=str(hit.get("pipeline", "unknown"))).inc()
                answer = Answer.model_validate(hit)
                answer.question = question
                return answer, True
            st.metrics.cache.labels(result="miss").inc()
        extra: dict[str, Any] = {"mode": mode} if self._ask_takes_mode else {}
        scope = filters.to_scope() if filters else None
        answer = st.service.ask(question, tenant=who.tenant, top_k=top_k, filters=scope, **extra)
        self._observe(answer)
        if use_cache:
            st.cache.set(key, who.tenant, answer.model_dump(mode="json"), st.serve.cache_ttl_s)
        return answer, False

    def _observe(self, answer: Answer) -> None:
        m = self.state.metrics
        m.pipeline.labels(pipeline=answer.pipeline).inc()
        if answer.faithfulness is not None:
            m.faithfulness.observe(answer.faithfulness)
        if answer.usage:
            llm = answer.trace.get("llm")
            model = str((llm.get("model") if isinstance(llm, dict) else None) or answer.pipeline)
            for kind, tokens in answer.usage.items():
                if tokens:
                    m.llm_tokens.labels(model=model, kind=kind.removesuffix("_tokens")).inc(tokens)
            if answer.cost_usd:
                m.llm_cost.labels(model=model).inc(answer.cost_usd)


def sse(data: Any, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def answer_lines(text: str) -> list[str]:
    """The pieces a stream sends: the answer's lines (each a cited sentence for the extractive pipeline)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]] if lines else []


async def stream_answer(
    compute: Callable[[], tuple[Answer, bool]],
    on_answer: Callable[[Answer, bool], None],
    frames: Callable[[Answer, bool], AsyncIterator[str]],
    on_disconnect: Callable[[], None],
    on_error: Callable[[Exception], str],
) -> AsyncIterator[str]:
    """Run `compute` in a worker thread, then yield `frames`. When the client goes away, Starlette
    cancels this generator: the pending thread result is abandoned and no further frames are made."""
    finished = False
    try:
        yield ": finrag\n\n"  # headers and a first byte now, so proxies and clients see progress
        try:
            answer, cached = await anyio.to_thread.run_sync(compute, abandon_on_cancel=True)
        except Exception as exc:  # after the headers the status is 200: report the error in-band
            yield on_error(exc)
            yield sse("[DONE]")
            finished = True
            return
        on_answer(answer, cached)
        async for frame in frames(answer, cached):
            yield frame
            await anyio.sleep(0)  # a cancellation point between frames
        finished = True
    finally:
        if not finished:
            on_disconnect()


def now_s() -> int:
    return int(time.time())
