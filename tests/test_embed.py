"""Embedders on the real packaged MiniLM (offline): torch reference vs ONNX fp32 / int8."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from finrag.embed import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    build_embedder,
)
from finrag.settings import Settings

SENTENCES = [
    "Capital expenditures, consisting of purchases of property, plant and equipment, were $1.6 billion.",
    "The Board of Directors declared a quarterly dividend of $1.44 per share.",
    "Net sales increased 4% to $32.8 billion, driven by organic growth in all business segments.",
    "Goodwill is tested for impairment annually in the fourth quarter.",
    "Risk factors",
    "Cash provided by operating activities was $7.0 billion in 2018 compared with $6.2 billion in 2017, "
    "reflecting higher net income, lower pension contributions and changes in working capital, partially "
    "offset by higher income tax payments and the timing of payments for accrued liabilities.",
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def torch_emb() -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder(device="cpu")
    emb.warm_up()
    return emb


@pytest.fixture(scope="session")
def onnx_fp32(cache_dir: Path) -> OnnxEmbedder:
    emb = OnnxEmbedder(int8=False, cache_dir=cache_dir, device="cpu")
    emb.warm_up()  # exports once for the session
    return emb


@pytest.fixture(scope="session")
def onnx_int8(cache_dir: Path, onnx_fp32: OnnxEmbedder) -> OnnxEmbedder:
    emb = OnnxEmbedder(int8=True, cache_dir=cache_dir, device="cpu")
    emb.warm_up()  # quantises the fp32 export once
    return emb


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.mark.parametrize("which", ["torch_emb", "onnx_fp32", "onnx_int8"])
def test_normalised_float32_rows(which: str, request: pytest.FixtureRequest) -> None:
    emb = request.getfixturevalue(which)
    out = emb.embed_documents(SENTENCES)
    assert out.shape == (len(SENTENCES), 384)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert emb.dim == 384
    empty = emb.embed_documents([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_onnx_matches_torch(torch_emb, onnx_fp32, onnx_int8) -> None:
    ref = torch_emb.embed_documents(SENTENCES)
    assert _cos(ref, onnx_fp32.embed_documents(SENTENCES)).min() >= 0.999
    assert _cos(ref, onnx_int8.embed_documents(SENTENCES)).min() >= 0.98


@pytest.mark.parametrize("which", ["torch_emb", "onnx_fp32", "onnx_int8"])
def test_capex_is_closer_to_ppe_than_to_dividends(which: str, request: pytest.FixtureRequest) -> None:
    emb = request.getfixturevalue(which)
    # A capex sentence in plain words: MiniLM does not know the bare abbreviation "capex" (it scores
    # it nearer to dividends), which is why retrieval expands finance synonyms before embedding.
    capex = emb.embed_query("Capital spending on property and equipment was $1.6 billion in 2018.")
    ppe, dividends = emb.embed_documents(["purchases of property, plant and equipment", "dividends declared"])
    assert float(capex @ ppe) > float(capex @ dividends) + 0.1


def test_order_restored_across_buckets(cache_dir: Path, onnx_fp32: OnnxEmbedder) -> None:
    # batch_size=2 forces several length buckets; each row must still match its text embedded alone.
    small = OnnxEmbedder(int8=False, cache_dir=cache_dir, device="cpu", batch_size=2)
    together = small.embed_documents(SENTENCES)
    alone = np.stack([onnx_fp32.embed_query(s) for s in SENTENCES])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_duplicates_embedded_once(onnx_int8: OnnxEmbedder) -> None:
    texts = [SENTENCES[0], SENTENCES[1], SENTENCES[0], SENTENCES[0]]
    out = onnx_int8.embed_documents(texts)
    assert out.shape == (4, 384)
    # The copies come from one computation, so they are bit-identical.
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[0], out[3])
    assert not np.array_equal(out[0], out[1])


def test_query_equals_single_document(onnx_fp32: OnnxEmbedder) -> None:
    np.testing.assert_allclose(onnx_fp32.embed_query(SENTENCES[2]), onnx_fp32.embed_documents([SENTENCES[2]])[0])


def test_token_lengths_and_truncation(torch_emb, onnx_fp32) -> None:
    assert onnx_fp32.max_tokens == 256
    assert onnx_fp32.tokenizer_path.is_file()
    assert onnx_fp32.token_lengths(["hello world", ""]) == [4, 2]  # [CLS] hello world [SEP]
    assert onnx_fp32.token_lengths([]) == []
    long = " ".join(["revenue recognition under ASC 606"] * 400)
    assert onnx_fp32.token_lengths([long])[0] > 1000
    # Both texts share their first 254 word pieces: after truncation they are the same input.
    longer = long + " completely different tail about goodwill impairment"
    for emb in (onnx_fp32, torch_emb):
        a, b = emb.embed_documents([long, longer])
        assert float(a @ b) > 0.9999
    assert torch_emb.token_lengths(["hello world"]) == [4]


def test_export_is_cached(cache_dir: Path, onnx_int8: OnnxEmbedder) -> None:
    models = sorted(cache_dir.rglob("*.onnx"))
    assert {p.name for p in models} == {"model.onnx", "model.int8.onnx"}
    before = {p: p.stat().st_mtime_ns for p in models}
    again = OnnxEmbedder(int8=True, cache_dir=cache_dir, device="cpu")
    again.warm_up()
    assert again.model_path == onnx_int8.model_path
    assert {p: p.stat().st_mtime_ns for p in sorted(cache_dir.rglob("*.onnx"))} == before
    assert not list(cache_dir.rglob("*.tmp"))  # atomic writes leave no temporaries


@pytest.mark.parametrize(
    ("kind", "cls", "backend"),
    [
        ("onnx-int8", OnnxEmbedder, "onnx-int8"),
        ("onnx", OnnxEmbedder, "onnx"),
        ("torch", SentenceTransformerEmbedder, "torch"),
    ],
)
def test_factory_picks_class(tmp_path: Path, kind: str, cls: type, backend: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        embedder=kind,
        embedding_model="",
        embed_batch_size=16,
        embed_threads=1,
        device="cpu",
    )
    emb = build_embedder(settings)
    assert type(emb) is cls
    assert emb.name == f"all-MiniLM-L6-v2/{backend}"
    assert (emb.batch_size, emb.threads, emb.device) == (16, 1, "cpu")
    if isinstance(emb, OnnxEmbedder):
        assert emb.int8 == (kind == "onnx-int8")
        assert emb.cache_dir == tmp_path / "cache" / "models"
    assert not (tmp_path / "cache").exists()  # constructors are light: nothing exported yet


def test_interrupted_write_publishes_nothing(tmp_path: Path) -> None:
    from finrag.embed.onnx_export import _atomic_path

    target = tmp_path / "model.onnx"
    with pytest.raises(KeyboardInterrupt), _atomic_path(target) as tmp:
        tmp.write_bytes(b"half a model")
        raise KeyboardInterrupt  # e.g. Ctrl-C during export
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_batches_respect_count_and_token_budget(cache_dir: Path) -> None:
    emb = OnnxEmbedder(cache_dir=cache_dir, batch_size=4, max_batch_tokens=64)
    lengths = np.array([300, 10, 20, 30, 40, 5, 5, 5, 5, 5, 5])
    order = np.argsort(-lengths, kind="stable")
    batches = emb._batches(order, lengths)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * lengths[batch].max() <= 64  # an over-long text goes alone
    emb.max_batch_tokens = 0  # no budget: plain batches of batch_size
    assert [len(b) for b in emb._batches(order, lengths)] == [4, 4, 3]
