"""Multi-query rewrite: the rules read from the question's facts, the LLM rewrite through the fake Anthropic
server, and retrieval over the sample filings with the sub-queries fused in."""

from __future__ import annotations

import pytest

from finrag.finance.facts import read_question
from finrag.llm import LLMSettings
from finrag.records import DocStatus, DocumentRecord, Filing, Scope
from finrag.retrieve.multiquery import MultiQueryRewriter, llm_complete_fn, parse_llm_queries, rule_subqueries
from finrag.retrieve.rerank import build_reranker
from finrag.retrieve.retriever import Retriever
from finrag.settings import RetrievalSettings
from tests.fakes import fixtures

anthropic_server = fixtures.anthropic_server


def _doc(doc_id: str, company: str, year: int) -> DocumentRecord:
    return DocumentRecord(
        doc_id, "default", doc_id, "", "", DocStatus.READY, filing=Filing(company=company, fiscal_year=year)
    )


def test_a_ratio_is_split_into_its_line_items() -> None:
    subs = rule_subqueries(read_question("What was Northwind Robotics' FY2023 inventory turnover ratio?"))
    assert {q.reason for q in subs} == {"line item: cogs", "line item: inventory"}
    assert all("FY2023" in q.text and not q.doc_ids for q in subs)


def test_a_single_lookup_is_not_split() -> None:
    assert rule_subqueries(read_question("What was Bluefin Foods' revenue in FY2023?")) == []
    assert rule_subqueries(read_question("What does Cedar Ridge Energy say about its competition?")) == []


def test_years_and_companies_become_sub_queries_over_their_own_filings() -> None:
    docs = [_doc("n22", "Northwind", 2022), _doc("n23", "Northwind", 2023), _doc("b23", "Bluefin", 2023)]
    facts = read_question("Which acquisitions were announced in FY2022 and in FY2023?")
    subs = rule_subqueries(facts, docs, max_queries=10)
    by_reason = {q.reason: q for q in subs}
    assert by_reason["fiscal year 2022"].doc_ids == ("n22",)
    assert set(by_reason["fiscal year 2023"].doc_ids) == {"n23", "b23"}
    assert set(by_reason["company: Bluefin"].doc_ids) == {"b23"}
    assert "2022" not in by_reason["fiscal year 2023"].text  # each year's query names its own year only
    # The cap keeps the first sub-queries.
    assert len(rule_subqueries(facts, docs, max_queries=2)) == 2


def test_only_filings_of_the_scope_are_split_by() -> None:
    docs = [_doc("n22", "Northwind", 2022), _doc("b22", "Bluefin", 2022)]
    rw = MultiQueryRewriter(max_queries=10)
    facts = read_question("How did revenue change from FY2021 to FY2022?")
    got = rw.decompose(facts, Scope(doc_ids=["n22"], applied=True), docs)
    assert not any(q.reason.startswith("company") for q in got.subqueries)


def test_llm_replies_are_read_one_query_a_line() -> None:
    reply = "1. Northwind revenue FY2023\n- Northwind inventories FY2023\n\nNorthwind revenue FY2023\nQ?"
    assert parse_llm_queries(reply, "q", 4) == ["Northwind revenue FY2023", "Northwind inventories FY2023"]


def test_llm_rewrite_through_the_fake_server_and_rules_when_it_fails(anthropic_server) -> None:
    llm = LLMSettings(
        providers=["anthropic"],
        anthropic_api_key="test-key",
        anthropic_base_url=anthropic_server.url,
        max_retries=0,
    )
    complete = llm_complete_fn(llm)
    assert complete is not None
    anthropic_server.answer = "Northwind cost of sales FY2023\nNorthwind inventories balance sheet FY2023"
    rw = MultiQueryRewriter(complete=complete)
    facts = read_question("What was Northwind Robotics' FY2023 inventory turnover ratio?")
    got = rw.decompose(facts, Scope())
    assert got.source == "llm"
    assert [q.text for q in got.subqueries] == [
        "Northwind cost of sales FY2023",
        "Northwind inventories balance sheet FY2023",
    ]
    sent = anthropic_server.last
    assert "one query per line" in sent["system"][0]["text"]
    assert "inventory turnover" in sent["messages"][0]["content"][-1]["text"]

    calls = len(anthropic_server.requests)
    assert rw.decompose(read_question("What was Bluefin Foods' revenue in FY2023?"), Scope()).subqueries == []
    assert len(anthropic_server.requests) == calls  # a single lookup costs no call

    anthropic_server.fail_with(500)
    fallback = rw.decompose(facts, Scope())
    assert fallback.source == "llm failed: rules"
    assert {q.reason for q in fallback.subqueries} == {"line item: cogs", "line item: inventory"}


def test_no_provider_no_llm_rewrite() -> None:
    assert llm_complete_fn(LLMSettings(providers=["anthropic"], anthropic_api_key=None)) is None


@pytest.mark.slow
def test_retrieval_fuses_sub_queries_of_two_companies(sample_service) -> None:
    docs = sample_service.documents()
    north = next(d.filing.company for d in docs if d.filing.company.startswith("Northwind"))
    blue = next(d.filing.company for d in docs if d.filing.company.startswith("Bluefin"))
    question = f"Compare the FY2023 research and development spending of {north} and {blue}."

    def run(**changes):  # type: ignore[no-untyped-def]
        rs = RetrievalSettings(**{**sample_service.settings.retrieval.model_dump(), **changes})
        c = sample_service.c
        r = Retriever(c.store, c.embedder, c.sparse, c.registry, rs, build_reranker(rs.rerank, rs.cross_encoder_model))
        return r.run(question, "default", top_k=6)

    multi = run(multi_query=True, multi_query_max=4)
    subs = multi.trace["multi_query"]["subqueries"]
    assert {s["reason"] for s in subs} >= {f"company: {north}", f"company: {blue}"}
    companies = {h.chunk.metadata.get("company") for h in multi.hits}
    assert {north, blue} <= companies, companies
    assert "multi_query" not in run(multi_query=False).trace
