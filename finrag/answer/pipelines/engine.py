"""AnswerEngine: route a question, run its pipeline, fall back easy -> agentic when the easy answer is
not grounded, account for cost, and sample answers for online evaluation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import OnlineEvaluator
from finrag.answer.pipelines.agentic import AgenticPipeline
from finrag.answer.pipelines.common import Ledger, TenantContext
from finrag.answer.pipelines.config import AnswerSettings
from finrag.answer.pipelines.easy import EasyPipeline
from finrag.answer.router import Route, RouteDecision, Router, llm_classifier
from finrag.answer.vision import PageImageRetriever, VisionPipeline
from finrag.llm.base import Usage
from finrag.llm.config import LLMSettings
from finrag.llm.prompting import hit_doc_name, source_label
from finrag.records import Answer, Hit, Scope

log = logging.getLogger(__name__)


class AnswerEngine:
    """`answer(question, retrieval_result, mode, ctx)` -> Answer, whichever pipeline runs.

    `retrieval_result` is anything with `.hits` and `.scope` (a RetrievalResult)."""

    def __init__(
        self,
        llm: LLMAnswerer,
        settings: AnswerSettings | None = None,
        *,
        router: Router | None = None,
        page_retriever: PageImageRetriever | None = None,
        online_eval: OnlineEvaluator | None = None,
    ) -> None:
        self.settings = s = settings or AnswerSettings()
        self.llm = llm
        self.router = router or Router(
            llm_classifier(llm) if s.router_llm and llm.has_llm else None, use_classifier=s.router_llm
        )
        self.agentic = AgenticPipeline(
            llm,
            max_iterations=s.agentic_max_iterations,
            threshold=s.faithfulness_threshold,
            search_k=s.agentic_search_k,
            llm_for_metrics=s.agentic_llm_for_metrics,
        )
        self.easy = EasyPipeline(llm, lookup=self.agentic.lookup)
        self.vision = VisionPipeline(llm, page_retriever=page_retriever, max_pages=s.vision_max_pages)
        self.online_eval = online_eval

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        metrics: Any = None,
        page_retriever: PageImageRetriever | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> AnswerEngine:
        """From `finrag.settings.Settings` (uses `.llm`, `.answer` when present, `.sqlite_url`)."""
        answer_settings: AnswerSettings = getattr(settings, "answer", None) or AnswerSettings()
        llm_settings: LLMSettings = settings.llm
        llm = LLMAnswerer.from_settings(
            llm_settings,
            context_chars=answer_settings.context_chars,
            block_chars=answer_settings.block_chars,
            max_tokens=answer_settings.max_answer_tokens,
            sleep=sleep,
        )
        online = None
        if answer_settings.online_eval_share > 0:
            online = OnlineEvaluator(
                settings.sqlite_url,
                share=answer_settings.online_eval_share,
                metrics=metrics,
                queue_size=answer_settings.online_eval_queue,
            )
        return cls(llm, answer_settings, page_retriever=page_retriever, online_eval=online)

    def attach_metrics(self, metrics: Any) -> None:
        """Export online evaluation scores through the app's Prometheus metrics."""
        if self.online_eval is not None:
            self.online_eval.metrics = metrics

    def close(self) -> None:
        if self.online_eval is not None:
            self.online_eval.close()

    # -------------------------------------------------------------------------------------------
    def answer(
        self, question: str, retrieval: Any, mode: str | None = None, ctx: TenantContext | None = None
    ) -> Answer:
        ctx = ctx or TenantContext()
        hits: list[Hit] = list(retrieval.hits)
        scope: Scope = retrieval.scope
        t0 = time.perf_counter()
        decision = self.router.route(question, mode or self.settings.mode, scope)
        route_ms = (time.perf_counter() - t0) * 1000
        pre = Ledger()
        if decision.response is not None:
            pre.add(decision.response, "route")
        if decision.route == Route.VISION:
            answer = self.vision.answer(question, hits, scope, ctx)
            runs = [answer]
        elif decision.route == Route.AGENTIC:
            answer = self.agentic.answer(question, hits, scope, ctx)
            runs = [answer]
        else:
            answer, runs = self._easy_then_agentic(question, hits, scope, ctx, decision)
        answer = self._combine(answer, runs, decision, pre)
        answer.trace["answer_ms"] = {"route": round(route_ms, 2), "total": round((time.perf_counter() - t0) * 1000, 2)}
        if self.online_eval is not None:
            try:
                self.online_eval.maybe_submit(ctx.tenant, answer, _cited_texts(answer, hits, ctx))
            except Exception:  # evaluation is best effort, never the user's problem
                log.exception("online evaluation submit failed")
        return answer

    def _easy_then_agentic(
        self, question: str, hits: list[Hit], scope: Scope, ctx: TenantContext, decision: RouteDecision
    ) -> tuple[Answer, list[Answer]]:
        easy = self.easy.answer(question, hits, scope, ctx)
        s = self.settings
        faith = easy.faithfulness if easy.faithfulness is not None else 0.0
        supported = bool(easy.trace.get("supported"))
        # An explicitly requested "easy" is respected: no second pipeline, no second bill.
        good = supported and faith >= s.faithfulness_threshold
        if good or not hits or not s.fallback_to_agentic or decision.source == "override":
            return easy, [easy]
        why = (
            f"faithfulness {faith:.2f} < {s.faithfulness_threshold:.2f}"
            if faith < s.faithfulness_threshold
            else "no supported answer"
        )
        agentic = self.agentic.answer(question, hits, scope, ctx)
        a_faith = agentic.faithfulness if agentic.faithfulness is not None else 0.0
        a_supported = bool(agentic.trace.get("supported"))
        better = (a_supported, a_faith) >= (supported, faith)
        chosen = agentic if better else easy
        chosen.trace["fallback"] = {
            "from": "easy",
            "to": "agentic",
            "reason": why,
            "kept": chosen.pipeline,
        }
        if better:
            chosen.notes.append(f"the easy pipeline's answer was not used ({why}); answered by the agentic pipeline")
        else:
            chosen.notes.append(f"the easy pipeline's answer is weak ({why}) and the agentic pipeline did no better")
        return chosen, [easy, agentic]

    @staticmethod
    def _combine(answer: Answer, runs: list[Answer], decision: RouteDecision, pre: Ledger) -> Answer:
        """Usage and cost of every run (a fallback pays for both), and the route in the trace."""
        per_run = [
            {
                "pipeline": r.pipeline,
                "faithfulness": r.faithfulness,
                "supported": r.trace.get("supported"),
                "unsupported_figures": list(r.unsupported_figures),
                "answered_by": r.trace.get("answered_by"),
                "cost_usd": r.cost_usd,
            }
            for r in runs
        ]
        total = Usage()
        cost = pre.cost_usd
        calls = list(pre.calls)
        for r in runs:
            u = r.usage
            total = Usage(
                total.input_tokens + u.get("input_tokens", 0),
                total.output_tokens + u.get("output_tokens", 0),
                total.cache_creation_input_tokens + u.get("cache_creation_input_tokens", 0),
                total.cache_read_input_tokens + u.get("cache_read_input_tokens", 0),
            )
            cost += r.cost_usd
            calls += [{**c, "pipeline": r.pipeline} for c in r.trace.get("llm_calls", [])]
        total = Usage(
            total.input_tokens + pre.usage.input_tokens,
            total.output_tokens + pre.usage.output_tokens,
            total.cache_creation_input_tokens + pre.usage.cache_creation_input_tokens,
            total.cache_read_input_tokens + pre.usage.cache_read_input_tokens,
        )
        answer.usage = total.as_dict()
        answer.cost_usd = round(cost, 6)
        answer.trace["llm_calls"] = calls
        llm = [c for c in calls if c.get("provider") not in (None, "extractive")]
        if llm:  # the serve layer labels token and cost metrics with this call's model
            answer.trace["llm"] = llm[-1]
        answer.trace["route"] = decision.as_dict()
        answer.trace["pipelines_run"] = per_run
        return answer


def _cited_texts(answer: Answer, hits: list[Hit], ctx: TenantContext) -> dict[str, str]:
    """Page texts of the answer's citations, from the hits in memory (quotes when a page is not)."""
    by_label: dict[str, str] = {}
    for h in hits:
        label = source_label(hit_doc_name(h, ctx.doc_names), h.chunk.page_start)
        by_label[label] = by_label.get(label, "") + ("\n" if label in by_label else "") + h.chunk.text
    out: dict[str, str] = {}
    for c in answer.citations:
        label = f"{c.doc_name} p.{c.page}"
        out[label] = by_label.get(label) or c.quote
    return out
