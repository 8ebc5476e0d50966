"""Export a sentence-transformers encoder to ONNX once, and quantise it to int8 once.

Artefacts live in `<cache_dir>/<label>-<key>/` where the key identifies the model files and the
export recipe, so a changed model or recipe gets a fresh folder and nothing is exported twice.
Every file is written to a temporary name, checked, fsync'ed and renamed: a process killed
mid-export leaves at most a stray `*.tmp`, never a truncated model that later fails to load.

Exporting needs torch + transformers + onnx (the `finrag[torch]` extra); loading the cached
models afterwards needs only onnxruntime."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from finrag.embed.model_files import ModelSpec, model_identity

log = logging.getLogger(__name__)

OPSET = 17
# Bump when the export / quantisation procedure changes: old cache folders are then ignored.
RECIPE = "v1:eager-attn:torchscript-export:int8-dynamic-per-channel-matmul"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_STALE_TMP_S = 3600.0


class ExportDependencyError(RuntimeError):
    """torch / transformers / onnx needed to export (or quantise) are not installed."""


def artefact_dir(spec: ModelSpec, cache_dir: Path, label: str, keep_fp32: Sequence[str] = ()) -> Path:
    key = hashlib.sha256(f"{model_identity(spec)}|{RECIPE}|{OPSET}|{sorted(keep_fp32)}".encode()).hexdigest()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", label) or "model"
    return cache_dir / f"{slug}-{key[:16]}"


def ensure_onnx(spec: ModelSpec, cache_dir: Path, label: str, *, int8: bool, keep_fp32: Sequence[str] = ()) -> Path:
    """Path of the cached fp32 (or int8) ONNX model, exporting / quantising it first if missing.

    `keep_fp32`: regexes of MatMul node names left in fp32 when quantising (e.g. r"layer\\.0/")."""
    out_dir = artefact_dir(spec, cache_dir, label, keep_fp32 if int8 else ())
    # fp32 is needed to build int8 but lives in the fp32-recipe folder so both backends share it.
    fp32_dir = artefact_dir(spec, cache_dir, label)
    for folder in {out_dir, fp32_dir}:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_tmp(folder)
    fp32 = fp32_dir / FP32_FILE
    if not fp32.is_file():
        started = time.perf_counter()
        with _atomic_path(fp32) as tmp:
            _export_fp32(spec, tmp)
        _write_meta(fp32_dir, spec, "fp32")
        log.info("exported %s to %s in %.1fs", spec.root, fp32, time.perf_counter() - started)
    if not int8:
        return fp32
    q8 = out_dir / INT8_FILE
    if not q8.is_file():
        started = time.perf_counter()
        with _atomic_path(q8) as tmp:
            _quantise_int8(fp32, tmp, keep_fp32)
            _check_int8(fp32, tmp)
        _write_meta(out_dir, spec, "int8", keep_fp32=list(keep_fp32))
        log.info("quantised %s to %s in %.1fs", fp32, q8, time.perf_counter() - started)
    return q8


@contextlib.contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success fsync it and rename it over `target`."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache may be shared by service users
        os.replace(tmp, target)  # atomic on POSIX and Windows (same directory)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale_tmp(folder: Path) -> None:
    # Leftovers of killed exports; recent ones may belong to a concurrent exporter, so keep them.
    now = time.time()
    for tmp in folder.glob("*.tmp"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TMP_S:
                tmp.unlink()


def _write_meta(folder: Path, spec: ModelSpec, kind: str, **extra: object) -> None:
    meta = {"source": str(spec.root), "recipe": RECIPE, "opset": OPSET, "kind": kind, **extra}
    with _atomic_path(folder / f"{kind}.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _export_fp32(spec: ModelSpec, target: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ExportDependencyError(
            "exporting the embedding model to ONNX needs torch and transformers "
            "(pip install 'finrag[torch]'), or use FINRAG_EMBEDDER=torch; "
            f"missing: {exc.name}"
        ) from exc

    # Eager attention traces to plain MatMul/Softmax, which onnxruntime fuses and runs ~25% faster
    # than the SDPA trace (measured on 2 cores).
    model = AutoModel.from_pretrained(str(spec.transformer_dir), attn_implementation="eager")
    model.eval()
    forward_params = inspect.signature(model.forward).parameters
    names = [n for n in _INPUTS if n in forward_params]

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    # A padded dummy batch so the tracer records the attention-mask path (an all-ones mask may be
    # optimised away by transformers and would then be missing from the graph).
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    dummy = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    args = tuple(dummy[n] for n in names)
    # eval() on the wrapper too: the exporter restores the wrapper's mode afterwards, and a fresh
    # Module is in training mode, which would switch dropout on for the reference run below.
    encoder = _Encoder(model).eval()
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer / deprecation chatter, not actionable here
        # The TorchScript exporter (dynamo=False) gives the graph onnxruntime fuses best.
        torch.onnx.export(
            encoder,
            args,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        probe = {n: a for n, a in _probe_arrays().items() if n in names}
        reference = encoder(*(torch.from_numpy(probe[n]) for n in names)).numpy()
    _check_fp32(target, probe, reference)


def _probe_arrays() -> dict[str, np.ndarray]:
    """Shapes and padding unlike the trace's dummy, to catch anything the tracer froze."""
    ids = np.random.default_rng(0).integers(1000, 20000, size=(3, 37)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 20:] = 0
    mask[2, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _check_fp32(path: Path, feed: dict[str, np.ndarray], reference: np.ndarray) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, feed)[0]
    valid = feed["attention_mask"].astype(bool)
    err = float(np.abs(got[valid] - reference[valid]).max())
    if err > 1e-3:
        raise RuntimeError(f"ONNX export of {path.name} disagrees with torch (max abs error {err:.2e})")


def _quantise_int8(src: Path, target: Path, keep_fp32: Sequence[str]) -> None:
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ExportDependencyError(
            f"quantising the embedding model needs onnx (pip install 'finrag[torch]'); missing: {exc.name}"
        ) from exc
    excluded: list[str] = []
    if keep_fp32:
        patterns = [re.compile(p) for p in keep_fp32]
        graph = onnx.load(str(src), load_external_data=False).graph
        excluded = [n.name for n in graph.node if n.op_type == "MatMul" and any(p.search(n.name) for p in patterns)]
    # Per-channel weights are what keeps MiniLM close to fp32 (per-tensor: mean cosine ~0.94).
    # Only MatMuls with constant weights: the embedding Gather and attention score products stay fp32.
    root = logging.getLogger()
    root.addFilter(_drop_quantizer_chatter)
    try:
        quantize_dynamic(
            str(src),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=excluded,
        )
    finally:
        root.removeFilter(_drop_quantizer_chatter)


def _drop_quantizer_chatter(record: logging.LogRecord) -> bool:
    # onnxruntime.quantization logs dozens of lines per model on the root logger ("consider
    # pre-processing", "parameters not specified"): expected for dynamic quantisation, not news.
    return "onnxruntime" not in record.pathname or record.levelno >= logging.ERROR


def _check_int8(fp32: Path, int8: Path) -> None:
    """Guard against a broken quantisation (wrong ops, overflow) before the file is published."""
    import onnxruntime as ort

    gen = np.random.default_rng(0)
    ids = gen.integers(1000, 20000, size=(4, 48)).astype(np.int64)
    mask = np.ones_like(ids)
    outputs = []
    for path in (fp32, int8):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        wanted = {i.name for i in session.get_inputs()}
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, {k: v for k, v in feed.items() if k in wanted})[0].mean(axis=1)
        outputs.append(hidden / np.linalg.norm(hidden, axis=1, keepdims=True))
    cosine = float((outputs[0] * outputs[1]).sum(axis=1).min())
    if cosine < 0.9:
        raise RuntimeError(f"int8 model {int8.name} drifted from fp32 (min cosine {cosine:.3f})")
