"""The OpenAI-compatible embedder through the official client against a local fake server."""

from __future__ import annotations

import numpy as np
import pytest

from finrag.embed.remote import EmbeddingDimensionError, OpenAIEmbedder
from tests.fakes import fixtures

openai_server = fixtures.openai_server


def test_embeds_normalised_vectors_in_order(openai_server) -> None:
    openai_server.embedding_dim = 64
    emb = OpenAIEmbedder(
        "text-embedding-3-large", 64, base_url=f"{openai_server.url}/v1", api_key=openai_server.api_key, batch_size=2
    )
    texts = ["capital expenditures", "dividends paid", "net income", "capital expenditures", ""]
    out = emb.embed_documents(texts)
    assert out.shape == (5, 64) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.allclose(out[0], out[3])  # same text, same vector: order kept across batches
    assert not np.allclose(out[0], out[1])
    assert emb.embed_query("net income").shape == (64,)
    assert emb.embed_documents([]).shape == (0, 64)


def test_wrong_dimension_is_refused(openai_server) -> None:
    openai_server.embedding_dim = 32
    emb = OpenAIEmbedder("some-model", 384, base_url=f"{openai_server.url}/v1", api_key=openai_server.api_key)
    with pytest.raises(EmbeddingDimensionError, match=r"32-dimensional.*expects 384"):
        emb.embed_documents(["hello"])


def test_index_refuses_another_model(tmp_path) -> None:
    from finrag.index.manifest import IndexManifest, IndexMismatchError, check_or_record

    minilm = IndexManifest.for_embedder("all-MiniLM-L6-v2/onnx-int8", 384)
    check_or_record(tmp_path, minilm, index_empty=True)
    check_or_record(tmp_path, IndexManifest.for_embedder("all-MiniLM-L6-v2/torch", 384), index_empty=False)
    with pytest.raises(IndexMismatchError, match="built with all-MiniLM-L6-v2 \\(384 dimensions\\)"):
        check_or_record(tmp_path, IndexManifest.for_embedder("text-embedding-3-large/openai", 3072), index_empty=False)
    # An empty index may switch models.
    check_or_record(tmp_path, IndexManifest.for_embedder("text-embedding-3-large/openai", 3072), index_empty=True)
    assert "3072" in (tmp_path / "index.json").read_text()


def test_factory_builds_the_remote_embedder(openai_server, tmp_path) -> None:
    from finrag.embed import build_embedder
    from finrag.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        embedder="openai",
        embedding_model="text-embedding-3-large",
        embedding_dim=48,
        embedding_base_url=f"{openai_server.url}/v1",
        embedding_api_key=openai_server.api_key,
    )
    openai_server.embedding_dim = 48
    emb = build_embedder(settings)
    assert isinstance(emb, OpenAIEmbedder) and emb.name == "text-embedding-3-large/openai"
    assert emb.embed_documents(["net income"]).shape == (1, 48)
    with pytest.raises(ValueError, match="FINRAG_EMBEDDING_MODEL"):
        build_embedder(Settings(data_dir=tmp_path, embedder="openai"))
