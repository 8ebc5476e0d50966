"""Pick the embedder implementation once, from settings."""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING

from finrag.embed.minilm import (
    BucketedEmbedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    TorchBf16Embedder,
    cpu_has_amx_bf16,
)
from finrag.embed.remote import OpenAIEmbedder

if TYPE_CHECKING:
    from finrag.settings import Settings

log = logging.getLogger(__name__)
LOCAL_EMBEDDERS = ("onnx-int8", "onnx", "torch")
# `auto` loads the bf16 model for a run of at least this many PDF pages, where it pays for itself: loading
# torch and the model added 3.2-3.9 s to a one-filing `finrag ingest`, and bf16 saved 7.4 ms a page over the
# 74 FinanceBench filings (docs/performance.md, "Ingest: documents embedded in bfloat16 on AMX").
BF16_MIN_PAGES = 500


def build_embedder(settings: Settings) -> BucketedEmbedder | OpenAIEmbedder:
    """onnx-int8 (default: fastest on CPU), onnx (fp32), torch (reference) or openai (a remote
    OpenAI-compatible endpoint). Nothing is loaded yet."""
    if settings.embedder == "openai":
        if not settings.embedding_model:
            raise ValueError("FINRAG_EMBEDDER=openai needs FINRAG_EMBEDDING_MODEL (e.g. text-embedding-3-large)")
        return OpenAIEmbedder(
            settings.embedding_model,
            settings.embedding_dim,
            base_url=settings.embedding_base_url or None,
            api_key=settings.embedding_api_key or None,
            batch_size=settings.embed_batch_size,
        )
    common = {
        "batch_size": settings.embed_batch_size,
        "threads": settings.embed_threads,
        "device": settings.device,
    }
    if settings.embedder == "torch":
        return SentenceTransformerEmbedder(settings.embedding_model, **common)  # type: ignore[arg-type]
    if settings.embedder in ("onnx", "onnx-int8"):
        return OnnxEmbedder(
            settings.embedding_model,
            int8=settings.embedder == "onnx-int8",
            cache_dir=settings.cache_dir / "models",
            **common,  # type: ignore[arg-type]
        )
    raise ValueError(f"unknown embedder {settings.embedder!r} (onnx-int8, onnx, torch, openai)")


def build_ingest_embedder(settings: Settings) -> TorchBf16Embedder | None:
    """The embedder for documents at ingest when it differs from the one questions use (None: the same).
    Chosen by `auto`, it embeds runs of at least BF16_MIN_PAGES pages, and every run once loaded.

    Ingest embeds tens of thousands of passages, where bf16 on AMX tiles runs ~1.5x ONNX int8; a question is
    one short text, where ONNX int8 is faster and keeps torch (~390 MB with the model) out of a serving
    process. Both run the same weights, so their vectors share one space (the index manifest records the
    model)."""
    choice = settings.ingest_embedder
    if choice == "same":
        return None
    local = settings.embedder in LOCAL_EMBEDDERS
    if choice == "auto":
        has_torch = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
        if not (local and settings.device == "cpu" and has_torch and cpu_has_amx_bf16()):
            return None
        log.info("ingest embedder: torch-bf16 (the CPU has AMX; FINRAG_INGEST_EMBEDDER=auto)")
    elif not local:
        raise ValueError(
            f"FINRAG_INGEST_EMBEDDER={choice} runs the local model; FINRAG_EMBEDDER={settings.embedder} is remote: "
            "set FINRAG_INGEST_EMBEDDER=same"
        )
    elif settings.device == "cuda":
        raise ValueError("FINRAG_INGEST_EMBEDDER=torch-bf16 is a CPU path; with FINRAG_DEVICE=cuda set it to same")
    return TorchBf16Embedder(
        settings.embedding_model, batch_size=settings.embed_batch_size, threads=settings.embed_threads
    )
