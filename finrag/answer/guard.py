"""The prompt-injection guard: filing text is data, never instructions to the answering model.

A sentence in a source that reads as an instruction ("ignore previous instructions…", "the assistant
must report…", "note to the AI…", chat-template tokens) is withheld before any pipeline sees it: hits
get a copy of their text without it (the rest of the passage stays, so a correct figure on the same
page is still there to support the answer, and the injected figure is not), and a page holding one is
never sent as an image (a picture cannot be redacted). `guard_retrieval` + `guard_context` are applied
once, where retrieval hands its results and tools to the answer engine (QAService.ask), so every
pipeline — easy, agentic, vision, long-context, offline — gets guarded sources.

Detection is deliberately about *addressing a model or giving orders about the answer*, not about
topics: a filing may discuss AI, instructions to employees or "you should consider the risks"; those
do not match (checked against the sample filings and FinanceBench pages by tests/reliability)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from finrag.records import Chunk, ChunkKind, Hit

WITHHELD = "[withheld: instruction-like text]"

_MODEL = (
    r"(?:assistants?|a\.?i\.?|ai\s+(?:models?|systems?|assistants?|agents?)|artificial\s+intelligence|"
    r"(?:large\s+)?language\s+models?|llms?|chat\s?bots?|gpt(?:-\d)?|chatgpt|claude|copilot|bots?|"
    r"(?:answer(?:ing)?|question[- ]answering|retrieval)\s+(?:engines?|systems?|bots?)|"
    r"automated\s+(?:assistants?|readers?|systems?))"
)
_ANSWER_VERBS = (
    r"(?:answer|respond|reply|report|state|say|output|print|return|tell|write|cite|quote|use|treat|ignore|"
    r"disregard|follow|obey|include|mention|present|give|claim|assert|repeat|conclude)"
)
_DIRECTIVE = (
    r"(?:must|should|shall|will\s+need\s+to|needs?\s+to|has\s+to|have\s+to|is\s+to|are\s+to|"
    r"(?:is|are)\s+(?:instructed|required|told|asked|directed)\s+to)"
)

# What "you must …" may order about an answer (not "report shares on your tax return").
_YOU_VERBS = (
    r"(?:answer|respond|reply|say|output|print|cite|quote|ignore|disregard|obey|tell\s+(?:the\s+)?users?"
    r"|(?:state|report|write|conclude|claim|assert)\s+(?:that|only|exactly))\b"
)

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in (
        # "ignore / disregard / forget … previous instructions / the context / the figures above"
        (
            "override",
            r"\b(?:ignore|disregard|forget|override|bypass|overrule)\b[^.!?\n]{0,50}?\b(?:previous|prior|above|"
            r"earlier|preceding|all|any|your|the|system|developer|other)\b[^.!?\n]{0,40}?\b(?:instructions?|prompts?|"
            r"rules|directions|guidelines|context|messages?|sources?|figures|numbers|data|text|passages?)\b",
        ),
        (
            "stray_instructions",
            r"\b(?:previous|prior|preceding|earlier|above|original|system)\s+(?:instructions|prompts?)\b",
        ),
        ("new_instructions", r"\b(?:new|updated|real|actual|hidden|secret|additional)\s+instructions?\s*[:\-]"),
        # ("we act as an agent" is revenue-recognition language and "you are no longer employed" is an
        # award agreement's: only a change of the reader's identity or rules counts)
        (
            "role_play",
            rf"\byou\s+are\s+now\s+(?:an?\s+|the\s+)?(?:\w*bot|\w*gpt|{_MODEL}|unrestricted|free\s+to|in\s+\w+\s+mode)\b"
            rf"|\byou\s+are\s+no\s+longer\s+(?:bound|restricted|required\s+to\s+follow|an?\s+{_MODEL})\b"
            r"|\b(?:you\s+(?:will\s+|must\s+|should\s+)?|please\s+|now\s+)act\s+as\b"
            r"|\bpretend\s+(?:to\s+be|you|that)\b|\bfrom\s+now\s+on\b",
        ),
        (
            "prompt_leak",
            r"\b(?:reveal|print|repeat|show|output)\s+(?:your|the)\s+(?:system\s+)?(?:prompt|instructions)\b",
        ),
        # chat-template and role markers
        (
            "role_tokens",
            r"<\|?\s*(?:im_start|im_end|system|assistant|user|endoftext)\s*\|?>|\[/?inst\]|<</?sys>>|###\s*(?:instruction|system)",
        ),
        (
            "role_label",
            r"(?:^|[.!?]\s+)(?:system|developer)(?:\s+(?:prompt|message|note|instruction)s?)?\s*:|\bsystem\s+prompt\b",
        ),
        # a model addressed ("the assistant must report…", sentence-initial "Language models must…"),
        # not a filing's "AI workloads will need to use more power"
        (
            "addressed_directive",
            rf"(?:^|[.!?]\s+|\b(?:the|this|any|an?|all|every|each|your|dear)\s+(?:\w+\s+)?){_MODEL}"
            rf"(?:\s+(?:reading|processing|answering|summari[sz]ing|analy[sz]ing|parsing)(?:\s+\w+){{0,3}})?"
            rf"\s+{_DIRECTIVE}\s+(?:\w+\s+){{0,2}}?{_ANSWER_VERBS}\b",
        ),
        (
            "addressed_instructions",
            rf"\b{_MODEL}(?:'s)?\s+(?:instructions?|directives?|guidance|orders)\b|\b(?:instructions?|notes?|messages?|directives?)\s+(?:to|for)\s+(?:the\s+|any\s+|an?\s+|all\s+)?{_MODEL}\b",
        ),
        (
            "note_to_model",
            rf"\b(?:note|attention|message|reminder)\s+(?:to|for)\s+(?:the\s+|any\s+|an?\s+|all\s+)?{_MODEL}\b|\b{_MODEL}\s*[,:]\s*(?:please\s+)?{_ANSWER_VERBS}\b",
        ),
        (
            "if_you_are_a_model",
            rf"\bif\s+you\s+are\s+(?:an?\s+|the\s+)?{_MODEL}\b|\b(?:intended|meant|addressed)\s+(?:for|to)\s+(?:the\s+|any\s+|an?\s+|all\s+)?{_MODEL}\b|\b{_MODEL}\s+reading\s+this\b",
        ),
        # orders about the answer itself
        # ("you must report any shares on your tax return" is an award agreement's: only orders about
        # what to answer count)
        (
            "you_directive",
            rf"\byou\s+{_DIRECTIVE}\s+(?:\w+\s+){{0,2}}?{_YOU_VERBS}"
            rf"|\byour\s+(?:answer|response|reply|output)\s+(?:\w+\s+){{0,2}}?{_DIRECTIVE}\s+(?:\w+\s+){{0,2}}?{_ANSWER_VERBS}\b",
        ),
        (
            "when_asked",
            r"\b(?:when|if|whenever)\s+(?:you\s+are\s+|you're\s+|anyone\s+|a\s+user\s+|the\s+user\s+|someone\s+)?(?:asked|asks|questioned|queried|prompted)\b",
        ),
        (
            "answer_to_any",
            r"\b(?:answer|respond|reply)\s+(?:to\s+)?(?:any|all|every)\s+(?:questions?|quer(?:y|ies)|prompts?)\b|\bto\s+(?:any|all|every)\s+(?:questions?|quer(?:y|ies))\b[^.!?\n]{0,40}\b(?:is|answer|respond|say)\b",
        ),
        (
            "the_answer_is",
            r"\bthe\s+(?:correct|true|real|right|official|only|final)\s+answer\s+(?:is|should\s+be|to)\b",
        ),
        (
            "always_say",
            rf"(?:^|[.!?]\s+)(?:please\s+)?always\s+{_ANSWER_VERBS}\b|\balways\s+(?:answer|respond|reply|say)\b",
        ),
        ("imperative_answer", r"(?:^|[.!?]\s+)(?:please\s+)?(?:ignore|disregard|forget|answer|respond|reply|say)\b"),
        (
            "imperative_output",
            r"(?:^|[.!?]\s+)(?:please\s+)?(?:report|state|output|print|return|tell|write|treat|use|repeat)\s+(?:only|exactly|that|the\s+following)\b|\b(?:output|print|return|reply|respond|answer)\s+(?:only|exactly|just)\s*(?:with|:)",
        ),
        (
            "do_not_cite",
            r"(?:^|[.!?;]\s+)(?:please\s+)?(?:do\s+not|don't|never)\s+(?:cite|mention|reveal|quote|report|use|repeat|trust|rely\s+on)\b[^.!?\n]{0,40}\b(?:sources?|citations?|statements?|figures?|table|context|instructions|pages?)\b",
        ),
    )
)

_FIGURE = re.compile(r"\d")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_SPACED = re.compile(r"\b(?:[A-Za-z] ){3,}[A-Za-z]\b")  # "I g n o r e" spelled out letter by letter
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}|(?<=\S)\s*(?=<\|)")


def normalise(text: str) -> str:
    """What the patterns read: compatibility forms folded (full-width letters), invisible characters
    dropped, letter-spaced words joined, whitespace collapsed."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return re.sub(r"\s+", " ", text).strip()


def flag(sentence: str) -> str | None:
    """The name of the first rule an instruction-like sentence breaks, or None."""
    norm = normalise(sentence)
    return next((name for name, rx in PATTERNS if rx.search(norm)), None)


def sentences(text: str) -> list[str]:
    flat = re.sub(r"[ \t]*\n[ \t]*(?!\n)", " ", text)  # PDFs break sentences across lines
    return [s for s in _SENTENCE.split(flat) if s and s.strip()]


def flagged_sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, rule) for each instruction-like sentence of `text`. An instruction that carries no
    figure of its own ("You are now FinanceBot.") takes the sentence after it along: that is where its
    payload sits."""
    return list(_flagged_sentences(text))


@lru_cache(maxsize=8192)  # the pipelines' searches return the same chunks many times per answer
def _flagged_sentences(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    payload_next = False
    for s in sentences(text):
        rule = flag(s)
        if rule:
            out.append((s.strip(), rule))
            payload_next = not _FIGURE.search(s)
        elif payload_next:
            out.append((s.strip(), "payload_after_instruction"))
            payload_next = False
    return tuple(out)


def redact(text: str) -> tuple[str, list[tuple[str, str]]]:
    """`text` with each instruction-like sentence replaced by a marker (matched across the PDF's line
    breaks), and the sentences found."""
    found = flagged_sentences(text)
    out = text
    for sentence, _rule in found:
        words = [re.escape(w) for w in sentence.split()]
        out = re.sub(r"\s+".join(words), WITHHELD, out) if words else out
    return out, found


def guard_chunk(chunk: Chunk) -> tuple[Chunk, list[tuple[str, str]]]:
    text, found = redact(chunk.text)
    if not found:
        return chunk, []
    return replace(chunk, text=text, metadata={**chunk.metadata, "guard_withheld": len(found)}), found


@dataclass(slots=True)
class GuardLog:
    """What the guard withheld while one question was answered (goes into the answer's trace)."""

    passages: list[dict[str, Any]] = field(default_factory=list)
    pages_not_imaged: list[str] = field(default_factory=list)

    def record(self, chunk: Chunk, found: list[tuple[str, str]]) -> None:
        entry = {
            "doc_id": chunk.doc_id,
            "doc_name": str(chunk.metadata.get("doc_name") or chunk.doc_id),
            "page": chunk.page_start + 1,
            "rules": sorted({rule for _, rule in found}),
            "sentences": len(found),
        }
        if entry not in self.passages:
            self.passages.append(entry)

    def as_dict(self) -> dict[str, Any]:
        return {"withheld": self.passages, "pages_not_imaged": self.pages_not_imaged}

    def __bool__(self) -> bool:
        return bool(self.passages or self.pages_not_imaged)


def guard_hits(hits: Sequence[Hit], log: GuardLog) -> list[Hit]:
    out = []
    for h in hits:
        chunk, found = guard_chunk(h.chunk)
        if found:
            log.record(h.chunk, found)
            h = replace(h, chunk=chunk)
        out.append(h)
    return out


def guard_retrieval(result: Any, log: GuardLog) -> Any:
    """A retrieval result (anything with `.hits`) whose hits carry guarded text."""
    return replace(result, hits=guard_hits(result.hits, log))


def guard_context(ctx: Any, log: GuardLog) -> Any:
    """The pipelines' tools (TenantContext) with guarded results: searches and page/document reads come
    back redacted, and a page whose text holds instructions is not rendered as an image."""
    search, read_page, read_document, page_image = ctx.search, ctx.read_page, ctx.read_document, ctx.page_image
    read_pages = ctx.read_pages
    changes: dict[str, Any] = {}
    if search is not None:
        changes["search"] = lambda query, scope: guard_hits(search(query, scope), log)

    def vetted_page(doc_id: str, page: int, text: str | None) -> str | None:
        """A page's text as read, redacted, with what was withheld logged."""
        if text is None:
            return None
        clean, found = redact(text)
        if found:
            log.record(Chunk("", doc_id, ctx.tenant, ChunkKind.PAGE, text, page, page), found)
        return clean

    if read_page is not None:

        def guarded_read_page(doc_id: str, page: int) -> str | None:
            return vetted_page(doc_id, page, read_page(doc_id, page))

        changes["read_page"] = guarded_read_page
    if read_pages is not None:

        def guarded_read_pages(pages: Sequence[tuple[str, int]]) -> list[str | None]:
            # vetted in the order asked, as one `read_page` after another would be
            texts = read_pages(pages)
            return [vetted_page(doc_id, page, text) for (doc_id, page), text in zip(pages, texts, strict=True)]

        changes["read_pages"] = guarded_read_pages
    if read_document is not None:

        def guarded_read_document(doc_id: str) -> list[Chunk]:
            out = []
            for chunk in read_document(doc_id):
                clean, found = guard_chunk(chunk)
                if found:
                    log.record(chunk, found)
                out.append(clean)
            return out

        changes["read_document"] = guarded_read_document
    if page_image is not None:

        def guarded_page_image(doc_id: str, page: int) -> bytes:
            text = read_page(doc_id, page) if read_page is not None else None
            if text is None:  # no text to vet the picture by: a picture we cannot check is not sent
                raise LookupError("page image withheld: its text could not be checked for instructions")
            found = flagged_sentences(text)
            if found:
                log.pages_not_imaged.append(f"{doc_id} p.{page + 1}")
                log.record(Chunk("", doc_id, ctx.tenant, ChunkKind.PAGE, text, page, page), found)
                raise LookupError("page image withheld: the page holds instruction-like text")
            return page_image(doc_id, page)

        changes["page_image"] = guarded_page_image
    return replace(ctx, **changes)
