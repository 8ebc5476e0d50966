"""POST /v1/query: a cited answer, as JSON or as Server-Sent Events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from finrag.observability.metrics import Metrics
from finrag.records import Answer
from finrag.serve.answering import Answering, answer_lines, sse, stream_answer, to_response
from finrag.serve.deps import QueryKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, ApiError
from finrag.serve.schemas import QueryRequest, QueryResponse
from finrag.service import QuestionError

router = APIRouter(prefix="/v1", tags=["query"])
log = logging.getLogger(__name__)

SSE_DOC = (
    'With `stream=true` the response is `text/event-stream`: one `data: {"delta": ...}` event per answer '
    "line, then `event: citations` whose data is the full QueryResponse (answer, citations, timings ...), "
    "then `data: [DONE]`. Errors after the stream started arrive as `event: error`."
)


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
    description=SSE_DOC,
    responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}}},
)
async def query(
    body: QueryRequest,
    request: Request,
    state: StateDep,
    who: QueryKey,
    stream: Annotated[bool | None, Query(description="same as the body field")] = None,
) -> QueryResponse | StreamingResponse:
    answering = Answering(state)
    rid = request.state.request_id

    def compute() -> tuple[Answer, bool]:
        return answering.answer(who, body.question, body.mode, body.filters, body.top_k)

    def note(answer: Answer, cached: bool) -> None:
        request.state.pipeline = answer.pipeline

    if not (stream if stream is not None else body.stream):
        answer, cached = await run_in_threadpool(compute)
        note(answer, cached)
        return to_response(answer, rid, body.mode, cached)

    answering.validate(body.question, body.top_k)  # refuse bad input with a 422 before the stream starts

    async def frames(answer: Answer, cached: bool) -> AsyncIterator[str]:
        for piece in answer_lines(answer.text):
            yield sse({"delta": piece})
        yield sse(to_response(answer, rid, body.mode, cached).model_dump(mode="json"), event="citations")
        yield sse("[DONE]")

    def disconnected() -> None:
        state.metrics.errors.labels(type="client_disconnected").inc()

    return StreamingResponse(
        stream_answer(compute, note, frames, disconnected, partial(error_frame, metrics=state.metrics)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
