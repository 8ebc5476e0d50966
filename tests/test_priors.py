"""Section / form priors from the question's intent (retrieve/priors.py + finance/data/intents.toml)."""

from __future__ import annotations

from finrag.ingest.sections import all_keys
from finrag.records import Chunk, ChunkKind, DocType, Hit
from finrag.retrieve.priors import Priors, apply_priors, load_intents


def _page(i: int, section: str, doc_type: str = "10-K", score: float = 1.0) -> Hit:
    meta = {"doc_type": doc_type, "section_key": section, "sections": [section]}
    return Hit(Chunk(f"c{i}", f"d{doc_type}", "t", ChunkKind.PASSAGE, "text", i, i, metadata=meta), score)


def test_intents_map_questions_to_sections() -> None:
    table = load_intents()
    cases = {
        "What industry does Acme operate in?": "business",
        "Who are the primary customers of Acme?": "business",
        "Is Acme's business cyclical?": "risk_factors",
        "Has Acme reported any materially important ongoing legal battles?": "legal",
        "What drove the gross margin change in FY2022?": "mda",
        "Which debt securities are registered to trade on a national securities exchange?": "cover",
    }
    for question, section in cases.items():
        priors = table.priors(question)
        assert priors.sections.get(section) == 1.0, (question, priors)
    assert table.priors("Has Acme been sued?").sections["notes_contingencies"] == 1.0
    assert not table.priors("What is the FY2018 capex?")


def test_intents_map_questions_to_forms() -> None:
    table = load_intents()
    assert table.priors("What acquisitions were made in FY2023, FY2022 and FY2021?").forms == {"10-K": 1.0}
    assert table.priors("What was total debt as of Q2 FY2023?").forms.get("10-Q") == 1.0
    assert table.priors("What is the FY2024 adjusted EPS guidance?").forms.get("earnings") == 1.0
    assert table.priors("How many votes against did each nominee get?").forms.get("8-K") == 1.0
    # Switched off, only the other kind remains.
    assert not table.priors("How many votes against?", forms=False).forms


def test_every_section_named_in_the_intent_table_exists() -> None:
    keys = all_keys()
    for intent in load_intents().intents:
        assert set(intent.sections) <= keys, intent.name
        assert set(intent.forms) <= {t.value for t in DocType}, intent.name


def test_priors_rerank_and_never_drop() -> None:
    pages = [_page(0, "mda", score=3.0), _page(1, "notes", score=2.6), _page(2, "legal", score=2.5),
             _page(3, "business", score=1.0)]  # fmt: skip
    out = apply_priors(pages, Priors(("legal",), {"legal": 1.0}), section_weight=0.3, form_weight=0.0)
    assert [h.chunk.page_start for h in out] == [2, 0, 1, 3]  # legal: 2.5 + 0.3 x (3.0 - 1.0) = 3.1
    assert len(out) == len(pages)
    # A prior far below the score gaps changes nothing.
    out = apply_priors(pages, Priors(("legal",), {"legal": 1.0}), section_weight=0.01, form_weight=0.0)
    assert [h.chunk.page_start for h in out] == [0, 1, 2, 3]


def test_form_prior_and_no_company_scale() -> None:
    pages = [_page(0, "mda", "8-K", score=2.0), _page(1, "mda", "10-K", score=1.9), _page(2, "mda", "10-Q", score=1.0)]
    priors = Priors(("several fiscal years",), forms={"10-K": 1.0})
    assert [h.chunk.page_start for h in apply_priors(pages, priors, 0.0, 0.2)] == [1, 0, 2]
    assert [h.chunk.page_start for h in apply_priors(pages, priors, 0.0, 0.01)] == [0, 1, 2]
    assert [h.chunk.page_start for h in apply_priors(pages, priors, 0.0, 0.01, scale=20.0)] == [1, 0, 2]
