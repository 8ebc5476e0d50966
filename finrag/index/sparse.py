"""BM25 sparse vectors computed on our side (so the same vectors go to Qdrant edge and server).

Qdrant applies the IDF modifier at query time; we send term frequencies (documents) and unit
weights (queries) from qdrant-edge's built-in English BM25 tokenizer/stemmer."""

from __future__ import annotations

import qdrant_edge as q


class Bm25Encoder:
    def __init__(self, avg_len: float = 180.0) -> None:
        # avg_len near our child chunk length in words, so length normalisation is centred.
        self._model = q.Bm25(q.Bm25Config(avg_len=avg_len, language="english"))

    def embed_document(self, text: str) -> q.SparseVector:
        return self._model.embed_document(text)

    def embed_query(self, text: str) -> q.SparseVector:
        return self._model.embed_query(text)
