"""Turning a generation into an `Answer`: citations with focused quotes, numeric + lexical
faithfulness, usage and cost."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from finrag.answer.ledger import Ledger
from finrag.answer.llm_answerer import Generation
from finrag.answer.support import Faithfulness, claim_sentences, redact_hits, score_answer
from finrag.finance.calculator import CalcStep
from finrag.finance.metrics import CALC_VOCABULARY
from finrag.finance.text import CITATION, page_label
from finrag.finance.words import search_terms
from finrag.records import Answer, AnswerKind, Citation, Hit, Scope

_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")


def refine_quotes(answer_text: str, citations: Sequence[Citation], sources: Mapping[str, str]) -> list[Citation]:
    """Quote, for each citation, the source line that best supports the sentences citing it (shared
    terms, and the answer's figures found on the line) instead of the chunk's first characters."""
    sentences: dict[str, list[str]] = {}
    for raw in re.split(r"(?<=[.!?])\s+|\n+", answer_text):
        for m in CITATION.finditer(raw):
            for part in re.split(r"[;,]", m.group(1)):
                sentences.setdefault(part.strip().lower(), []).append(raw)
    out: list[Citation] = []
    for c in citations:
        label = page_label(c.doc_name, c.page)
        text = sources.get(label)
        said = " ".join(sentences.get(label.lower(), [])) or answer_text
        if not text:
            out.append(c)
            continue
        terms = search_terms(said)
        figures = {f.replace(",", "") for f in _FIGURE.findall(CITATION.sub(" ", said)) if len(f) > 1}
        best, best_score = "", 0.0
        for line in (ln.strip() for ln in re.split(r"\n|(?<=[.!?])\s+", text)):
            if len(line) < 3:
                continue
            score = len(terms & search_terms(line)) + 2.0 * len(
                figures & {f.replace(",", "") for f in _FIGURE.findall(line)}
            )
            if score > best_score:
                best, best_score = line, score
        out.append(c.model_copy(update={"quote": best[:300]}) if best else c)
    return out


def faithfulness_of(
    question: str, gen: Generation, calculations: Sequence[CalcStep] = (), ignore: frozenset[str] = frozenset()
) -> tuple[float, bool, dict[str, Any], list[str]]:
    """(score, supported, trace dict, unsupported figures) of a generation. With calculations, metric
    names ("working capital") are not expected on the pages."""
    return _faithfulness_of(question, gen, calculations, (CALC_VOCABULARY | ignore) if calculations else ignore)


def _faithfulness_of(
    question: str, gen: Generation, calculations: Sequence[CalcStep], ignore: frozenset[str]
) -> tuple[float, bool, dict[str, Any], list[str]]:
    if gen.offline:
        ans = gen.offline_answer
        # Extractive lines are verbatim quotes of their cited pages: nothing in them is unsupported.
        matched = ans is not None and bool(ans.citations) and not any("no sentence matched" in n for n in ans.notes)
        score = 1.0 if matched else 0.0
        return score, matched, {"score": score, "verbatim_quotes": True}, []
    sources = gen.cited_sources or gen.sources
    f: Faithfulness = score_answer(
        gen.text, sources, calculations, question=question, cited=bool(gen.citations), ignore_words=ignore
    )
    return f.score, f.supported_answer, f.to_dict(), f.unsupported_figures


def _kind_of(gen: Generation) -> AnswerKind:
    """A model's answer is text; offline, the extractive answer says what it is (excerpts, yes/no, refusal)."""
    if not gen.offline:
        return AnswerKind.TEXT
    return gen.offline_answer.kind if gen.offline_answer is not None else AnswerKind.EXCERPTS


def finish(
    question: str,
    scope: Scope,
    gen: Generation,
    *,
    pipeline: str,
    calculations: Sequence[CalcStep] = (),
    ledger: Ledger | None = None,
    trace: dict[str, Any] | None = None,
    hits: Sequence[Hit] = (),
    ignore_words: frozenset[str] = frozenset(),
    kind: AnswerKind | None = None,
) -> Answer:
    """An `Answer` from a generation: citations with focused quotes, numeric + lexical faithfulness,
    usage and cost (of every call in `ledger`, else of this generation). `kind` defaults to excerpts
    for the offline quotes and to text for a model's answer."""
    score, supported, fdict, unsupported = faithfulness_of(question, gen, calculations, ignore_words)
    citations = gen.citations if gen.offline else refine_quotes(gen.text, gen.citations, gen.sources)
    notes = list(gen.notes)
    if unsupported:
        notes.append("figures not found on the cited pages: " + ", ".join(unsupported))
    if not gen.offline and not gen.citations and claim_sentences(gen.text) != []:
        notes.append("the answer cites no source")
    answer = Answer(
        question=question,
        text=gen.text,
        kind=kind or _kind_of(gen),
        citations=citations,
        pipeline=pipeline,
        scope=scope,
        faithfulness=round(score, 4),
        supported=supported,
        unsupported_figures=unsupported,
        notes=notes,
        trace={
            **(trace or {}),
            "answered_by": f"{gen.provider}:{gen.model}" if not gen.offline else "extractive",
            "faithfulness": fdict,
        },
    )
    if calculations:
        answer.trace["calculations"] = [s.model_dump(mode="json") for s in calculations]
    elif gen.offline and gen.offline_answer is not None and gen.offline_answer.trace.get("calculations"):
        # an offline comparison's changes between cited cells: the trust score checks them as calculations
        answer.trace["calculations"] = gen.offline_answer.trace["calculations"]
    if gen.prompt:
        answer.trace["prompt"] = gen.prompt
    flags = gen.injection_flags or (redact_hits(hits)[1] if hits else [])
    if flags:
        answer.trace["injection_flags"] = flags
    if ledger is None:
        ledger = Ledger()
        ledger.add(gen.response, pipeline)
    return ledger.apply(answer)
