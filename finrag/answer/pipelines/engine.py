"""AnswerEngine: route a question, run its pipeline, escalate easy -> agentic -> long context / vision
while the answer is not grounded (within the request's cost ceiling), account for cost, and sample
answers for online evaluation."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from finrag.answer.judge import FaithfulnessJudge, build_judge, combine
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import OnlineEvaluator
from finrag.answer.pipelines.agentic import AgenticPipeline, _top_year
from finrag.answer.pipelines.budget import RequestBudget, current_budget
from finrag.answer.pipelines.common import Ledger, TenantContext
from finrag.answer.pipelines.config import AnswerSettings
from finrag.answer.pipelines.easy import EasyPipeline
from finrag.answer.pipelines.long_context import (
    LONG_CONTEXT_SYSTEM_PROMPT,
    LongContextPipeline,
    Selection,
    estimate_tokens,
    needs_reading,
)
from finrag.answer.router import Route, RouteDecision, Router, llm_classifier
from finrag.answer.vision import PageImageRetriever, VisionPipeline
from finrag.finance.plan import plan_question
from finrag.llm.base import Usage
from finrag.llm.config import LLMSettings, ModelPrice
from finrag.llm.prompting import SYSTEM_PROMPT, hit_doc_name, source_label
from finrag.records import Answer, Hit, Scope

log = logging.getLogger(__name__)

CACHE_TTL_S = 300.0  # Anthropic's ephemeral cache: 5 minutes, refreshed by each read
EXPECTED_OUTPUT_TOKENS = 250  # a concise cited answer; estimates only
IMAGE_TOKENS = 1_500  # one rendered 10-K page at scale 1.5


@dataclass(slots=True)
class _Pipelines:
    """The pipelines over one LLMAnswerer (the configured one, or an offline one for budgets)."""

    llm: LLMAnswerer
    easy: EasyPipeline
    agentic: AgenticPipeline
    vision: VisionPipeline
    long_context: LongContextPipeline


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
        judge: FaithfulnessJudge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = s = settings or AnswerSettings()
        self.llm = llm
        self.router = router or Router(
            llm_classifier(llm) if s.router_llm and llm.has_llm else None, use_classifier=s.router_llm
        )
        self.page_retriever = page_retriever
        self._main = self._build(llm)
        self._offline: _Pipelines | None = None
        self.agentic = self._main.agentic
        self.easy = self._main.easy
        self.vision = self._main.vision
        self.long_context = self._main.long_context
        self.online_eval = online_eval
        self.judge = judge
        self.clock = clock
        # Filing blocks sent with cache_control recently: block key -> expiry. An in-process guess at
        # what the provider's prompt cache holds, used only for cost estimates.
        self._warm: dict[str, float] = {}
        self._warm_lock = threading.Lock()

    def _build(self, llm: LLMAnswerer) -> _Pipelines:
        s = self.settings
        agentic = AgenticPipeline(
            llm,
            max_iterations=s.agentic_max_iterations,
            threshold=s.faithfulness_threshold,
            search_k=s.agentic_search_k,
            llm_for_metrics=s.agentic_llm_for_metrics,
        )
        return _Pipelines(
            llm=llm,
            easy=EasyPipeline(llm, lookup=agentic.lookup),
            agentic=agentic,
            vision=VisionPipeline(llm, page_retriever=self.page_retriever, max_pages=s.vision_max_pages),
            long_context=LongContextPipeline(
                llm,
                max_tokens=s.long_context_max_tokens,
                window_tokens=s.long_context_window_tokens,
                max_docs=s.long_context_max_docs,
                answer_tokens=s.max_answer_tokens,
            ),
        )

    def _offline_pipelines(self) -> _Pipelines:
        """Pipelines that never call an LLM: the budget's offline path (extractive / calculator)."""
        if self._offline is None:
            llm = LLMAnswerer(
                None,
                context_chars=self.llm.context_chars,
                block_chars=self.llm.block_chars,
                max_tokens=self.llm.max_tokens,
            )
            self._offline = self._build(llm)
        return self._offline

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
        judge = build_judge(answer_settings.judge, llm if llm.has_llm else None, llm_settings)
        online = None
        if answer_settings.online_eval_share > 0:
            job_queue = None
            if answer_settings.online_eval_via_queue:
                from finrag.queue import build_queue, redis_url_from_env

                url = redis_url_from_env(settings)
                if url:
                    job_queue = build_queue(url)
                else:
                    log.warning("FINRAG_ANSWER_ONLINE_EVAL_VIA_QUEUE needs FINRAG_SERVE_REDIS_URL: scoring in process")
            online = OnlineEvaluator(
                settings.sqlite_url,
                job_queue=job_queue,
                share=answer_settings.online_eval_share,
                metrics=metrics,
                queue_size=answer_settings.online_eval_queue,
                judge=judge,
                judge_weight=answer_settings.judge_weight,
            )
        return cls(llm, answer_settings, page_retriever=page_retriever, online_eval=online, judge=judge)

    def attach_metrics(self, metrics: Any) -> None:
        """Export online evaluation scores through the app's Prometheus metrics."""
        if self.online_eval is not None:
            self.online_eval.metrics = metrics

    def close(self) -> None:
        if self.online_eval is not None:
            self.online_eval.close()

    # -------------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        retrieval: Any,
        mode: str | None = None,
        ctx: TenantContext | None = None,
        budget: RequestBudget | None = None,
    ) -> Answer:
        ctx = ctx or TenantContext()
        budget = budget or current_budget() or RequestBudget()
        hits: list[Hit] = list(retrieval.hits)
        scope: Scope = retrieval.scope
        t0 = time.perf_counter()
        p = self._offline_pipelines() if budget.no_llm else self._main
        # No paid classifier call when the budget says no LLM.
        router = Router() if budget.no_llm else self.router
        decision = router.route(question, mode or self.settings.mode, scope)
        route_ms = (time.perf_counter() - t0) * 1000
        pre = Ledger()
        if decision.response is not None:
            pre.add(decision.response, "route")
        notes: list[str] = []
        extra: dict[str, Any] = {}
        selection: Selection | None = None

        if (
            self.settings.long_context
            and decision.source != "override"
            and decision.route in (Route.EASY, Route.AGENTIC)
            and p.llm.has_llm
            and hits
        ):
            decision, selection, extra["long_context_choice"] = self._consider_long_context(
                question, hits, scope, ctx, decision, p, budget
            )

        start = decision.route.value
        if decision.route == Route.LONG_CONTEXT and selection is None:
            selection, why = self._long_context_selection(question, hits, scope, ctx, p, budget)
            if selection is None:
                notes.append(f"the long-context route was not used ({why}); answered by the easy pipeline")
                start = Route.EASY.value
        answer, runs, steps, stopped = self._run_chain(
            question, hits, scope, ctx, decision, p, budget, start, selection
        )
        answer.notes = notes + answer.notes
        answer = self._combine(answer, runs, decision, pre)
        answer.trace.update(extra)
        answer.trace["escalation"] = steps
        answer.trace["hits"] = [_hit_trace(h, ctx) for h in hits]
        if budget.limited:
            answer.trace["budget"] = {**budget.as_dict(), "spent_usd": answer.cost_usd, "stopped_before": stopped}
            if budget.no_llm and self.llm.has_llm:
                # the offline pipelines say "no LLM provider configured"; here the budget is why
                answer.notes = [
                    n.replace("no LLM provider configured", "no LLM call within the budget") for n in answer.notes
                ]
            if budget.no_llm and budget.reason:
                answer.notes.append(budget.reason)
        answer.trace["answer_ms"] = {"route": round(route_ms, 2), "total": round((time.perf_counter() - t0) * 1000, 2)}
        if self.online_eval is not None:
            try:
                self.online_eval.maybe_submit(ctx.tenant, answer, _cited_texts(answer, hits, ctx))
            except Exception:  # evaluation is best effort, never the user's problem
                log.exception("online evaluation submit failed")
        return answer

    # --- long context --------------------------------------------------------------------------
    def _long_context_selection(
        self, question: str, hits: list[Hit], scope: Scope, ctx: TenantContext, p: _Pipelines, budget: RequestBudget
    ) -> tuple[Selection | None, str]:
        """The route asked for explicitly: its pages, or why it cannot run (offline, not scoped, ceiling)."""
        if not p.llm.has_llm:
            return None, "it needs an LLM and none is available" + (" within the budget" if budget.no_llm else "")
        sel, why = p.long_context.select(question, hits, scope, ctx)
        if sel is None:
            return None, why
        est = self.estimate_long_context(sel, p.llm)
        if budget.ceiling_usd is not None and est > budget.ceiling_usd:
            return None, f"estimated ${est:.4f} is over the ${budget.ceiling_usd:.4f} per-request ceiling"
        return sel, why

    def _consider_long_context(
        self,
        question: str,
        hits: list[Hit],
        scope: Scope,
        ctx: TenantContext,
        decision: RouteDecision,
        p: _Pipelines,
        budget: RequestBudget,
    ) -> tuple[RouteDecision, Selection | None, dict[str, Any]]:
        """Choose long context over retrieval by estimated cost and quality:

        - a metric the calculator computes from cited rows stays agentic (exact and usually free);
        - the filing already in the prompt cache: long context when its estimate is within
          `long_context_cost_ratio` x the retrieval answer's (a cache read costs 0.1x input);
        - questions that need reading around (why, risks, summarise): long context up to
          `long_context_max_usd`; that first call also warms the cache for the follow-ups.
        The per-request ceiling rules out anything estimated above it."""
        s = self.settings
        sel, why = p.long_context.select(question, hits, scope, ctx)
        info: dict[str, Any] = {"eligible": sel is not None, "why": why}
        if sel is None:
            info["chosen"] = False
            return decision, None, info
        warm = self.is_warm(sel.key)
        est_lc = self.estimate_long_context(sel, p.llm)
        est_rag = self.estimate_rag(question, hits, p.llm)
        reading = needs_reading(question)
        metric = plan_question(question, (scope.fiscal_years or [None])[-1] or _top_year(hits)) is not None
        info.update(
            tokens=sel.tokens,
            cache_warm=warm,
            est_usd=round(est_lc, 6),
            est_rag_usd=round(est_rag, 6),
            needs_reading=reading,
        )
        chosen, reason = False, ""
        if budget.ceiling_usd is not None and est_lc > budget.ceiling_usd:
            reason = f"estimate ${est_lc:.4f} over the ${budget.ceiling_usd:.4f} per-request ceiling"
        elif metric and decision.route == Route.AGENTIC:
            reason = "a metric the calculator computes from cited statement rows"
        elif warm and est_lc <= s.long_context_cost_ratio * max(est_rag, 1e-9):
            chosen, reason = True, f"the filing is in the prompt cache: ${est_lc:.4f} vs ${est_rag:.4f} with retrieval"
        elif reading and est_lc <= s.long_context_max_usd:
            chosen, reason = True, f"the question needs reading around the retrieved pages (${est_lc:.4f} estimated)"
        else:
            reason = f"retrieval is cheaper (${est_rag:.4f} vs ${est_lc:.4f}) and the question is a lookup"
        info.update(chosen=chosen, reason=reason)
        if not chosen:
            return decision, None, info
        new = RouteDecision(
            Route.LONG_CONTEXT,
            f"long_context: {reason} (rules said {decision.reason})",
            source="cost",
            signals=[*decision.signals, "long context"],
            response=decision.response,
        )
        return new, sel, info

    def is_warm(self, key: str) -> bool:
        with self._warm_lock:
            exp = self._warm.get(key)
            return exp is not None and exp > self.clock()

    def _mark_warm(self, key: str) -> None:
        with self._warm_lock:
            now = self.clock()
            self._warm = {k: v for k, v in self._warm.items() if v > now}
            self._warm[key] = now + CACHE_TTL_S

    def estimate_long_context(self, sel: Selection, llm: LLMAnswerer) -> float:
        price = llm.price()
        if price is None:
            return 0.0
        fixed = estimate_tokens(LONG_CONTEXT_SYSTEM_PROMPT) + 150
        if not llm.prompt_cache:
            return _usd(price, input_tokens=sel.tokens + fixed)
        if self.is_warm(sel.key):
            return _usd(price, input_tokens=fixed, cache_read=sel.tokens)
        return _usd(price, input_tokens=fixed, cache_write=sel.tokens)

    def estimate_rag(self, question: str, hits: list[Hit], llm: LLMAnswerer) -> float:
        """One retrieval-sized call: the sources within the context budget, system prompt, question."""
        price = llm.price()
        if price is None:
            return 0.0
        chars = min(llm.context_chars, sum(len(h.chunk.text) for h in hits))
        return _usd(price, input_tokens=(chars + len(SYSTEM_PROMPT) + len(question) + 600) // 4)

    def _estimate_step(
        self, step: str, question: str, hits: list[Hit], scope: Scope, p: _Pipelines, sel: Selection | None
    ) -> float:
        if step == "long_context" and sel is not None:
            return self.estimate_long_context(sel, p.llm)
        rag = self.estimate_rag(question, hits, p.llm)
        if step == "agentic":
            year = (scope.fiscal_years or [None])[-1] or _top_year(hits)
            # a recognized metric is computed (no call) unless judgement is asked for
            return 0.0 if plan_question(question, year) is not None and not needs_reading(question) else rag
        if step == "vision":
            price = p.llm.price()
            images = self.settings.vision_max_pages * IMAGE_TOKENS
            return rag + (_usd(price, input_tokens=images) if price else 0.0)
        return rag

    # --- the escalation chain ---------------------------------------------------------------------
    def _run_step(
        self,
        step: str,
        question: str,
        hits: list[Hit],
        scope: Scope,
        ctx: TenantContext,
        p: _Pipelines,
        sel: Selection | None,
    ) -> Answer:
        if step == "long_context":
            assert sel is not None
            answer = p.long_context.answer(question, hits, scope, ctx, sel)
            if p.llm.prompt_cache and answer.trace.get("answered_by") != "extractive":
                self._mark_warm(sel.key)
        elif step == "vision":
            answer = p.vision.answer(question, hits, scope, ctx)
        elif step == "agentic":
            answer = p.agentic.answer(question, hits, scope, ctx)
        else:
            answer = p.easy.answer(question, hits, scope, ctx)
        return self._judged(question, answer, hits, ctx)

    def _judged(self, question: str, answer: Answer, hits: list[Hit], ctx: TenantContext) -> Answer:
        """With an inline judge: the combined faithfulness (heuristic + judge) replaces the heuristic
        one, so the fallback acts on it. Extractive answers are verbatim quotes: nothing to judge."""
        if self.judge is None or not self.settings.judge_inline or not answer.text:
            return answer
        if answer.trace.get("answered_by") in (None, "extractive"):
            return answer
        verdict = self.judge.judge(question, answer.text, _cited_texts(answer, hits, ctx))
        if verdict is None:
            answer.trace["judge"] = {"skipped": "the judge gave no verdict (unavailable or unreadable reply)"}
            answer.notes.append("faithfulness judge unavailable: heuristic score only")
            return answer
        heuristic = answer.faithfulness if answer.faithfulness is not None else 0.0
        w = self.settings.judge_weight
        answer.faithfulness = round(combine(heuristic, verdict, w), 4)
        answer.trace["judge"] = {**verdict.to_dict(), "heuristic": heuristic, "weight": w}
        answer.cost_usd = round(answer.cost_usd + verdict.cost_usd, 6)
        answer.usage = {k: answer.usage.get(k, 0) + verdict.usage.get(k, 0) for k in {*answer.usage, *verdict.usage}}
        return answer

    def _good(self, a: Answer) -> bool:
        faith = a.faithfulness if a.faithfulness is not None else 0.0
        return bool(a.trace.get("supported")) and faith >= self.settings.faithfulness_threshold

    def _run_chain(
        self,
        question: str,
        hits: list[Hit],
        scope: Scope,
        ctx: TenantContext,
        decision: RouteDecision,
        p: _Pipelines,
        budget: RequestBudget,
        start: str,
        sel: Selection | None,
    ) -> tuple[Answer, list[Answer], list[dict[str, Any]], str | None]:
        """Run `start`, then escalate while the answer is weak: easy -> agentic -> long context (or
        vision). An explicitly requested mode runs alone: no second pipeline, no second bill.
        Returns (answer kept, every run, the steps' trace, the step the ceiling stopped or None)."""
        s = self.settings
        t = time.perf_counter()
        first = self._run_step(start, question, hits, scope, ctx, p, sel)
        steps = [_step_trace(start, first, t)]
        runs = [first]
        best = first
        stopped: str | None = None
        third = s.long_context or s.fallback_to_vision
        chain = {"easy": ["agentic", "third"], "agentic": ["third"]}.get(start, [])
        if self._good(first) or not hits or decision.source == "override":
            return first, runs, steps, None
        why = _weak(first, s.faithfulness_threshold)
        for nxt in chain:
            if self._good(best):
                break
            if nxt == "agentic" and not s.fallback_to_agentic:
                continue
            if nxt == "third":
                if not third:
                    continue
                nxt, sel, skip = self._third_step(question, hits, scope, ctx, p, sel)
                if skip:
                    steps.append({"step": "long_context", "skipped": skip})
                    continue
            spent = sum(r.cost_usd for r in runs)
            est = self._estimate_step(nxt, question, hits, scope, p, sel)
            if budget.ceiling_usd is not None and spent + est > budget.ceiling_usd:
                reason = (
                    f"the per-request ceiling of ${budget.ceiling_usd:.4f}: ${spent:.4f} spent, "
                    f"the {nxt} step is estimated at ${est:.4f}"
                )
                steps.append({"step": nxt, "skipped": reason, "est_usd": round(est, 6)})
                stopped = nxt
                best.notes.append(f"not escalated to the {nxt} pipeline: {reason}")
                break
            t = time.perf_counter()
            r = self._run_step(nxt, question, hits, scope, ctx, p, sel)
            steps.append({**_step_trace(nxt, r, t), "est_usd": round(est, 6)})
            runs.append(r)
            if _rank(r) >= _rank(best):
                best = r
        if len(runs) > 1:
            best.trace["fallback"] = {
                "from": start,
                "to": runs[-1].pipeline,
                "reason": why,
                "kept": best.pipeline,
                "tried": [r.pipeline for r in runs],
            }
            if best is not first:
                best.notes.append(
                    f"the {start} pipeline's answer was not used ({why}); answered by the {best.pipeline} pipeline"
                )
            else:
                others = " and ".join(r.pipeline for r in runs[1:])
                best.notes.append(
                    f"the {start} pipeline's answer is weak ({why}) and the {others} pipeline did no better"
                )
        return best, runs, steps, stopped

    def _third_step(
        self, question: str, hits: list[Hit], scope: Scope, ctx: TenantContext, p: _Pipelines, sel: Selection | None
    ) -> tuple[str, Selection | None, str]:
        """Long context when it applies, else vision when enabled: (step, selection, skip reason)."""
        why = "disabled"
        if self.settings.long_context:
            if not p.llm.has_llm:
                why = "no LLM available"
            else:
                if sel is None:
                    sel, why = p.long_context.select(question, hits, scope, ctx)
                if sel is not None:
                    return "long_context", sel, ""
        if self.settings.fallback_to_vision and p.llm.has_llm:
            return "vision", sel, ""
        return ("long_context" if self.settings.long_context else "vision"), sel, why

    @staticmethod
    def _combine(answer: Answer, runs: list[Answer], decision: RouteDecision, pre: Ledger) -> Answer:
        """Usage and cost of every run (a fallback pays for each), and the route in the trace."""
        per_run = [
            {
                "pipeline": r.pipeline,
                "faithfulness": r.faithfulness,
                "supported": r.trace.get("supported"),
                "unsupported_figures": list(r.unsupported_figures),
                "answered_by": r.trace.get("answered_by"),
                "cost_usd": r.cost_usd,
                "prompt": r.trace.get("prompt"),
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


def _usd(price: ModelPrice | None, *, input_tokens: int = 0, cache_write: int = 0, cache_read: int = 0) -> float:
    if price is None:
        return 0.0
    return price.cost(Usage(input_tokens, EXPECTED_OUTPUT_TOKENS, cache_write, cache_read))


def _rank(a: Answer) -> tuple[bool, float]:
    return bool(a.trace.get("supported")), a.faithfulness if a.faithfulness is not None else 0.0


def _weak(a: Answer, threshold: float) -> str:
    faith = a.faithfulness if a.faithfulness is not None else 0.0
    return f"faithfulness {faith:.2f} < {threshold:.2f}" if faith < threshold else "no supported answer"


def _step_trace(step: str, a: Answer, started: float) -> dict[str, Any]:
    return {
        "step": step,
        "pipeline": a.pipeline,
        "faithfulness": a.faithfulness,
        "supported": a.trace.get("supported"),
        "cost_usd": a.cost_usd,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _hit_trace(h: Hit, ctx: TenantContext) -> dict[str, Any]:
    c = h.chunk
    return {
        "doc_id": c.doc_id,
        "doc_name": hit_doc_name(h, ctx.doc_names),
        "page": c.page_start + 1,
        "kind": str(c.kind),
        "score": round(float(h.score), 6),
        "source": h.source,
        "chunk_id": c.id,
        "chars": len(c.text),
    }


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
