"""GraphRAG communities: build-time summaries with cited relations (extractive, and by the LLM through the
fake Anthropic server), and global / cross-filing questions answered from them over the sample filings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("networkx")

from finrag.graph.build import GraphBuilder, sentence_at
from finrag.graph.global_answer import GlobalAnswerer, is_global
from finrag.graph.route import GraphRetriever
from finrag.llm import LLMSettings
from finrag.records import Scope
from finrag.retrieve.multiquery import llm_complete_fn
from finrag.retrieve.rerank import build_reranker
from finrag.retrieve.retriever import Retriever
from finrag.sample.companies import load_companies
from finrag.settings import RetrievalSettings
from tests.fakes import fixtures

anthropic_server = fixtures.anthropic_server
TENANT = "default"
CROSS_FILING = Path(__file__).resolve().parents[1] / "finrag" / "sample" / "cross_filing.jsonl"


def _questions() -> list[dict]:
    return [json.loads(x) for x in CROSS_FILING.read_text().splitlines() if x.strip()]


def test_the_cross_filing_set_agrees_with_the_sample_companies() -> None:
    owner = {s.name: c.short for c in load_companies().values() for s in c.segments}
    rows = _questions()
    assert len(rows) >= 15 and len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["segments"] and r["companies"], r
        if r["kind"] == "which_company":
            assert [owner[s] for s in r["segments"]] == r["companies"], r
        else:
            assert r["kind"] == "segments_of"
            assert sorted(r["segments"]) == sorted(s for s, c in owner.items() if c in r["companies"]), r
        assert is_global(r["question"]), r["question"]


def test_global_question_gate() -> None:
    assert not is_global("What was Bluefin Foods' FY2023 revenue?")
    assert not is_global("Which company had the highest revenue?")  # no segment: not from the summaries
    assert is_global("Compare the segments of Northwind Robotics and Cedar Ridge Energy.")


def test_sentence_at_quotes_the_sentence_around_a_position() -> None:
    text = "Intro line\nWe grew. Our Upstream segment produced more oil. Prices fell."
    assert sentence_at(text, text.index("Upstream")) == "Our Upstream segment produced more oil."


@pytest.fixture(scope="module")
def route(sample_service, tmp_path_factory: pytest.TempPathFactory) -> GraphRetriever:
    r = GraphRetriever(sample_service.c.store, sample_service.c.registry, tmp_path_factory.mktemp("graph-global"))
    r.warm_up()
    return r


@pytest.mark.slow
def test_community_summaries_state_each_segment_with_its_cited_page(sample_service, route) -> None:
    tg = route.tenant_graph(TENANT)
    assert tg is not None
    summaries = tg.graph.graph["communities"]
    reports = {
        (r["source"], r["target"]): r for s in summaries for r in s["relations"] if r["rel"] == "reports segment"
    }
    expected = {(c.name, s.name) for c in load_companies().values() for s in c.segments}
    assert expected <= set(reports)
    pages = {}
    for (company, segment), r in reports.items():
        if (company, segment) not in expected:
            continue
        assert r["evidence"], r
        for e in r["evidence"]:
            assert segment in e["quote"]  # the sentence or row that states the relation
            key = (e["doc_id"], e["page"] - 1)
            if key not in pages:
                chunks = sample_service.c.store.page_chunks(TENANT, e["doc_id"], [e["page"] - 1])
                pages[key] = chunks[0].text
            assert e["quote"].split()[0] in pages[key] and segment in pages[key]  # the cited page says it
            assert company.split()[0].upper() in e["doc_name"]
    text = next(s["summary"] for s in summaries if s["relations"])
    assert re.search(r"reports segment .+ \[[A-Z0-9_]+ p\.\d+\]", text)


@pytest.mark.slow
def test_llm_community_summaries_through_the_fake_server(sample_service, anthropic_server, tmp_path) -> None:
    anthropic_server.answer = "This community groups the companies' reportable segments [BLUEFINFOODS_2023_10K p.12]."
    llm = LLMSettings(
        providers=["anthropic"], anthropic_api_key="test-key", anthropic_base_url=anthropic_server.url, max_retries=0
    )
    builder = GraphBuilder(sample_service.c.store, sample_service.c.registry, tmp_path, summarise=llm_complete_fn(llm))
    g = builder.build(TENANT)
    with_llm = [s for s in g.graph["communities"] if "llm_summary" in s]
    assert with_llm and all(s["relations"] for s in with_llm)
    assert with_llm[0]["llm_summary"] == anthropic_server.answer
    sent = [r.body for r in anthropic_server.requests]
    assert len(sent) == len(with_llm)
    assert "summarise one community" in sent[0]["system"][0]["text"]
    assert with_llm[0]["summary"].splitlines()[0] in json.dumps(sent[0]["messages"])  # the extractive summary

    anthropic_server.fail_with(500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
    again = GraphBuilder(
        sample_service.c.store, sample_service.c.registry, tmp_path / "b", summarise=llm_complete_fn(llm)
    )
    assert again.build(TENANT).graph["communities"]  # a failing model leaves the extractive summaries


@pytest.mark.slow
def test_cross_filing_questions_are_answered_from_the_summaries(sample_service, route) -> None:
    answerer = GlobalAnswerer(route)
    companies = {c.short: c.name for c in load_companies().values()}
    for r in _questions():
        got = answerer.answer(r["question"], TENANT, Scope())
        assert got is not None, r["question"]
        for c in r["companies"]:
            assert companies[c] in got.text, (r["question"], got.text)
        for s in r["segments"]:
            assert s in got.text
        if r["kind"] == "which_company":
            others = [name for short, name in companies.items() if short not in r["companies"]]
            assert not any(o in got.text for o in others), got.text
        cited = {c.doc_name for c in got.citations}
        assert all(any(companies[c].split()[0].upper() in d for d in cited) for c in r["companies"])
        assert all(s in " ".join(c.quote for c in got.citations) for s in r["segments"])
    assert answerer.answer("What was Bluefin Foods' FY2023 revenue?", TENANT, Scope()) is None


@pytest.mark.slow
def test_ask_answers_from_the_graph_only_when_opted_in(sample_service) -> None:
    question = "Which of these companies reports a Renewables segment?"
    original = sample_service.retriever
    c = sample_service.c
    try:
        for on in (False, True):
            rs = RetrievalSettings(**{**sample_service.settings.retrieval.model_dump(), "graph_answers": on})
            sample_service.retriever = Retriever(
                c.store,
                c.embedder,
                c.sparse,
                c.registry,
                rs,
                build_reranker(rs.rerank, ""),
                graph_dir=original.graph_dir,
            )
            answer = sample_service.ask(question)
            assert (answer.pipeline == "graph") is on
            if on:
                assert "Cedar Ridge Energy Co. reports the Renewables segment" in answer.text
                assert answer.citations and answer.citations[0].doc_name.startswith("CEDARRIDGEENERGY")
                assert answer.trace["graph_answer"]["relations"]
    finally:
        sample_service.retriever = original
