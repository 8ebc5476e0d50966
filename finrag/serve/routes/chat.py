"""OpenAI-compatible chat completions: point any OpenAI client at /v1 and ask with `model="finrag"`.

The last user message is the question (earlier turns are not used yet). Citations appear inline in
the content and, structured, in the extra `citations` field (on the last chunk when streaming)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from finrag.finance.text import page_label
from finrag.records import Answer
from finrag.serve.answering import Answering, Served, answer_lines, now_s, sse, stream_answer
from finrag.serve.deps import QueryKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, TOO_LARGE, ApiError, ErrorResponse
from finrag.serve.routes.query import error_frame
from finrag.serve.schemas import (
    NON_BLANK,
    ChatChoice,
    ChatChoiceMessage,
    ChatCompletion,
    ChatRequest,
    ChatUsage,
    Mode,
    ModelCard,
    ModelList,
    QueryResponse,
)

router = APIRouter(prefix="/v1", tags=["openai"])

MODELS: dict[str, Mode] = {
    "finrag": "auto",
    "finrag-easy": "easy",
    "finrag-agentic": "agentic",
    "finrag-vision": "vision",
    "finrag-long-context": "long_context",
}
_CREATED = 1_700_000_000


def question_of(body: ChatRequest) -> str:
    for message in reversed(body.messages):  # the last user message that says something
        if message.role == "user" and re.search(NON_BLANK, message.text()):
            return message.text()
    raise ApiError(400, "invalid_request_error", "messages: no user message with text to answer")


def mode_of(model: str) -> Mode:
    try:
        return MODELS[model]
    except KeyError:
        raise ApiError(404, "model_not_found", f"unknown model {model!r}; available: {', '.join(MODELS)}") from None


def sources_block(resp: QueryResponse) -> str:
    if not resp.citations:
        return ""
    lines = [
        f'[{i}] {page_label(c.doc_name, c.page)}: "{c.quote}" ({c.page_image_url})'
        for i, c in enumerate(resp.citations, 1)
    ]
    return "\n\nSources:\n" + "\n".join(lines)


def usage_of(answer: Answer) -> ChatUsage:
    # Real LLM counts when an LLM answered; the extractive pipeline uses none.
    prompt = sum(v for k, v in answer.usage.items() if k.endswith("input_tokens"))
    completion = answer.usage.get("output_tokens", 0)
    return ChatUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def extras(resp: QueryResponse) -> dict[str, Any]:
    return {
        "answer_id": resp.answer_id,
        "request_id": resp.request_id,
        "pipeline": resp.pipeline,
        "mode": resp.mode,
        "cached": resp.cached,
        "scope": resp.scope.model_dump(),
        "timings_ms": resp.timings_ms,
        "cost_usd": resp.cost_usd,
        "trace": resp.trace,
    }


@router.get("/models", response_model=ModelList, summary="Models (one per answer mode)", responses=ERROR_RESPONSES)
async def models(who: QueryKey) -> ModelList:
    return ModelList(data=[ModelCard(id=m, created=_CREATED) for m in MODELS])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat completion (stream or not)",
    responses={
        **ERROR_RESPONSES,
        **TOO_LARGE,
        402: {"model": ErrorResponse, "description": "the tenant's monthly LLM budget is spent"},
        404: {"model": ErrorResponse, "description": "unknown model"},
        200: {"content": {"text/event-stream": {}}},
    },
)
async def chat_completions(
    body: ChatRequest, request: Request, state: StateDep, who: QueryKey
) -> ChatCompletion | StreamingResponse:
    mode = mode_of(body.model)
    question = question_of(body)
    answering = Answering(state)
    answering.validate(question, body.top_k)
    budget = await run_in_threadpool(answering.admit, who)  # a spent budget's 402 before any work or stream
    rid = request.state.request_id
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = now_s()

    def compute() -> Served:
        return answering.answer(who, question, mode, body.filters, body.top_k, budget, rid)

    def note(served: Served) -> None:
        request.state.pipeline = served.answer.pipeline

    if not body.stream:
        served = await run_in_threadpool(compute)
        note(served)
        answer = served.answer
        resp = served.response(rid, mode, body.debug)
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=body.model,
            choices=[ChatChoice(index=0, message=ChatChoiceMessage(content=resp.answer + sources_block(resp)))],
            usage=usage_of(answer),
            citations=resp.citations,
            finrag=extras(resp),
        )

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        return sse(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **more,
            }
        )

    async def frames(served: Served) -> AsyncIterator[str]:
        answer = served.answer
        resp = served.response(rid, mode, body.debug)
        yield chunk({"role": "assistant", "content": ""})
        for piece in answer_lines(resp.answer):
            yield chunk({"content": piece})
        if resp.citations:
            yield chunk({"content": sources_block(resp)})
        yield chunk(
            {},
            "stop",
            usage=usage_of(answer).model_dump(),
            citations=[c.model_dump() for c in resp.citations],
            finrag=extras(resp),
        )
        yield sse("[DONE]")

    def disconnected() -> None:
        state.metrics.errors.labels(type="client_disconnected").inc()

    return StreamingResponse(
        stream_answer(compute, note, frames, disconnected, partial(error_frame, metrics=state.metrics)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
