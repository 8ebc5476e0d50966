"""Dense sentence embedders (torch reference, onnxruntime fp32 / int8) and their factory."""

from finrag.embed.factory import build_embedder
from finrag.embed.minilm import BucketedEmbedder, OnnxEmbedder, SentenceTransformerEmbedder, available_cores
from finrag.embed.model_files import ModelNotFoundError, ModelSpec, load_model_spec, resolve_model_dir
from finrag.embed.onnx_export import ExportDependencyError, ensure_onnx

__all__ = [
    "BucketedEmbedder",
    "ExportDependencyError",
    "ModelNotFoundError",
    "ModelSpec",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "available_cores",
    "build_embedder",
    "ensure_onnx",
    "load_model_spec",
    "resolve_model_dir",
]
