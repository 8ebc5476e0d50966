"""The embedder's device setting: CPU int8 by default, CUDA when asked for and present, and a clear
error (logged) when CUDA is demanded on a machine that cannot give it. bench/gpu.sh's Python part runs
here on CPU over the sample filings (--dry-run)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finrag.embed.factory import build_embedder
from finrag.embed.minilm import OnnxEmbedder
from finrag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CPU = ["CPUExecutionProvider"]
GPU = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_default_is_the_cpu_int8_path(tmp_path: Path) -> None:
    emb = build_embedder(Settings(data_dir=tmp_path))
    assert isinstance(emb, OnnxEmbedder) and emb.int8 and emb.device == "cpu"
    assert emb._providers(GPU) == CPU  # a GPU present does not change the default


def test_auto_takes_cuda_when_onnxruntime_offers_it_and_says_so_otherwise(caplog: pytest.LogCaptureFixture) -> None:
    emb = OnnxEmbedder(device="auto")
    assert emb._providers(GPU) == GPU
    with caplog.at_level(logging.INFO, logger="finrag.embed.minilm"):
        assert emb._providers(CPU) == CPU
    assert "embedder device: cpu" in caplog.text


def test_cuda_demanded_and_absent_is_a_logged_error_naming_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has a CUDA onnxruntime")
    emb = build_embedder(Settings(data_dir=tmp_path, device="cuda"))
    with caplog.at_level(logging.ERROR, logger="finrag.embed.minilm"), pytest.raises(RuntimeError) as err:
        emb.warm_up()
    assert "onnxruntime-gpu" in str(err.value) and "FINRAG_DEVICE=auto" in str(err.value)
    assert any(r.levelno == logging.ERROR and "FINRAG_DEVICE=cuda" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_gpu_bench_dry_run_measures_both_builds_on_the_sample_filings(tmp_path: Path) -> None:
    env = {**os.environ, "PY": sys.executable, "OUT": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu.sh"), "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "device=cpu" in run.stdout and "CPUExecutionProvider" in run.stdout
    figures = json.loads((tmp_path / "gpu.json").read_text())
    runs = {r["config"]: r for r in figures["runs"]}
    assert set(runs) == {"onnx", "onnx-int8 cpu (reference)"}
    assert runs["onnx"]["pages"] == runs["onnx-int8 cpu (reference)"]["pages"] > 50
    assert all(r["pages_per_s"] > 0 and r["children"] > 0 for r in runs.values())
    # Recall of both builds over the sample golden questions, in the same run.
    assert len(figures["recall"]) == 2
    assert all(0.5 <= m["page_recall@5"] <= 1.0 for m in figures["recall"].values())
