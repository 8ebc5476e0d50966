"""AnswerEngine: route a question, run its pipeline, judge the answer, escalate easy -> agentic ->
long context / vision while the verdict is weak (within the request's cost ceiling), then serve it.

The engine only orchestrates. Pipelines come from the registry (`finrag.answer.registry`), cost
estimates and prompt-cache warmth from `costs`, the verdict and inline judge from `verdict`, usage
from the one `Ledger`, construction from settings in `wiring`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from finrag.answer.context import TenantContext
from finrag.answer.costs import CostEstimator, PromptCacheTracker
from finrag.answer.judge import FaithfulnessJudge
from finrag.answer.ledger import Ledger
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import OnlineEvaluator
from finrag.answer.pipelines.long_context import LongContextPipeline, Selection
from finrag.answer.registry import build_pipelines
from finrag.answer.request import AnswerRequest, Pipeline, RequestBudget
from finrag.answer.router import Route, RouteDecision, Router, llm_classifier
from finrag.answer.verdict import InlineJudge, Verdict, apply_trust, withhold_unsupported
from finrag.finance.facts import QuestionFacts
from finrag.finance.text import page_label
from finrag.llm.prompting import hit_doc_name, source_label
from finrag.records import Answer, Hit
from finrag.settings import AnswerSettings

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class AnswerEngine:
    """`answer(question, retrieval_result, mode, ctx, budget)` -> Answer, whichever pipeline runs.

    `retrieval_result` is anything with `.hits` and `.scope` (a RetrievalResult)."""

    def __init__(
        self,
        llm: LLMAnswerer,
        settings: AnswerSettings | None = None,
        *,
        router: Router | None = None,
        online_eval: OnlineEvaluator | None = None,
        judge: FaithfulnessJudge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = s = settings or AnswerSettings()
        self.llm = llm
        self.router = router or Router(
            llm_classifier(llm) if s.router_llm and llm.has_llm else None, use_classifier=s.router_llm
        )
        self.pipelines: dict[str, Pipeline] = build_pipelines(llm, s)
        self._offline: dict[str, Pipeline] | None = None
        self._offline_llm: LLMAnswerer | None = None
        self.online_eval = online_eval
        self.prompt_cache = PromptCacheTracker(clock)
        self.costs = CostEstimator(self.prompt_cache, s.vision_max_pages)
        self._judging = InlineJudge(judge, s.judge_weight)

    @property
    def judge(self) -> FaithfulnessJudge | None:
        return self._judging.judge

    @judge.setter
    def judge(self, judge: FaithfulnessJudge | None) -> None:
        self._judging.judge = judge

    def _offline_pipelines(self) -> tuple[LLMAnswerer, dict[str, Pipeline]]:
        """Pipelines that never call an LLM: the budget's offline path (extractive / calculator)."""
        if self._offline is None or self._offline_llm is None:
            self._offline_llm = LLMAnswerer(
                None,
                context_chars=self.llm.context_chars,
                block_chars=self.llm.block_chars,
                max_tokens=self.llm.max_tokens,
            )
            self._offline = build_pipelines(self._offline_llm, self.settings)
        return self._offline_llm, self._offline

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
        facts: QuestionFacts | None = None,
    ) -> Answer:
        budget = budget or RequestBudget()
        req = AnswerRequest.of(question, retrieval.hits, retrieval.scope, ctx, budget=budget, facts=facts)
        t0 = time.perf_counter()
        llm, pipes = self._offline_pipelines() if budget.no_llm else (self.llm, self.pipelines)
        # No paid classifier call when the budget says no LLM.
        router = Router() if budget.no_llm else self.router
        decision = router.route(question, mode or self.settings.mode, req.scope, req.facts)
        route_ms = (time.perf_counter() - t0) * 1000
        ledger = Ledger()
        ledger.add(decision.response, "route")
        notes: list[str] = []
        extra: dict[str, Any] = {}
        long_context = pipes.get("long_context")
        lc = long_context if isinstance(long_context, LongContextPipeline) else None

        if (
            self.settings.long_context
            and lc is not None
            and decision.source != "override"
            and decision.route in (Route.EASY, Route.AGENTIC)
            and llm.has_llm
            and req.hits
        ):
            decision, req.selection, extra["long_context_choice"] = self._consider_long_context(req, decision, lc, llm)

        start = str(decision.route)
        if start == Route.LONG_CONTEXT and req.selection is None:
            req.selection, why = self._long_context_selection(req, lc, llm)
            if req.selection is None:
                notes.append(f"the long-context route was not used ({why}); answered by the easy pipeline")
                start = Route.EASY.value
        answer, runs, steps, stopped = self._run_chain(req, decision, pipes, llm, start)
        answer.notes = notes + answer.notes
        # every run's pipeline and trust/judge time counts, not only the kept run's (escalation costs time)
        for stage in ("generate", "judge"):
            answer.timings_ms[stage] = round(sum(r.timings_ms.get(stage, 0.0) for r in runs), 2)
        answer.timings_ms["route"] = round(route_ms, 2)
        per_run = [_run_trace(r) for r in runs]  # before the totals replace the kept run's own figures
        for r in runs:
            ledger.add_answer(r)
        answer = withhold_unsupported(ledger.apply(answer))
        answer.trace["route"] = decision.as_dict()
        answer.trace["pipelines_run"] = per_run
        answer.trace.update(extra)
        answer.trace["escalation"] = steps
        answer.trace["hits"] = [_hit_trace(h, req.ctx) for h in req.hits]
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
                texts = _cited_texts(answer, req.hits, req.ctx, _whole_pages(answer))
                self.online_eval.maybe_submit(req.ctx.tenant, answer, texts)
            except Exception:  # evaluation is best effort, never the user's problem
                log.exception("online evaluation submit failed")
        return answer

    # --- long context --------------------------------------------------------------------------
    def _long_context_selection(
        self, req: AnswerRequest, lc: LongContextPipeline | None, llm: LLMAnswerer
    ) -> tuple[Selection | None, str]:
        """The route asked for explicitly: its pages, or why it cannot run (offline, not scoped, ceiling)."""
        if lc is None:
            return None, "the long-context pipeline is not registered"
        if not llm.has_llm:
            return None, "it needs an LLM and none is available" + (" within the budget" if req.budget.no_llm else "")
        sel, why = lc.select(req.question, req.hits, req.scope, req.ctx)
        if sel is None:
            return None, why
        est = self.costs.long_context(sel, llm)
        ceiling = req.budget.ceiling_usd
        if ceiling is not None and est > ceiling:
            return None, f"estimated ${est:.4f} is over the ${ceiling:.4f} per-request ceiling"
        return sel, why

    def _consider_long_context(
        self, req: AnswerRequest, decision: RouteDecision, lc: LongContextPipeline, llm: LLMAnswerer
    ) -> tuple[RouteDecision, Selection | None, dict[str, Any]]:
        """Choose long context over retrieval by estimated cost and quality:

        - a metric the calculator computes from cited rows stays agentic (exact and usually free);
        - the filing already in the prompt cache: long context when its estimate is within
          `long_context_cost_ratio` x the retrieval answer's (a cache read costs 0.1x input);
        - questions that need reading around (why, risks, summarise): long context up to
          `long_context_max_usd`; that first call also warms the cache for the follow-ups.
        The per-request ceiling rules out anything estimated above it."""
        s = self.settings
        sel, why = lc.select(req.question, req.hits, req.scope, req.ctx)
        info: dict[str, Any] = {"eligible": sel is not None, "why": why}
        if sel is None:
            info["chosen"] = False
            return decision, None, info
        warm = self.prompt_cache.is_warm(sel.key)
        est_lc = self.costs.long_context(sel, llm)
        est_rag = self.costs.rag(req.question, req.hits, llm)
        reading = req.facts.needs_reading
        metric = req.facts.plan is not None
        info.update(
            tokens=sel.tokens,
            cache_warm=warm,
            est_usd=round(est_lc, 6),
            est_rag_usd=round(est_rag, 6),
            needs_reading=reading,
        )
        chosen, reason = False, ""
        ceiling = req.budget.ceiling_usd
        if ceiling is not None and est_lc > ceiling:
            reason = f"estimate ${est_lc:.4f} over the ${ceiling:.4f} per-request ceiling"
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

    # --- the escalation chain ---------------------------------------------------------------------
    def _run_step(self, step: str, req: AnswerRequest, pipes: dict[str, Pipeline], llm: LLMAnswerer) -> Answer:
        t0 = time.perf_counter()
        answer = pipes[step].run(req)
        t1 = time.perf_counter()
        sel = req.selection
        # the filing block went out with cache_control unless the answer came from the extractive fallback
        cached = llm.prompt_cache and answer.trace.get("answered_by") != "extractive"
        if step == Route.LONG_CONTEXT and sel is not None and cached:
            self.prompt_cache.mark_warm(sel.key)
        # the one trust score, as online evaluation computes it, before the verdict reads it
        answer = apply_trust(answer, req.facts, _cited_texts(answer, req.hits, req.ctx))
        if answer.unsupported_figures and req.ctx.read_page is not None:
            # a retrieved chunk is often part of its page: a figure the pipeline read from a row outside the
            # chunk is on the cited page all the same, so the whole pages are checked (only then: a read each)
            answer = apply_trust(answer, req.facts, _cited_texts(answer, req.hits, req.ctx, whole_pages=True))
            answer.trace["trust"]["whole_pages"] = True
        whole = _whole_pages(answer)
        if self.settings.judge_inline:
            answer = self._judging(req.question, answer, lambda a: _cited_texts(a, req.hits, req.ctx, whole))
        answer.timings_ms["generate"] = (t1 - t0) * 1000
        answer.timings_ms["judge"] = (time.perf_counter() - t1) * 1000
        return answer

    def _verdict(self, answer: Answer) -> Verdict:
        return Verdict.of(answer, self.settings.faithfulness_threshold)

    def _run_chain(
        self, req: AnswerRequest, decision: RouteDecision, pipes: dict[str, Pipeline], llm: LLMAnswerer, start: str
    ) -> tuple[Answer, list[Answer], list[dict[str, Any]], str | None]:
        """Run `start`, then escalate while the verdict is weak: easy -> agentic -> long context (or
        vision). An explicitly requested mode runs alone: no second pipeline, no second bill.
        Returns (answer kept, every run, the steps' trace, the step the ceiling stopped or None)."""
        s = self.settings
        t = time.perf_counter()
        first = self._run_step(start, req, pipes, llm)
        steps = [_step_trace(start, first, t)]
        runs = [first]
        best, best_v = first, self._verdict(first)
        stopped: str | None = None
        third = s.long_context or s.fallback_to_vision
        chain = {"easy": ["agentic", "third"], "agentic": ["third"]}.get(start, [])
        if best_v.good or not req.hits or decision.source == "override":
            return first, runs, steps, None
        why = best_v.why
        for nxt in chain:
            if best_v.good:
                break
            if nxt == "agentic" and not s.fallback_to_agentic:
                continue
            if nxt == "third":
                if not third:
                    continue
                nxt, skip = self._third_step(req, pipes, llm)
                if skip:
                    steps.append({"step": "long_context", "skipped": skip})
                    continue
            spent = sum(r.cost_usd for r in runs)
            est = self.costs.step(nxt, req.facts, req.hits, llm, req.selection)
            ceiling = req.budget.ceiling_usd
            if ceiling is not None and spent + est > ceiling:
                reason = (
                    f"the per-request ceiling of ${ceiling:.4f}: ${spent:.4f} spent, "
                    f"the {nxt} step is estimated at ${est:.4f}"
                )
                steps.append({"step": nxt, "skipped": reason, "est_usd": round(est, 6)})
                stopped = nxt
                best.notes.append(f"not escalated to the {nxt} pipeline: {reason}")
                break
            t = time.perf_counter()
            r = self._run_step(nxt, req, pipes, llm)
            steps.append({**_step_trace(nxt, r, t), "est_usd": round(est, 6)})
            runs.append(r)
            v = self._verdict(r)
            if v.rank > best_v.rank:  # a tie keeps the earlier (cheaper) answer
                best, best_v = r, v
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

    def _third_step(self, req: AnswerRequest, pipes: dict[str, Pipeline], llm: LLMAnswerer) -> tuple[str, str]:
        """Long context when it applies, else vision when enabled: (step, skip reason). Sets the
        request's long-context selection when it chooses long context."""
        why = "disabled"
        lc = pipes.get("long_context")
        if self.settings.long_context:
            if not llm.has_llm:
                why = "no LLM available"
            elif isinstance(lc, LongContextPipeline):
                if req.selection is None:
                    req.selection, why = lc.select(req.question, req.hits, req.scope, req.ctx)
                if req.selection is not None:
                    return "long_context", ""
        if self.settings.fallback_to_vision and llm.has_llm:
            return "vision", ""
        return ("long_context" if self.settings.long_context else "vision"), why


def _run_trace(r: Answer) -> dict[str, Any]:
    return {
        "pipeline": r.pipeline,
        "faithfulness": r.faithfulness,
        "supported": r.supported,
        "unsupported_figures": list(r.unsupported_figures),
        "answered_by": r.trace.get("answered_by"),
        "cost_usd": r.cost_usd,
        "prompt": r.trace.get("prompt"),
    }


def _step_trace(step: str, a: Answer, started: float) -> dict[str, Any]:
    return {
        "step": step,
        "pipeline": a.pipeline,
        "faithfulness": a.faithfulness,
        "supported": a.supported,
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


def _whole_pages(answer: Answer) -> bool:
    """The inline trust score read the cited pages whole: online evaluation and the judge read the same."""
    return bool(answer.trace.get("trust", {}).get("whole_pages"))


def _cited_texts(answer: Answer, hits: list[Hit], ctx: TenantContext, whole_pages: bool = False) -> dict[str, str]:
    """Page texts of the answer's citations, from the hits in memory (quotes when a page is not); with
    `whole_pages`, each cited page as the store holds it as well (`ctx.read_page`)."""
    by_label: dict[str, str] = {}
    for h in hits:
        label = source_label(hit_doc_name(h, ctx.doc_names), h.chunk.page_start)
        by_label[label] = by_label.get(label, "") + ("\n" if label in by_label else "") + h.chunk.text
    out: dict[str, str] = {}
    for c in answer.citations:
        label = page_label(c.doc_name, c.page)
        if label in out:
            continue
        text = by_label.get(label, "")
        if whole_pages and ctx.read_page is not None:
            try:
                text = "\n".join(t for t in (text, ctx.read_page(c.doc_id, c.page - 1)) if t)
            except Exception as e:  # a missing page leaves the chunks at hand
                log.warning("read_page %s p%s failed: %s", c.doc_id, c.page, e)
        out[label] = text or c.quote
    return out
