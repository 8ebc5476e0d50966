"""Pick the embedder implementation once, from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from finrag.embed.minilm import BucketedEmbedder, OnnxEmbedder, SentenceTransformerEmbedder

if TYPE_CHECKING:
    from finrag.settings import Settings


def build_embedder(settings: Settings) -> BucketedEmbedder:
    """onnx-int8 (default: fastest on CPU), onnx (fp32) or torch (reference). Nothing is loaded yet."""
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
    raise ValueError(f"unknown embedder {settings.embedder!r} (onnx-int8, onnx, torch)")
