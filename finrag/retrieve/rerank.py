"""Rerankers: a cheap built-in one that works offline, a cross-encoder for users who have one, and the
cross-encoder as a service (`finrag rerank-server`, on a GPU box) reached over HTTP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from finrag.finance.words import search_terms
from finrag.records import Hit
from finrag.retrieve.statements import is_statement_page, statements_asked

log = logging.getLogger(__name__)


class LexicalReranker:
    """Field-aware lexical reranker: keeps the retrieval order as the main signal and adds evidence a
    bi-encoder misses — coverage of the question's terms on the whole page, the financial statement
    the question implies, and whether the page reports the fiscal year asked about."""

    def __init__(
        self,
        coverage_weight: float = 1.0,
        statement_weight: float = 0.6,
        year_weight: float = 0.3,
    ) -> None:
        self.coverage_weight = coverage_weight
        self.statement_weight = statement_weight
        self.year_weight = year_weight

    def warm_up(self) -> None:
        return None

    def rerank(
        self,
        question: str,
        hits: list[Hit],
        top_k: int,
        page_texts: dict[str, str] | None = None,
        expansions: Sequence[str] = (),
        years: Sequence[int] = (),
    ) -> list[Hit]:
        if not hits:
            return []
        q_terms = search_terms(question)
        x_terms = search_terms(" ".join(expansions)) - q_terms
        wanted = statements_asked(question)
        n = len(hits)
        scored: list[tuple[float, Hit]] = []
        for rank, hit in enumerate(hits):
            text = (page_texts or {}).get(hit.chunk.parent_id or hit.chunk.id, hit.chunk.text)
            terms = search_terms(text)
            cov = len(q_terms & terms) / max(len(q_terms), 1)
            xcov = len(x_terms & terms) / max(len(x_terms), 1) if x_terms else 0.0
            statement = any(is_statement_page(text, st, hit.chunk.section) for st in wanted)
            year = any(str(y) in text for y in years) if years else False
            base = 1.0 - rank / n  # retrieval order, 1 .. ~0
            score = (
                base
                + self.coverage_weight * (0.7 * cov + 0.3 * xcov)
                + self.statement_weight * statement
                + self.year_weight * year
            )
            scored.append((score, hit))
        scored.sort(key=lambda s: -s[0])
        return [Hit(chunk=h.chunk, score=s, source=h.source) for s, h in scored[:top_k]]


class CrossEncoderReranker:
    """sentence-transformers CrossEncoder (default BAAI/bge-reranker-v2-m3, loaded from the hub cache
    or a local path). Heavy: loaded in warm_up(), never at import."""

    def __init__(self, model: str = "BAAI/bge-reranker-v2-m3", device: str = "cpu", max_length: int = 512) -> None:
        self.model_name = model
        self.device = device
        self.max_length = max_length
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(self.model_name, device=self.device, max_length=self.max_length)
        log.info("cross-encoder loaded", extra={"model": self.model_name})

    def rerank(self, question: str, hits: list[Hit], top_k: int, page_texts: dict[str, str] | None = None,
               **_: object) -> list[Hit]:  # fmt: skip
        if not hits:
            return []
        self.warm_up()
        assert self._model is not None
        pairs = [(question, (page_texts or {}).get(h.chunk.parent_id or h.chunk.id, h.chunk.text)) for h in hits]
        scores = self._model.predict(pairs, batch_size=16, show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
        # Single-logit rerankers come out of predict() already through a sigmoid: scores in (0, 1).
        return [Hit(chunk=hits[i].chunk, score=float(scores[i]), source="cross-encoder") for i in order[:top_k]]


class RemoteReranker:
    """The Reranker role over HTTP: `POST {url}/rerank` of a `finrag rerank-server`
    ({query, documents, top_k} -> {results: [{index, score}]}).

    Never fails a question: when the service is down, slow or answers nonsense, the `fallback` reranker
    (the offline lexical one unless told otherwise) ranks the hits instead — logged, counted in
    `failures`, the reason in `last_error` — and for `cooldown_s` the service is not asked again (the
    fallback answers), so a dead reranker does not add its timeout to every query."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        max_chars: int = 4_000,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        fallback: LexicalReranker | NoopReranker | None = None,
    ) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_chars = max_chars  # the model truncates at 512 tokens anyway; no point sending whole pages
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.fallback = fallback if fallback is not None else LexicalReranker()
        self.failures = 0
        self.last_error = ""
        self.model = ""
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)))

    @property
    def endpoint(self) -> str:
        return self.url if self.url.endswith("/rerank") else f"{self.url}/rerank"

    def warm_up(self) -> None:
        return None  # the service loads its model; a probe here would only slow start-up down

    def close(self) -> None:
        self._client.close()

    def _fallback(self, why: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = why
            self._down_until = self.clock() + self.cooldown_s
        log.warning(
            "remote reranker unavailable, ranking with the %s reranker for %.0f s: %s",
            type(self.fallback).__name__,
            self.cooldown_s,
            why,
            extra={"url": self.url},
        )

    def rerank(self, question: str, hits: list[Hit], top_k: int, page_texts: dict[str, str] | None = None,
               **kw: Any) -> list[Hit]:  # fmt: skip
        if not hits:
            return []

        def fallback() -> list[Hit]:
            return self.fallback.rerank(question, hits, top_k, page_texts=page_texts, **kw)

        if self.clock() < self._down_until:
            return fallback()  # cooling down after a failure
        docs = [(page_texts or {}).get(h.chunk.parent_id or h.chunk.id, h.chunk.text)[: self.max_chars] for h in hits]
        try:
            r = self._client.post(self.endpoint, json={"query": question, "documents": docs, "top_k": len(docs)})
            r.raise_for_status()
            body = r.json()
            results = [(int(x["index"]), float(x["score"])) for x in body["results"]]
        except Exception as e:  # connection refused, timeout, 5xx, a body that is not ours
            self._fallback(f"{type(e).__name__}: {str(e)[:200]}")
            return fallback()
        if not results or any(not 0 <= i < len(hits) for i, _ in results):
            self._fallback("the service returned indices outside the documents sent")
            return fallback()
        self.model = str(body.get("model", ""))
        seen = {i for i, _ in results}
        out = [Hit(chunk=hits[i].chunk, score=score, source="remote-rerank") for i, score in results]
        out += [h for i, h in enumerate(hits) if i not in seen]  # anything it left out keeps its order, last
        return out[:top_k]


class NoopReranker:
    """The `rerank = "none"` setting: keeps the retrieval order (the ablation baseline), so callers
    always have a reranker to call."""

    def warm_up(self) -> None:
        return None

    def rerank(self, question: str, hits: list[Hit], top_k: int, **_: object) -> list[Hit]:
        return hits[:top_k]


def build_reranker(
    rerank: str, cross_encoder_model: str, url: str | None = None
) -> NoopReranker | LexicalReranker | CrossEncoderReranker | RemoteReranker:
    """The Reranker for a `rerank` setting: none (retrieval order), lexical (offline default),
    cross-encoder (in process) or remote (a `finrag rerank-server` at `url`)."""
    if rerank == "none":
        return NoopReranker()
    if rerank == "lexical":
        return LexicalReranker()
    if rerank == "cross-encoder":
        return CrossEncoderReranker(cross_encoder_model)
    if rerank == "remote":
        if not url:
            raise ValueError("rerank 'remote' needs the reranker service's URL (FINRAG_RETRIEVAL_RERANK_URL)")
        return RemoteReranker(url)
    raise ValueError(f"unknown rerank setting {rerank!r}: none, lexical, cross-encoder or remote")
