"""Sentence embedders: a torch reference, the onnxruntime one queries use, and a bfloat16 torch one for
bulk document embedding on CPUs with AMX tiles.

Both share the batching front end: identical texts are embedded once, texts are sorted by word-piece
length so each batch pads to nearly its own length (ragged batches waste most of their FLOPs on
padding), and the original order is restored at the end. Constructors only read small config
files; the model is loaded (and exported to ONNX the first time) in `warm_up()`, which `embed_*`
call lazily."""

from __future__ import annotations

import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from finrag.embed.model_files import ModelSpec, load_model_spec, model_label, resolve_model_dir

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "finrag" / "models"
# Padded word pieces per batch on CPU (4 passages of 256): see BucketedEmbedder._batches.
CPU_BATCH_TOKENS = 1024
# bf16 on AMX keeps its tiles busier with larger batches: 4,096 padded word pieces ran 201 passages/s
# against 182 at 2,048 and 184 at 8,192 (384 filing passages, 2 cores).
BF16_BATCH_TOKENS = 4096


def available_cores() -> int:
    """CPUs this process may run on (affinity-aware, unlike os.cpu_count() inside a cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def cpu_has_amx_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in AMX tiles (Intel Sapphire Rapids and later). Read from the
    kernel's CPU flags, so only Linux answers yes; without AMX, bf16 is emulated and slower than int8."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def _padded(encodings: Sequence[Encoding], pad_id: int, multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Word-piece ids and attention mask of one batch, padded to its longest text rounded up to `multiple`."""
    lengths = np.array([len(e.ids) for e in encodings], dtype=np.int64)
    width = -(-int(lengths.max()) // multiple) * multiple
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : lengths[row]] = enc.ids
    mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
    return ids, mask


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """sentence-transformers' Pooling followed by Normalize, in numpy (hidden: B x L x D)."""
    maskf = mask.astype(np.float32)
    if mode == "cls":
        pooled = hidden[:, 0]
    elif mode == "max":
        pooled = np.where(mask[:, :, None].astype(bool), hidden, np.float32(-1e9)).max(axis=1)
    else:
        # Batched mask @ hidden is a GEMV per row: much cheaper than broadcasting B x L x D.
        summed = np.matmul(maskf[:, None, :], hidden)[:, 0, :]
        counts = maskf.sum(axis=1, keepdims=True)
        pooled = summed / (np.sqrt(counts) if mode == "mean_sqrt_len" else np.maximum(counts, 1e-9))
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def cuda_missing(why: str) -> RuntimeError:
    """FINRAG_DEVICE=cuda is a demand, not a hint: say why there is no GPU and what to set instead, in the
    log (a worker's start-up line) and in the error."""
    msg = f"FINRAG_DEVICE=cuda but {why}; set FINRAG_DEVICE=auto to fall back to the CPU (int8) path"
    log.error(msg)
    return RuntimeError(msg)


class BucketedEmbedder(ABC):
    """Shared front end: lazy loading, word-piece counting, dedupe + length-bucketed batching."""

    backend: str = ""
    cpu_batch_tokens: int = CPU_BATCH_TOKENS

    def __init__(
        self,
        model: str = "",
        *,
        batch_size: int = 64,
        threads: int = 0,
        device: Device = "auto",
        max_batch_tokens: int | None = None,
    ) -> None:
        self.model = model
        self.batch_size = max(1, batch_size)
        # Word pieces (padded) per batch; None = cpu_batch_tokens on CPU, no cap on CUDA; 0 = no cap.
        self.max_batch_tokens = max_batch_tokens
        self._on_cpu = True
        self.threads = threads if threads > 0 else available_cores()
        self._threads_explicit = threads > 0
        self.device = device
        self.name = f"{model_label(model)}/{self.backend}"
        self._spec: ModelSpec | None = None
        self._tokenizer: Tokenizer | None = None  # truncates at max_seq_length, like the model
        self._counter: Tokenizer | None = None  # never truncates: for sizing chunks
        self._pad_id = 0
        self._lock = threading.Lock()
        self._warm = False

    # -- model files (cheap) ---------------------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            self._spec = load_model_spec(resolve_model_dir(self.model))
        return self._spec

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, [CLS] and [SEP] included; the rest of a text is cut off."""
        return self.spec.max_seq_length

    @property
    def tokenizer_path(self) -> Path:
        """The fast tokenizer's file, for components (chunker workers) that count word pieces."""
        return self.spec.tokenizer_path

    def _load_tokenizer(self, truncate: bool) -> Tokenizer:
        from tokenizers import Tokenizer

        path = self.tokenizer_path
        if not path.is_file():
            raise FileNotFoundError(f"fast tokenizer file missing: {path}")
        tok = Tokenizer.from_file(str(path))
        self._pad_id = int((tok.padding or {}).get("pad_id", 0))
        # tokenizer.json may carry its own truncation/padding (MiniLM's says 128 / fixed 128): the
        # model's max_seq_length is what sentence-transformers uses, and we pad per batch ourselves.
        tok.no_padding()
        if truncate:
            tok.enable_truncation(max_length=self.max_tokens)
        else:
            tok.no_truncation()
        return tok

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return [t.lower() for t in texts] if self.spec.lowercase else list(texts)

    def _encode(self, tok: Tokenizer, texts: Sequence[str]) -> list[Encoding]:
        # encode_batch_fast skips character offsets we never use (tokenizers >= 0.21).
        fast = getattr(tok, "encode_batch_fast", None)
        return (fast or tok.encode_batch)(self._prepare(texts))

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Untruncated word-piece counts, [CLS]/[SEP] included: a text fits if <= max_tokens."""
        if not texts:
            return []
        if self._counter is None:
            self._counter = self._load_tokenizer(truncate=False)
        return [len(e.ids) for e in self._encode(self._counter, texts)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.token_lengths(texts)

    # -- embedding -------------------------------------------------------------------------------
    def warm_up(self) -> None:
        if self._warm:
            return
        with self._lock:  # ingest and query threads may race to the first call
            if self._warm:
                return
            if self._tokenizer is None:
                self._tokenizer = self._load_tokenizer(truncate=True)
            self._load()
            self._warm = True

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 (len(texts), dim); duplicates are embedded once."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        slots: dict[str, int] = {}
        inverse = np.fromiter((slots.setdefault(t, len(slots)) for t in texts), dtype=np.int64, count=len(texts))
        unique = list(slots)
        tokenizer = self._tokenizer
        if tokenizer is None:  # pragma: no cover - warm_up() sets it
            raise RuntimeError("embedder not warmed up")
        encodings = self._encode(tokenizer, unique)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(unique))
        # Longest first (as sentence-transformers does) so an out-of-memory shows on the first batch.
        order = np.argsort(-lengths, kind="stable")
        vectors = np.empty((len(unique), self.dim), dtype=np.float32)
        for idx in self._batches(order, lengths):
            vectors[idx] = self._embed_batch([unique[i] for i in idx], [encodings[i] for i in idx])
        return vectors[inverse]

    def _batches(self, order: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """Cut the longest-first order into batches of at most batch_size texts and at most
        max_batch_tokens padded word pieces. On CPU small batches win: activations of ~1k word
        pieces stay in cache, and int8 runs 10-30% faster than with 64 passages a batch (fp32
        ~40%; bench/embed.py on 2 cores), while short texts (queries, table rows) still batch by
        dozens."""
        budget = self.max_batch_tokens
        if budget is None:
            budget = self.cpu_batch_tokens if self._on_cpu else 0
        if not budget:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches, start = [], 0
        while start < len(order):
            longest = int(lengths[order[start]])  # longest first: the batch pads to its first text
            size = max(1, min(self.batch_size, budget // max(longest, 1)))
            batches.append(order[start : start + size])
            start += size
        return batches

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _embed_batch(self, texts: list[str], encodings: list[Encoding]) -> np.ndarray:
        """Normalised embeddings of one batch of similar-length texts (already truncated encodings)."""


class SentenceTransformerEmbedder(BucketedEmbedder):
    """Reference implementation: sentence-transformers on torch (CUDA when available and allowed)."""

    backend = "torch"

    def __init__(
        self,
        model: str = "",
        *,
        batch_size: int = 64,
        threads: int = 0,
        device: Device = "auto",
        max_batch_tokens: int | None = None,
    ) -> None:
        super().__init__(
            model, batch_size=batch_size, threads=threads, device=device, max_batch_tokens=max_batch_tokens
        )
        self._model: Any = None
        self.resolved_device = ""

    def _load(self) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RuntimeError(
                "the torch embedder needs torch and sentence-transformers: pip install 'finrag[torch]' "
                f"(missing: {exc.name}); or use FINRAG_EMBEDDER=onnx-int8"
            ) from exc
        cuda = torch.cuda.is_available()
        if self.device == "cuda" and not cuda:
            raise cuda_missing("torch sees no CUDA device (a CPU-only torch wheel, or no GPU/driver)")
        self.resolved_device = "cuda" if self.device != "cpu" and cuda else "cpu"
        if self.device == "auto":
            log.info("embedder device: %s (FINRAG_DEVICE=auto)", self.resolved_device)
        self._on_cpu = self.resolved_device == "cpu"
        if self._threads_explicit:
            torch.set_num_threads(self.threads)  # process-wide; only when asked for explicitly
        self._model = SentenceTransformer(str(self.spec.root), device=self.resolved_device, local_files_only=True)
        self._model.max_seq_length = self.max_tokens

    def _embed_batch(self, texts: list[str], encodings: list[Encoding]) -> np.ndarray:
        out = self._model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


class OnnxEmbedder(BucketedEmbedder):
    """onnxruntime on the exported encoder, fp32 or dynamic int8; pooling + L2 norm in numpy.

    int8 (per-channel weights, dynamic per-batch activations) runs ~2x the fp32 graph on a VNNI CPU
    at mean cosine ~0.994 to torch fp32. Dynamic-int8 kernels are CPU-only, so on CUDA the fp32
    graph is used."""

    def __init__(
        self,
        model: str = "",
        *,
        int8: bool = True,
        cache_dir: Path | None = None,
        batch_size: int = 64,
        threads: int = 0,
        device: Device = "auto",
        max_batch_tokens: int | None = None,
        keep_fp32: Sequence[str] = (),
        spin_wait: bool = True,
    ) -> None:
        self.int8 = int8
        # Idle ORT workers busy-wait for the next op: a little faster alone, but it burns cycles a
        # parse worker sharing the same cores could use.
        self.spin_wait = spin_wait
        self.backend = "onnx-int8" if int8 else "onnx"
        super().__init__(
            model, batch_size=batch_size, threads=threads, device=device, max_batch_tokens=max_batch_tokens
        )
        self.cache_dir = cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR
        self.keep_fp32 = tuple(keep_fp32)
        self.model_path: Path | None = None
        self.provider = ""
        self._session: Any = None
        self._inputs: set[str] = set()

    def _providers(self, available: Sequence[str]) -> list[str]:
        has_cuda = "CUDAExecutionProvider" in available
        if self.device == "cuda" and not has_cuda:
            raise cuda_missing(
                "onnxruntime has no CUDAExecutionProvider: install onnxruntime-gpu in place of onnxruntime"
            )
        if self.device != "cpu" and has_cuda:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if self.device == "auto":
            log.info("embedder device: cpu (FINRAG_DEVICE=auto and onnxruntime offers no CUDA provider)")
        return ["CPUExecutionProvider"]

    def _load(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeError("the ONNX embedder needs onnxruntime: pip install onnxruntime") from exc
        from finrag.embed.onnx_export import ensure_onnx

        providers = self._providers(ort.get_available_providers())
        on_cpu = providers[0] == "CPUExecutionProvider"
        self.model_path = ensure_onnx(
            self.spec, self.cache_dir, model_label(self.model), int8=self.int8 and on_cpu, keep_fp32=self.keep_fp32
        )
        options = ort.SessionOptions()
        # One batch at a time, every core on its GEMMs: inter-op parallelism only adds contention.
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spin_wait else "0")
        options.log_severity_level = 3  # the quantised graph triggers harmless fusion warnings
        self._session = ort.InferenceSession(str(self.model_path), options, providers=providers)
        self.provider = self._session.get_providers()[0]
        if self.provider != providers[0]:  # e.g. onnxruntime-gpu without its CUDA libraries
            if self.device == "cuda":
                raise cuda_missing(
                    f"onnxruntime could not start {providers[0]} (CUDA/cuDNN libraries missing?) and fell back to "
                    f"{self.provider}"
                )
            log.warning("onnxruntime fell back from %s to %s (fp32 graph)", providers[0], self.provider)
        self._on_cpu = self.provider == "CPUExecutionProvider"
        self._inputs = {i.name for i in self._session.get_inputs()}
        if self.int8 and not on_cpu:
            log.info("CUDA selected: using the fp32 ONNX graph (dynamic int8 kernels are CPU-only)")
        self._run(np.full((1, 4), self._pad_id, dtype=np.int64), np.ones((1, 4), dtype=np.int64))

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return _pool(hidden, mask, self.spec.pooling)

    def _embed_batch(self, texts: list[str], encodings: list[Encoding]) -> np.ndarray:
        return self._run(*_padded(encodings, self._pad_id))


class TorchBf16Embedder(BucketedEmbedder):
    """The transformer in bfloat16 on the CPU, for embedding documents in bulk where the CPU has AMX tiles.

    On the 2 AMX cores of the development VM it embedded 384 filing passages at ~1.5x the ONNX int8
    graph's rate, closer to torch fp32 (mean cosine 0.99995, int8 0.994). Not meant for questions: torch
    and this model add ~3 s of start-up and ~390 MB of RSS, while ONNX int8 embeds a question in ~1.6 ms
    (docs/performance.md, "Ingest: documents embedded in bfloat16 on AMX"). CPU only."""

    backend = "torch-bf16"
    cpu_batch_tokens = BF16_BATCH_TOKENS
    # AMX tiles hold 16 rows: sequences padded to a multiple of 16 ran ~5 % faster.
    pad_multiple = 16

    def __init__(
        self,
        model: str = "",
        *,
        batch_size: int = 64,
        threads: int = 0,
        max_batch_tokens: int | None = None,
    ) -> None:
        super().__init__(model, batch_size=batch_size, threads=threads, device="cpu", max_batch_tokens=max_batch_tokens)
        self._model: Any = None
        self._torch: Any = None

    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModel
        except ImportError as exc:
            raise RuntimeError(
                "the bf16 embedder needs torch and transformers: pip install 'finrag[torch]' "
                f"(missing: {exc.name}); or set FINRAG_INGEST_EMBEDDER=same"
            ) from exc
        if self._threads_explicit:
            torch.set_num_threads(self.threads)  # process-wide; only when asked for explicitly
        # SDPA attention: 1.5x the eager attention's rate in bf16 (the ONNX export wants eager instead).
        model = AutoModel.from_pretrained(str(self.spec.transformer_dir), attn_implementation="sdpa")
        self._model = model.eval().to(torch.bfloat16)
        self._torch = torch

    def _embed_batch(self, texts: list[str], encodings: list[Encoding]) -> np.ndarray:
        ids, mask = _padded(encodings, self._pad_id, self.pad_multiple)
        torch = self._torch
        with torch.inference_mode():
            out = self._model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
            return _pool(out.last_hidden_state.float().numpy(), mask, self.spec.pooling)
