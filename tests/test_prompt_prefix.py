"""The filing prefix: a scoped filing's cover + statement pages sent as a cached prompt prefix from its
repeated questions on, through the real AnthropicProvider and the fake server's cache accounting."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from finrag.answer.context import TenantContext
from finrag.answer.llm_answerer import LLMAnswerer, filing_prefix
from finrag.llm import LLMSettings
from finrag.llm.prompting import SYSTEM_PROMPT
from finrag.records import Chunk, ChunkKind, Hit, Scope
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic, count_tokens

anthropic_server = fixtures.anthropic_server
DOC = "NWR_2023_10K"


def _rows(title: str, labels: Sequence[str]) -> str:
    lines = [title, "(In millions, except per share data)", "2023 2022 2021"]
    lines += [f"{label} {100 + i:,} {90 + i:,} {80 + i:,}" for i, label in enumerate(labels)]
    return "\n".join(lines)


INCOME = _rows(
    "CONSOLIDATED STATEMENTS OF OPERATIONS",
    ["Net sales", "Cost of sales", "Gross profit", "Research and development", "Selling, general and administrative"]
    + [f"Other operating line {i}" for i in range(40)],
)
BALANCE = _rows(
    "CONSOLIDATED BALANCE SHEETS",
    ["Cash and cash equivalents", "Inventories", "Total current assets", "Total assets", "Accounts payable"]
    + [f"Other balance line {i}" for i in range(40)],
)
PAGES = {
    0: "Northwind Robotics, Inc. Annual Report on Form 10-K for the fiscal year ended December 31, 2023.",
    1: "Item 1. Business. We make warehouse robots. " * 20,
    40: INCOME,
    42: BALANCE,
    50: "Notes to the consolidated financial statements. " * 20,
}


def _page(n: int) -> Chunk:
    return Chunk(f"{DOC}-p{n}", "d1", "default", ChunkKind.PAGE, PAGES[n], n, n, metadata={"doc_name": DOC})


def _ctx() -> TenantContext:
    return TenantContext(tenant="default", read_document=lambda doc_id: [_page(n) for n in sorted(PAGES)])


def _answerer(server: FakeAnthropic, **kw: object) -> LLMAnswerer:
    opts: dict[str, object] = {
        "prompt_cache_filing_prefix": True,
        "prompt_cache_prefix_after": 1,
        "prompt_cache_prefix_max_tokens": 3000,
        **kw,
    }
    llm = LLMSettings(
        providers=["anthropic"],
        anthropic_api_key="test-key",
        anthropic_base_url=server.url,
        max_retries=0,
        **opts,  # type: ignore[arg-type]
    )
    return LLMAnswerer.from_settings(llm)


def test_prefix_holds_statement_pages_then_the_cover_within_the_budget() -> None:
    pages = [_page(n) for n in sorted(PAGES)]
    prefix = filing_prefix("d1", pages, None, max_tokens=3000)
    assert prefix is not None
    assert [b.id for b in prefix.blocks] == [f"{DOC} p.41", f"{DOC} p.43", f"{DOC} p.1"]
    assert prefix.whole == {b.id for b in prefix.blocks}
    # The same pages give the same prefix, whatever is asked: that is what makes it cacheable.
    assert filing_prefix("d1", list(reversed(pages)), None, 3000).key == prefix.key  # type: ignore[union-attr]
    small = filing_prefix("d1", pages, None, max_tokens=150)
    assert small is not None and [b.id for b in small.blocks] == [f"{DOC} p.41"]
    assert small.whole == set() and small.tokens <= 150  # cut to the budget, so not a substitute for the page
    assert filing_prefix("d1", [_page(1), _page(50)], None, 3000) is None  # no statement page


def test_repeated_questions_on_one_filing_read_the_prefix_from_the_cache(anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = f"Net sales were $100 million in FY2023 [{DOC} p.41]."
    llm = _answerer(anthropic_server)
    scope = Scope(doc_ids=["d1"], applied=True)
    retrieved = [Hit(_page(40), 1.0), Hit(_page(1), 0.5)]

    def ask(question: str):  # type: ignore[no-untyped-def]
        prefix = llm.prefix_for(scope, _ctx())
        return prefix, llm.generate(question, retrieved, scope=scope, prefix=prefix)

    p1, g1 = ask("What were Northwind's FY2023 net sales?")
    assert p1 is None  # a first question on the filing may be a one-off: no cache write for it
    assert g1.usage.cache_creation_input_tokens == 0 == g1.usage.cache_read_input_tokens

    p2, g2 = ask("What was Northwind's FY2023 gross profit?")
    assert p2 is not None
    prefix_tokens = g2.usage.cache_creation_input_tokens
    assert prefix_tokens >= 1024 and g2.usage.cache_read_input_tokens == 0
    content = anthropic_server.last["messages"][0]["content"]
    ids = [b["text"].split('"')[1] for b in content if b["text"].startswith("<source")]
    assert ids.count(f"{DOC} p.41") == 1  # the retrieved statement page is not sent twice
    assert ids[:3] == [b.id for b in p2.blocks] and ids[3:] == [f"{DOC} p.2"]
    assert "cache_control" in content[len(p2.blocks)]  # breakpoint on the last prefix block
    assert [c.page for c in g2.citations] == [41]

    _, g3 = ask("What were Northwind's FY2023 inventories?")
    assert g3.usage.cache_read_input_tokens == prefix_tokens and g3.usage.cache_creation_input_tokens == 0
    assert g3.cost_usd < g1.cost_usd  # reading the prefix costs less than paying the system prompt in full

    # Another filing starts its own count.
    assert llm.prefix_for(Scope(doc_ids=["d2"], applied=True), _ctx()) is None


def test_no_prefix_where_it_cannot_pay(anthropic_server: FakeAnthropic) -> None:
    scope = Scope(doc_ids=["d1"], applied=True)
    default = LLMAnswerer.from_settings(
        LLMSettings(providers=["anthropic"], anthropic_api_key="test-key", anthropic_base_url=anthropic_server.url)
    )
    assert [default.prefix_for(scope, _ctx()) for _ in range(5)] == [None] * 5  # opt-in
    off = _answerer(anthropic_server, prompt_cache_filing_prefix=False)
    uncached = _answerer(anthropic_server, prompt_cache=False)
    for llm in (off, uncached):
        assert [llm.prefix_for(scope, _ctx()) for _ in range(3)] == [None, None, None]
    # Under the model's minimum nothing would be cached: the pages would be paid in full on every call.
    tiny = _answerer(anthropic_server, prompt_cache_prefix_max_tokens=200, prompt_cache_prefix_after=0)
    assert count_tokens(SYSTEM_PROMPT) + 200 < 1024
    assert tiny.prefix_for(scope, _ctx()) is None
    # Several filings in scope: no single filing to cache.
    eager = _answerer(anthropic_server, prompt_cache_prefix_after=0)
    assert eager.prefix_for(Scope(doc_ids=["d1", "d2"], applied=True), _ctx()) is None
    assert eager.prefix_for(scope, _ctx()) is not None


@pytest.mark.parametrize("after", [0, 2])
def test_prefix_after_counts_earlier_questions(anthropic_server: FakeAnthropic, after: int) -> None:
    llm = _answerer(anthropic_server, prompt_cache_prefix_after=after)
    scope = Scope(doc_ids=["d1"], applied=True)
    got = [llm.prefix_for(scope, _ctx()) is not None for _ in range(4)]
    assert got == [i >= after for i in range(4)]
