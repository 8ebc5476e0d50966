"""Answer pipeline settings (FINRAG_ANSWER_*). Kept import-light: `finrag.settings` imports it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnswerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_ANSWER_", extra="ignore")

    mode: Literal["auto", "easy", "agentic", "vision", "long_context"] = Field(
        "auto", description="default when a request says none"
    )
    router_llm: bool = Field(False, description="ask the LLM to classify questions (one short call each)")

    # easy -> agentic fallback
    faithfulness_threshold: float = Field(0.7, ge=0, le=1, description="below this, easy answers are retried")
    fallback_to_agentic: bool = True

    # LLM requests
    # ~1,500 tokens of sources + the ~500-token system prompt keep one Sonnet call near $0.008
    context_chars: int = Field(6_000, ge=500, le=200_000, description="source text sent per request (~4 chars/token)")
    block_chars: int = Field(2_500, ge=200, description="longer pages are cut to their most relevant lines")
    max_answer_tokens: int = Field(512, ge=16, le=8192)

    # agentic
    agentic_max_iterations: int = Field(3, ge=1, le=10, description="LLM draft + correction steps")
    agentic_search_k: int = Field(4, ge=1, le=20, description="hits per component search")
    agentic_llm_for_metrics: bool = Field(
        False, description="also let the LLM write metric answers the calculator already grounded (costs a call)"
    )

    # long context: the scoped filing's pages (whole, or the aligned window holding the retrieved pages)
    # as ONE prompt-cached block, so follow-up questions on that filing read it from the cache
    long_context: bool = Field(False, description="let the router choose the long-context route and escalate to it")
    long_context_window_tokens: int = Field(200_000, ge=4_000, description="the configured model's context window")
    long_context_max_tokens: int = Field(
        60_000, ge=1_000, description="filing text sent per request (~4 chars/token), within the window"
    )
    long_context_max_docs: int = Field(2, ge=1, le=10, description="filings a question may be scoped to")
    long_context_cost_ratio: float = Field(
        2.0, ge=0, description="with the filing already cached: chosen when within this multiple of the RAG estimate"
    )
    long_context_max_usd: float = Field(
        0.25, ge=0, description="questions that need reading (why, explain, risks): chosen up to this estimate"
    )
    fallback_to_vision: bool = Field(False, description="last escalation step when long context is not possible")

    # vision
    vision_max_pages: int = Field(2, ge=1, le=8)
    vision_scale: float = Field(1.5, gt=0.2, le=4.0, description="render scale (1.0 = 72 dpi)")

    # online evaluation
    # optional LLM judge of faithfulness (finrag.answer.judge): off by default, it costs a call per answer
    judge: Literal["off", "llm", "ragas"] = Field(
        "off", description="faithfulness judge: off, llm (the configured providers) or ragas (pip install ragas)"
    )
    judge_weight: float = Field(0.5, ge=0, le=1, description="share of the judge in the combined faithfulness")
    judge_inline: bool = Field(
        False,
        description="judge every LLM answer on the request path (its score joins the one that drives the "
        "easy -> agentic fallback); otherwise only answers sampled for online evaluation are judged",
    )
    online_eval_share: float = Field(0.01, ge=0, le=1, description="share of live answers scored in the background")
    online_eval_queue: int = Field(1000, ge=1)
    online_eval_via_queue: bool = Field(
        False,
        description="score sampled answers on `finrag worker` through the Redis job queue (FINRAG_SERVE_REDIS_URL) "
        "instead of a thread in the API process",
    )
