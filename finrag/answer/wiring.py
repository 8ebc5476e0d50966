"""Building the answer engine from settings: the LLM answerer, the optional judge and the online
evaluator. Kept apart from the engine so that the engine only orchestrates."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from finrag.answer.engine import AnswerEngine
from finrag.answer.judge import build_judge
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import OnlineEvaluator

if TYPE_CHECKING:
    from finrag.settings import Settings

log = logging.getLogger(__name__)


def build_engine(
    settings: Settings, *, metrics: Any = None, sleep: Callable[[float], None] = time.sleep
) -> AnswerEngine:
    """The engine for `settings` (its `.llm`, `.answer` and `.sqlite_url`)."""
    s = settings.answer
    llm_settings = settings.llm
    llm = LLMAnswerer.from_settings(
        llm_settings,
        context_chars=s.context_chars,
        block_chars=s.block_chars,
        max_tokens=s.max_answer_tokens,
        sleep=sleep,
    )
    judge = build_judge(s.judge, llm if llm.has_llm else None, llm_settings)
    online = None
    if s.online_eval_share > 0:
        job_queue = None
        if s.online_eval_via_queue:
            from finrag.queue import build_queue, shared_redis_url

            url = shared_redis_url(settings)
            if url:
                job_queue = build_queue(url)
            else:
                log.warning("FINRAG_ANSWER_ONLINE_EVAL_VIA_QUEUE needs FINRAG_SERVE_REDIS_URL: scoring in process")
        online = OnlineEvaluator(
            settings.sqlite_url,
            job_queue=job_queue,
            share=s.online_eval_share,
            metrics=metrics,
            queue_size=s.online_eval_queue,
            judge=judge,
            judge_weight=s.judge_weight,
        )
    return AnswerEngine(llm, s, online_eval=online, judge=judge)
