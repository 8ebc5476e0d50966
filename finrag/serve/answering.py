"""The gateway's side of answering: budget, cache lookup, QAService call, storing the answer, metrics,
response shaping (the trace trimmed unless debug), SSE."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from finrag.answer.request import RequestBudget
from finrag.answer.trust import TRUSTED
from finrag.observability.metrics import STAGES
from finrag.records import Answer, DocStatus
from finrag.serve.cache import answer_key
from finrag.serve.errors import ApiError
from finrag.serve.explain import calculation_out, trust_out
from finrag.serve.keys import Principal
from finrag.serve.schemas import CitationOut, Mode, QueryFilters, QueryResponse
from finrag.serve.state import ServeState

log = logging.getLogger(__name__)


def page_url(doc_id: str, page: int) -> str:
    return f"/v1/documents/{doc_id}/pages/{page}.png"


# What a response shows of the trace without debug: how the answer was produced, not the evidence.
TRIMMED_TRACE_KEYS = ("answered_by", "supported", "route", "fallback", "budget")
_RUN_KEYS = ("pipeline", "faithfulness", "supported", "cost_usd")
_STEP_KEYS = ("step", "pipeline", "faithfulness", "skipped")


def trim_trace(trace: dict[str, Any]) -> dict[str, Any]:
    out = {k: trace[k] for k in TRIMMED_TRACE_KEYS if k in trace}
    if isinstance(trace.get("pipelines_run"), list):
        out["pipelines_run"] = [{k: r.get(k) for k in _RUN_KEYS} for r in trace["pipelines_run"]]
    if isinstance(trace.get("escalation"), list):
        out["escalation"] = [{k: st[k] for k in _STEP_KEYS if k in st} for st in trace["escalation"]]
    if isinstance(trace.get("long_context"), dict):
        out["long_context"] = {k: trace["long_context"].get(k) for k in ("pages", "tokens", "whole_filings")}
    return out


def full_trace(answer: Answer) -> dict[str, Any]:
    """Everything, self-contained: the scope and per-stage timings next to the pipeline trace."""
    return {**answer.trace, "scope": answer.scope.model_dump(mode="json"), "timings_ms": answer.timings_ms}


def to_response(
    answer: Answer,
    request_id: str,
    mode: Mode,
    cached: bool,
    answer_id: str = "",
    debug: bool = False,
    threshold: float = TRUSTED,
) -> QueryResponse:
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
        trust_reasons=list(answer.trace.get("trust", {}).get("reasons", [])),
        trust=trust_out(answer, threshold),
        calculation=calculation_out(answer, page_url),
        unsupported_figures=answer.unsupported_figures,
        notes=answer.notes,
        answer_id=answer_id,
        trace=full_trace(answer) if debug else trim_trace(answer.trace),
    )


@dataclass(slots=True)
class Served:
    """One answer as served: from the cache or computed, with the id it is stored under."""

    answer: Answer
    cached: bool
    answer_id: str
    threshold: float = TRUSTED

    def response(self, request_id: str, mode: Mode, debug: bool = False) -> QueryResponse:
        return to_response(self.answer, request_id, mode, self.cached, self.answer_id, debug, self.threshold)


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

    def admit(self, who: Principal) -> RequestBudget:
        """The request's LLM budget; a 402 when the tenant's month is spent and its policy rejects.
        Called before a stream starts, so that the 402 is a real status code. Blocking (a SQL read)."""
        return self.state.budget.check(who.tenant)

    def index_version(self, tenant: str) -> str:
        """The tenant's counter, plus a registry fingerprint that also catches CLI ingests and deletes."""
        fingerprint = self.state.service.c.registry.fingerprint(tenant=tenant, status=DocStatus.READY)
        return f"{self.state.versions.get(tenant)}:{fingerprint}"

    def answer(
        self,
        who: Principal,
        question: str,
        mode: Mode,
        filters: QueryFilters | None,
        top_k: int | None,
        budget: RequestBudget | None = None,
        request_id: str = "",
        no_cache: bool = False,
    ) -> Served:
        """The answer (cached or computed), stored under a new id and counted against the budget.
        `no_cache`: compute afresh and replace the cached answer. Blocking: call from a worker thread."""
        st = self.state
        question = self.validate(question, top_k)
        budget = budget if budget is not None else self.admit(who)
        filters = filters if filters is not None and not filters.is_empty() else None
        use_cache = st.cache.name != "none"
        key = ""
        answer: Answer | None = None
        cached = False
        if use_cache:
            filter_key = filters.model_dump() if filters else {}
            key = answer_key(question, mode, filter_key, top_k, self.index_version(who.tenant))
            raw = None if no_cache else st.cache.get(who.tenant, key)
            hit = json.loads(raw) if raw is not None else None
            if no_cache:
                st.metrics.cache.labels(result="bypass").inc()
            elif hit is not None:
                st.metrics.cache.labels(result="hit").inc()
                st.metrics.pipeline.labels(pipeline=str(hit.get("pipeline", "unknown"))).inc()
                answer = Answer.model_validate(hit)
                answer.question = question
                cached = True
            else:
                st.metrics.cache.labels(result="miss").inc()
        if answer is None:
            extra: dict[str, Any] = {"mode": mode} if self._ask_takes_mode else {}
            scope = filters.to_scope() if filters else None
            answer = st.service.ask(question, tenant=who.tenant, top_k=top_k, filters=scope, budget=budget, **extra)
            self._observe(answer)
            # An answer made offline because the budget ran out must not be served once it renews.
            if use_cache and not budget.no_llm:
                st.cache.set(who.tenant, key, json.dumps(answer.model_dump(mode="json")), st.serve.cache_ttl_s)
        answer_id, spent = st.answers.save(
            who.tenant,
            answer,
            mode=mode,
            cached=cached,
            request_id=request_id,
            key_id=who.key_id,
            store=st.serve.store_answers,
        )
        st.budget.observe(who.tenant, spent)
        return Served(answer, cached, answer_id, st.settings.answer.faithfulness_threshold)

    def _observe(self, answer: Answer) -> None:
        m = self.state.metrics
        m.pipeline.labels(pipeline=answer.pipeline).inc()
        for stage in STAGES:
            if stage in answer.timings_ms:
                m.stage_latency.labels(stage=stage).observe(answer.timings_ms[stage] / 1000)
        if answer.faithfulness is not None:
            m.faithfulness.observe(answer.faithfulness)
        threshold = self.state.settings.answer.faithfulness_threshold
        if not answer.citations or (answer.faithfulness is not None and answer.faithfulness < threshold):
            # A category, never the question: labels reach whoever scrapes, and text is unbounded.
            m.failed_queries.labels(reason="no_citations" if not answer.citations else "low_faithfulness").inc()
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


T = TypeVar("T")
PROGRESS_POLL_S = 0.05  # how often draft text is sent on while an answer is computed


async def stream_answer(
    compute: Callable[[], T],
    on_answer: Callable[[T], None],
    frames: Callable[[T], AsyncIterator[str]],
    on_disconnect: Callable[[], None],
    on_error: Callable[[Exception], str],
    progress: Callable[[], list[str]] | None = None,
) -> AsyncIterator[str]:
    """Run `compute` in a worker thread, then yield `frames`. `progress`: frames made meanwhile (an LLM's
    draft), polled while `compute` runs. When the client goes away, Starlette cancels this generator:
    the pending thread result is abandoned and no further frames are made."""
    finished = False
    try:
        yield ": finrag\n\n"  # headers and a first byte now, so proxies and clients see progress
        try:
            if progress is None:
                result = await anyio.to_thread.run_sync(compute, abandon_on_cancel=True)
            else:
                running = asyncio.ensure_future(anyio.to_thread.run_sync(compute, abandon_on_cancel=True))
                try:
                    while not running.done():
                        await asyncio.wait({running}, timeout=PROGRESS_POLL_S)
                        for frame in progress():
                            yield frame
                    result = running.result()
                finally:
                    running.cancel()  # a no-op once done; abandons the thread when the client left
        except Exception as exc:  # after the headers the status is 200: report the error in-band
            yield on_error(exc)
            yield sse("[DONE]")
            finished = True
            return
        on_answer(result)
        async for frame in frames(result):
            yield frame
            await anyio.sleep(0)  # a cancellation point between frames
        finished = True
    finally:
        if not finished:
            on_disconnect()


def now_s() -> int:
    return int(time.time())
