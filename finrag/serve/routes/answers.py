"""GET /v1/answers/{answer_id} (a stored answer, with its trace) and POST /v1/feedback (rate it)."""

from __future__ import annotations

from typing import Annotated, cast, get_args

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from finrag.serve.answering import to_response
from finrag.serve.deps import QueryKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, TOO_LARGE, ErrorResponse, not_found
from finrag.serve.schemas import FeedbackOut, FeedbackRequest, Mode, StoredAnswerOut

router = APIRouter(prefix="/v1", tags=["answers"])


@router.get(
    "/answers/{answer_id}",
    response_model=StoredAnswerOut,
    summary="A stored answer (this tenant's only), with its trace",
    responses={**ERROR_RESPONSES, 404: {"model": ErrorResponse, "description": "no such answer in this tenant"}},
)
async def get_answer(
    answer_id: str,
    state: StateDep,
    who: QueryKey,
    debug: Annotated[bool, Query(description="the full trace instead of the trimmed one")] = False,
) -> StoredAnswerOut:
    stored = await run_in_threadpool(state.answers.get, who.tenant, answer_id[:64])
    if stored is None:  # another tenant's id reads exactly like an unknown one
        raise not_found(f"answer {answer_id[:64]!r}")
    mode = cast(Mode, stored.mode if stored.mode in get_args(Mode) else "auto")  # rows outlive mode names
    return StoredAnswerOut(
        answer_id=stored.answer_id,
        created_at=stored.created_at,
        request_id=stored.request_id,
        question=stored.question,
        mode=stored.mode,
        pipeline=stored.pipeline,
        cached=stored.cached,
        cost_usd=stored.cost_usd,
        charged_usd=stored.charged_usd,
        answer=to_response(
            stored.answer,
            stored.request_id,
            mode,
            stored.cached,
            stored.answer_id,
            debug,
            state.settings.answer.faithfulness_threshold,
        ),
        feedback=stored.feedback,
    )


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=201,
    summary="Rate an answer up or down (a later rating replaces the earlier one)",
    responses={
        **ERROR_RESPONSES,
        **TOO_LARGE,
        404: {"model": ErrorResponse, "description": "no such answer in this tenant"},
    },
)
async def feedback(body: FeedbackRequest, state: StateDep, who: QueryKey) -> FeedbackOut:
    comment = (body.comment or "").strip()
    fb = await run_in_threadpool(
        state.answers.add_feedback, who.tenant, body.answer_id, body.rating, comment, who.key_id
    )
    if fb is None:
        raise not_found(f"answer {body.answer_id!r}")
    state.metrics.feedback.labels(rating=body.rating).inc()
    await run_in_threadpool(state.feedback_changed, who.tenant)
    return FeedbackOut(
        answer_id=fb.answer_id,
        rating=fb.rating,
        comment=fb.comment,
        created_at=fb.created_at,
        updated_at=fb.updated_at,
        replaced=fb.replaced,
    )
