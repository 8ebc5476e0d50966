"""The long-context route: the scoped filing as one prompt-cached block, chosen by cost and quality,
the easy -> agentic -> long context escalation, and the per-request ceiling that stops it. Real
retrieval over the sample filings; the real AnthropicProvider against the fake Anthropic server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from finrag.answer.context import service_context
from finrag.answer.engine import AnswerEngine
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.pipelines.long_context import BLOCK_ID, LongContextPipeline
from finrag.answer.request import RequestBudget
from finrag.finance.facts import needs_reading
from finrag.llm import LLMSettings
from finrag.records import Answer
from finrag.settings import AnswerSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import anthropic_llm

anthropic_server = fixtures.anthropic_server

NW23 = "NORTHWINDROBOTICS_2023_10K"
RISKS = "What are the main risk factors Northwind Robotics describes in its 2023 10-K?"
WHERE = "Where is Northwind Robotics incorporated according to its 2023 10-K?"
WRONG = (
    "Northwind Robotics is incorporated in Nevada and its revenue was $9,999 million [NORTHWINDROBOTICS_2023_10K p.4]."
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def _best_line(body: dict[str, Any]) -> str:
    """The source line sharing most words with the question, cited to its page marker (long
    context) or to its source id (retrieval blocks)."""
    content = body["messages"][0]["content"]
    question = _words(content[-1]["text"].split("\n\nAnswer from")[0])
    best = (0, "")
    for block in content[:-1]:
        text = block.get("text", "")
        m = re.match(r'<source id="([^"]+)"[^>]*>\n(.*)\n</source>$', text, flags=re.S)
        if not m:
            continue
        parts = re.split(r"^=== (.+? p\.\d+) ===$", m.group(2), flags=re.M)
        pages = zip(parts[1::2], parts[2::2], strict=True) if len(parts) > 1 else [(m.group(1), m.group(2))]
        for label, page in pages:
            for line in page.split("\n"):
                if len(line.split()) >= 6:
                    score = len(question & _words(line))
                    if score > best[0]:
                        best = (score, f"{line.strip().rstrip('.')} [{label}].")
    return best[1] or "I don't know based on the provided sources."


def page_reply(body: dict[str, Any]) -> str:
    """Grounded on the long-context route, wrong (an invented figure) on every other request."""
    return _best_line(body) if "page by page" in body["system"][0]["text"] else WRONG


def engine(llm: LLMSettings, **answer: Any) -> AnswerEngine:
    answer.setdefault("online_eval_share", 0.0)
    answer.setdefault("long_context", True)
    return AnswerEngine(LLMAnswerer.from_settings(llm, sleep=lambda s: None), AnswerSettings(**answer))


def ask(service: Any, eng: AnswerEngine, question: str, mode: str = "auto", **kw: Any) -> Answer:
    result = service.retrieve(question)
    return eng.answer(question, result, mode, service_context(service, service.settings.tenant), **kw)


def source_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in body["messages"][0]["content"] if b.get("text", "").startswith("<source")]


# --- the route itself ---------------------------------------------------------------------------


def test_long_context_sends_the_filing_as_one_cached_block(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = page_reply
    a = ask(sample_service, engine(anthropic_llm(anthropic_server)), RISKS, mode="long_context")
    assert a.pipeline == "long_context" and a.trace["route"]["route"] == "long_context"
    (block,) = source_blocks(anthropic_server.last)  # ONE source block ...
    assert "cache_control" in block  # ... marked for the prompt cache
    pages = re.findall(r"^=== (NORTHWINDROBOTICS_2023_10K p\.\d+) ===$", block["text"], flags=re.M)
    assert len(pages) == 13 and pages[0].endswith("p.1")  # the whole 13-page filing, in page order
    assert f'id="{BLOCK_ID}"' in block["text"]
    assert "page by page" in anthropic_server.last["system"][0]["text"]
    lc = a.trace["long_context"]
    assert lc["whole_filings"] and lc["pages"] == {NW23: "1-13"} and lc["tokens"] > 4_000
    # the answer cites a page (not the block), and is checked against that page's own text
    (c,) = a.citations
    assert c.doc_name == NW23 and 1 <= c.page <= 13 and "risk" in c.quote.lower()
    assert f"[{NW23} p.{c.page}]" in a.text
    assert a.supported and a.faithfulness is not None and a.faithfulness >= 0.7
    assert a.trace["prompt"]["blocks"] == 1 and a.trace["prompt"]["cache_context"] is True
    assert a.usage["cache_creation_input_tokens"] > 4_000 and a.usage["cache_read_input_tokens"] == 0


def test_follow_up_questions_read_the_filing_from_the_cache(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = page_reply
    eng = engine(anthropic_llm(anthropic_server))
    first = ask(sample_service, eng, RISKS, mode="long_context")
    second = ask(sample_service, eng, WHERE, mode="long_context")
    assert first.trace["long_context"]["block_key"] == second.trace["long_context"]["block_key"]
    assert second.usage["cache_creation_input_tokens"] == 0
    assert second.usage["cache_read_input_tokens"] == first.usage["cache_creation_input_tokens"]
    assert second.cost_usd < first.cost_usd / 3  # a cache read is 0.1x input, the first write 1.25x
    # without prompt caching every question pays the whole filing again
    anthropic_server.reset()
    anthropic_server.answer = page_reply
    plain = engine(anthropic_llm(anthropic_server, prompt_cache=False))
    ask(sample_service, plain, RISKS, mode="long_context")
    again = ask(sample_service, plain, WHERE, mode="long_context")
    assert again.usage["cache_read_input_tokens"] == 0 and again.cost_usd > 3 * second.cost_usd


def test_long_windows_are_aligned_so_follow_ups_share_them(sample_service: Any) -> None:
    """A filing over the token budget is cut into fixed windows of consecutive pages; the window
    holding the retrieved pages is sent, the same one for every question landing in it."""
    ctx = service_context(sample_service, sample_service.settings.tenant)
    lc = LongContextPipeline(LLMAnswerer(None), max_tokens=1_500, window_tokens=200_000)
    cash = sample_service.retrieve("What was Northwind Robotics' cash from operations in its 2023 10-K?")
    debt = sample_service.retrieve("What was Northwind Robotics' total debt in its 2023 10-K?")
    sel_a, _ = lc.select("q", cash.hits, cash.scope, ctx)
    sel_b, _ = lc.select("q", debt.hits, debt.scope, ctx)
    assert sel_a is not None and sel_b is not None and not sel_a.whole
    assert sel_a.tokens <= 1_500 and len(sel_a.pages) < 13
    pages_a = [p.page_start for p in sel_a.pages]
    assert pages_a == list(range(pages_a[0], pages_a[-1] + 1))  # consecutive pages
    top = cash.hits[0].chunk
    assert top.doc_id in sel_a.doc_ids and top.page_start in pages_a  # the best hit's page is in the window
    if {p.page_start for p in sel_b.pages} & set(pages_a):
        assert sel_a.key == sel_b.key  # same window, same block, same cache entry


# --- the router's choice ------------------------------------------------------------------------


def test_router_chooses_long_context_by_cost_and_quality(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = _best_line  # grounded answers everywhere: no escalation
    eng = engine(anthropic_llm(anthropic_server))
    # a lookup on a cold filing: retrieval is far cheaper
    cold = ask(sample_service, eng, WHERE)
    choice = cold.trace["long_context_choice"]
    assert choice["eligible"] and not choice["chosen"] and not choice["cache_warm"]
    assert choice["est_usd"] > choice["est_rag_usd"] > 0 and cold.pipeline != "long_context"
    # a question that needs reading: long context (it also warms the cache)
    reading = ask(sample_service, eng, RISKS)
    assert needs_reading(RISKS) and reading.pipeline == "long_context"
    assert reading.trace["route"]["source"] == "cost" and "reading" in reading.trace["long_context_choice"]["reason"]
    # the same lookup again: the filing is cached now, so long context costs about what retrieval does
    warm = ask(sample_service, eng, WHERE)
    assert warm.pipeline == "long_context" and warm.trace["long_context_choice"]["cache_warm"]
    assert "prompt cache" in warm.trace["long_context_choice"]["reason"]
    assert warm.usage["cache_read_input_tokens"] > 4_000
    # a metric the calculator computes from cited rows stays agentic, cache or not
    metric = ask(sample_service, eng, "What was Northwind Robotics' gross margin in fiscal 2023?")
    assert metric.pipeline == "agentic" and not metric.trace["long_context_choice"]["chosen"]


def test_offline_long_context_degrades_to_easy_and_says_so(sample_service: Any) -> None:
    eng = engine(LLMSettings(providers=["extractive"]))
    a = ask(sample_service, eng, RISKS, mode="long_context")
    assert a.pipeline == "easy" and a.citations
    assert any("long-context route was not used (it needs an LLM" in n for n in a.notes)


def test_unscoped_question_is_not_sent_whole(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = page_reply
    a = ask(sample_service, engine(anthropic_llm(anthropic_server)), "What are the main risks?", mode="long_context")
    assert a.pipeline == "easy"
    assert any("long-context route was not used" in n and "scoped" in n for n in a.notes)
    assert not any(f'id="{BLOCK_ID}"' in b["text"] for r in anthropic_server.requests for b in source_blocks(r.body))


# --- escalation and the per-request ceiling ------------------------------------------------------


def test_escalates_easy_agentic_long_context_while_ungrounded(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = page_reply  # every retrieval-sized answer is wrong; the whole filing fixes it
    a = ask(sample_service, engine(anthropic_llm(anthropic_server)), WHERE)
    assert [s["step"] for s in a.trace["escalation"]] == ["easy", "agentic", "long_context"]
    easy, agentic, lc = a.trace["pipelines_run"]
    assert not easy["supported"] and not agentic["supported"] and lc["supported"]
    assert a.pipeline == "long_context" and "Nevada" not in a.text and "Delaware" in a.text
    assert a.trace["fallback"]["tried"] == ["easy", "agentic", "long_context"]
    assert a.cost_usd == pytest.approx(sum(r["cost_usd"] for r in a.trace["pipelines_run"]), abs=1e-6)
    assert any("easy pipeline's answer was not used" in n for n in a.notes)


def test_ceiling_stops_escalation(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = page_reply
    eng = engine(anthropic_llm(anthropic_server))
    full = ask(sample_service, eng, WHERE)
    easy_usd, agentic_usd = (s["cost_usd"] for s in full.trace["escalation"][:2])

    # room for easy + agentic, not for sending the whole filing
    ceiling = easy_usd + agentic_usd + 0.001
    anthropic_server.reset()
    anthropic_server.answer = page_reply
    eng = engine(anthropic_llm(anthropic_server))
    a = ask(sample_service, eng, WHERE, budget=RequestBudget(ceiling_usd=ceiling))
    assert [s["pipeline"] for s in a.trace["pipelines_run"]] == ["easy", "agentic"]
    skipped = a.trace["escalation"][-1]
    assert skipped["step"] == "long_context" and "ceiling" in skipped["skipped"] and skipped["est_usd"] > 0.001
    assert a.trace["budget"]["stopped_before"] == "long_context" and a.cost_usd <= ceiling
    assert any("not escalated to the long_context pipeline" in n for n in a.notes)

    # a ceiling below the first answer's cost: no escalation at all
    anthropic_server.reset()
    anthropic_server.answer = page_reply
    b = ask(
        sample_service, engine(anthropic_llm(anthropic_server)), WHERE, budget=RequestBudget(ceiling_usd=easy_usd / 2)
    )
    assert [s["pipeline"] for s in b.trace["pipelines_run"]] == ["easy"]
    assert b.trace["budget"]["stopped_before"] == "agentic" and len(anthropic_server.requests) == 1


def test_offline_budget_makes_no_llm_call(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = page_reply
    eng = engine(anthropic_llm(anthropic_server))
    reason = "monthly LLM budget of $1.00 reached: offline answer (extractive, no LLM call)"
    a = ask(sample_service, eng, RISKS, budget=RequestBudget(offline=True, reason=reason))
    assert anthropic_server.requests == [] and a.cost_usd == 0.0 and a.citations
    assert a.trace["budget"]["offline"] and reason in a.notes
    assert not any("no LLM provider configured" in n for n in a.notes)  # the budget is the reason, not config
    # a zero ceiling means the same
    b = ask(sample_service, eng, WHERE, budget=RequestBudget(ceiling_usd=0.0))
    assert anthropic_server.requests == [] and b.trace["budget"]["offline"]
