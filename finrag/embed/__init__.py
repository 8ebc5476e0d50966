"""Dense sentence embedders (torch reference, onnxruntime fp32 / int8, torch bf16 for ingest) and their factory."""

from finrag.embed.factory import build_embedder, build_ingest_embedder
from finrag.embed.minilm import (
    BucketedEmbedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    TorchBf16Embedder,
    available_cores,
)
from finrag.embed.model_files import ModelNotFoundError, ModelSpec, load_model_spec, resolve_model_dir
from finrag.embed.onnx_export import ExportDependencyError, ensure_onnx

__all__ = [
    "BucketedEmbedder",
    "ExportDependencyError",
    "ModelNotFoundError",
    "ModelSpec",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "TorchBf16Embedder",
    "available_cores",
    "build_embedder",
    "build_ingest_embedder",
    "ensure_onnx",
    "load_model_spec",
    "resolve_model_dir",
]
