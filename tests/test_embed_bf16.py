"""The bf16 ingest embedder: the packaged MiniLM in bfloat16 on torch, chosen for documents on AMX CPUs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from finrag.embed import SentenceTransformerEmbedder, TorchBf16Embedder, build_ingest_embedder
from finrag.settings import Settings
from tests.test_embed import SENTENCES


@pytest.fixture(scope="module")
def bf16() -> TorchBf16Embedder:
    emb = TorchBf16Embedder()
    emb.warm_up()
    return emb


@pytest.fixture(scope="module")
def fp32() -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder(device="cpu")
    emb.warm_up()
    return emb


def test_bf16_vectors_are_the_fp32_models_vectors(bf16: TorchBf16Embedder, fp32: SentenceTransformerEmbedder) -> None:
    out = bf16.embed_documents(SENTENCES)
    assert out.shape == (len(SENTENCES), 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    cos = (out * fp32.embed_documents(SENTENCES)).sum(axis=1)
    # bf16 keeps 8 mantissa bits; the int8 graph is held to 0.98 (tests/test_embed.py).
    assert cos.min() >= 0.999, cos
    assert bf16.name == "all-MiniLM-L6-v2/torch-bf16" and bf16.dim == 384


def test_padding_and_batching_do_not_change_a_vector(bf16: TorchBf16Embedder) -> None:
    # Batched, each text is padded to the batch's longest rounded up to 16 word pieces; alone, to its own.
    together = bf16.embed_documents(SENTENCES)
    alone = np.stack([bf16.embed_query(s) for s in SENTENCES])
    assert ((together * alone).sum(axis=1)).min() >= 0.9995
    twice = bf16.embed_documents([SENTENCES[0], SENTENCES[1], SENTENCES[0]])
    assert np.array_equal(twice[0], twice[2])  # one computation for both copies


def test_texts_past_256_word_pieces_are_cut_like_the_other_backends(bf16: TorchBf16Embedder) -> None:
    long = " ".join(["revenue recognition under ASC 606"] * 400)
    a, b = bf16.embed_documents([long, long + " a different tail about goodwill impairment"])
    assert float(a @ b) > 0.9999


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, cache_dir=tmp_path / "cache", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("amx", [True, False])
def test_auto_takes_bf16_only_on_an_amx_cpu_with_a_local_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amx: bool
) -> None:
    monkeypatch.setattr("finrag.embed.factory.cpu_has_amx_bf16", lambda: amx)
    chosen = build_ingest_embedder(_settings(tmp_path, ingest_embedder="auto", embed_threads=1))
    if amx:
        assert isinstance(chosen, TorchBf16Embedder) and chosen.threads == 1
    else:
        assert chosen is None
    # A remote model or a GPU setting keeps ingest on the question embedder, AMX or not.
    assert build_ingest_embedder(_settings(tmp_path, embedder="openai", embedding_model="m")) is None
    assert build_ingest_embedder(_settings(tmp_path, device="auto")) is None
    assert build_ingest_embedder(_settings(tmp_path, ingest_embedder="same")) is None
    assert not (tmp_path / "cache").exists()  # choosing loads nothing


def test_bf16_demanded_where_it_cannot_run_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="FINRAG_INGEST_EMBEDDER=same"):
        build_ingest_embedder(_settings(tmp_path, ingest_embedder="torch-bf16", embedder="openai", embedding_model="m"))
    with pytest.raises(ValueError, match="CPU path"):
        build_ingest_embedder(_settings(tmp_path, ingest_embedder="torch-bf16", device="cuda"))
    assert isinstance(build_ingest_embedder(_settings(tmp_path, ingest_embedder="torch-bf16")), TorchBf16Embedder)


@pytest.mark.slow
def test_documents_in_bf16_and_questions_in_int8_find_the_golden_pages(
    tmp_path: Path, sample_dir: Path, sample_service, shared_embedder, bf16: TorchBf16Embedder
) -> None:
    """The sample filings ingested with the bf16 embedder and queried with the int8 one (what `auto` does on
    an AMX CPU) find every golden question's evidence page in the top 5, as the index built by int8 alone
    (the session's sample index) does."""
    from finrag.eval.financebench import evaluate
    from finrag.eval.metrics import load_questions
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", ingest_embedder="torch-bf16")
    components = build_components(settings)
    assert isinstance(components.ingest_embedder, TorchBf16Embedder)
    components.embedder = shared_embedder
    components.ingest_embedder = bf16  # the module's warmed-up copy: no second model load
    svc = QAService(settings, components)
    try:
        assert svc.pipeline.document_embedder is bf16  # named: every run, whatever its size
        report = svc.ingest([sample_dir])
        assert not report.failed and report.embedded > 0 and report.embedder.endswith("/torch-bf16")
        assert svc.c.store.count() == sample_service.c.store.count()
        golden = load_questions(sample_dir / "golden.jsonl")
        built_bf16 = evaluate(svc, golden)
        built_int8 = evaluate(sample_service, golden)
        assert built_int8["page_recall@5"] == 1.0  # the reference itself
        assert built_bf16["page_recall@5"] == 1.0, [q["page_rank"] for q in built_bf16["questions"]]
    finally:
        svc.close()


@pytest.mark.slow
def test_auto_loads_bf16_for_a_run_that_repays_it_and_keeps_it_after(
    tmp_path: Path, sample_dir: Path, shared_embedder, bf16: TorchBf16Embedder
) -> None:
    """`auto` on an AMX CPU: a small run embeds with the question embedder (no torch to load for one
    filing), a run of at least `bulk_min_pages` pages with bf16, and once bf16 is loaded every run uses it."""
    from finrag.ingest.parse import PdfiumParser
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", ingest_embedder="auto")
    components = build_components(settings)
    components.embedder = shared_embedder
    components.ingest_embedder = bf16  # what auto resolves to on an AMX CPU (tested above without a model)
    svc = QAService(settings, components)
    try:
        pipeline = svc.pipeline
        assert pipeline.embedder is shared_embedder and pipeline.bulk_embedder is bf16
        files = sorted(sample_dir.glob("*.pdf"))
        pages = [PdfiumParser().page_count(f) for f in files]
        pipeline.bulk_min_pages = sum(pages[1:-1])
        assert pages[0] < pipeline.bulk_min_pages
        runs = [svc.ingest([files[0]]), svc.ingest(files[1:-1]), svc.ingest([files[-1]])]
        assert [r.embedder.rsplit("/", 1)[1] for r in runs] == ["onnx-int8", "torch-bf16", "torch-bf16"]
        assert all(not r.failed and r.embedded for r in runs)
        assert svc.ingest(files).embedded == 0  # all unchanged: nothing embedded, nothing loaded
    finally:
        svc.close()


def test_a_warmed_up_pipeline_embeds_every_run_with_the_bulk_embedder(
    tmp_path: Path, shared_embedder, bf16: TorchBf16Embedder
) -> None:
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", ingest_embedder="auto")
    components = build_components(settings)
    components.embedder, components.ingest_embedder = shared_embedder, bf16
    svc = QAService(settings, components)
    pipeline = svc.pipeline
    assert pipeline.document_embedder is shared_embedder
    assert pipeline._embedder_for([tmp_path / "missing.pdf"]) is shared_embedder  # unreadable: no pages
    pipeline.warm_up()  # a worker starting: loads bf16 once for all its jobs
    assert pipeline.document_embedder is bf16 and pipeline._embedder_for([]) is bf16
    svc.close()
