"""POST /v1/query: a cited answer, as JSON or as Server-Sent Events."""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from finrag.answer.drafts import drafts_to
from finrag.observability.metrics import Metrics
from finrag.serve.answering import Answering, Served, answer_lines, sse, stream_answer
from finrag.serve.deps import QueryKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, TOO_LARGE, ApiError, ErrorResponse
from finrag.serve.schemas import QueryRequest, QueryResponse
from finrag.service import QuestionError

router = APIRouter(prefix="/v1", tags=["query"])
log = logging.getLogger(__name__)

SSE_DOC = (
    'With `stream=true` the response is `text/event-stream`: one `data: {"delta": ...}` event per answer '
    "line, then `event: citations` whose data is the full QueryResponse (answer, citations, timings ...), "
    "then `data: [DONE]`. Errors after the stream started arrive as `event: error`. With `drafts=true`, "
    "while an LLM writes, `event: draft` frames carry its text as it comes "
    '(`{"start": true}` opens a new draft, `{"delta": ...}` adds to it): unchecked, a preview only; the '
    "answer sent after it is the checked one."
)
DEBUG_DOC = (
    "Every answer is stored under its `answer_id` (`GET /v1/answers/{answer_id}`, `POST /v1/feedback`). "
    "`trace` holds the route, fallbacks and budget; with `debug=true` it is the full trace: scope, rewritten "
    "queries, retrieved hits with scores, route and escalation steps, LLM calls with prompt sizes, timings per stage."
)


class DraftFrames:
    """The LLM's draft as SSE frames, filled by the answering thread and taken by the stream."""

    def __init__(self) -> None:
        self._frames: queue.SimpleQueue[str] = queue.SimpleQueue()

    def start(self) -> None:
        self._frames.put(sse({"start": True}, event="draft"))

    def delta(self, text: str) -> None:
        self._frames.put(sse({"delta": text}, event="draft"))

    def take(self) -> list[str]:
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self._frames.get_nowait())
        return out


def error_frame(exc: Exception, metrics: Metrics) -> str:
    """An error after the stream started (status already 200): sent in-band, in the usual error shape."""
    if isinstance(exc, ApiError):
        type_, message = exc.type, exc.message
    elif isinstance(exc, QuestionError):
        type_, message = "invalid_question", str(exc)
    else:
        log.error("error while streaming an answer", exc_info=exc)
        type_, message = "internal_error", "internal error; see the server log with this request's id"
    metrics.errors.labels(type=type_).inc()
    return sse({"error": {"type": type_, "message": message}}, event="error")


@router.post(
    "/query",
    response_model=QueryResponse,
    summary="Answer a question with citations",
    description=SSE_DOC + " " + DEBUG_DOC,
    responses={
        **ERROR_RESPONSES,
        **TOO_LARGE,
        402: {"model": ErrorResponse, "description": "the tenant's monthly LLM budget is spent"},
        200: {"content": {"text/event-stream": {}}},
    },
)
async def query(
    body: QueryRequest,
    request: Request,
    state: StateDep,
    who: QueryKey,
    stream: Annotated[bool | None, Query(description="same as the body field")] = None,
    debug: Annotated[bool | None, Query(description="same as the body field")] = None,
) -> QueryResponse | StreamingResponse:
    answering = Answering(state)
    rid = request.state.request_id
    show_all = debug if debug is not None else body.debug
    answering.validate(body.question, body.top_k)  # refuse bad input with a 422 before any work or stream
    budget = await run_in_threadpool(answering.admit, who)  # then a spent budget's 402, before a stream too

    drafts = DraftFrames()

    def compute() -> Served:
        return answering.answer(
            who, body.question, body.mode, body.filters, body.top_k, budget, rid, no_cache=body.no_cache
        )

    def compute_with_drafts() -> Served:
        if not body.drafts:
            return compute()
        with drafts_to(drafts):
            return compute()

    def note(served: Served) -> None:
        request.state.pipeline = served.answer.pipeline

    if not (stream if stream is not None else body.stream):
        served = await run_in_threadpool(compute)
        note(served)
        return served.response(rid, body.mode, show_all)

    async def frames(served: Served) -> AsyncIterator[str]:
        for piece in answer_lines(served.answer.text):
            yield sse({"delta": piece})
        yield sse(served.response(rid, body.mode, show_all).model_dump(mode="json"), event="citations")
        yield sse("[DONE]")

    def disconnected() -> None:
        state.metrics.errors.labels(type="client_disconnected").inc()

    return StreamingResponse(
        stream_answer(
            compute_with_drafts,
            note,
            frames,
            disconnected,
            partial(error_frame, metrics=state.metrics),
            progress=drafts.take if body.drafts else None,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
