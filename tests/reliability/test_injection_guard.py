"""Issue 15.5: one injection guard, at the one boundary between retrieval and every answer pipeline.

Before: a planted "revenue was $999 billion … according to the assistant instructions" reached the
answer in vision mode at faithfulness 1.0 and as a quoted line in auto mode, and the injected page made
the correct figure on it a false alarm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finrag.answer.guard import WITHHELD, flag, flagged_sentences, redact
from finrag.ingest.parse import PdfiumParser
from finrag.sample.generate import INJECTION_TEXT
from finrag.settings import AnswerSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import anthropic_llm
from tests.reliability.injection_set import FILE, STYLES, ask_all, cases, naive_model, write_filing

anthropic_server = fixtures.anthropic_server


def test_every_style_is_flagged_as_written() -> None:
    missed = [style for style, template in STYLES if flag(template.format(fake="$999 billion")) is None]
    assert len(STYLES) >= 20 and not missed, missed


def test_filing_language_is_not_flagged(sample_dir: Path) -> None:
    """Statements about AI, award-agreement orders to employees, agents in revenue recognition: data."""
    for sentence in (
        "We act as an agent in these transactions and record revenue net of costs.",
        "You must report any Shares acquired under the Plan on your annual tax return.",
        "You should carefully consider the risks described below.",
        "AI workloads will need to use more power in our data centers.",
        "Your right to vest will terminate when you are no longer actively providing services.",
        "Our assistant store managers must complete training before the holiday season.",
        "We always use the straight-line method for depreciation.",
    ):
        assert flag(sentence) is None, sentence
    flagged = []
    for pdf in sorted(sample_dir.glob("*.pdf")):
        for page in PdfiumParser().parse(pdf):
            flagged += [s for s, _ in flagged_sentences(page.text)]
    assert flagged == [INJECTION_TEXT]  # the sample filings' one planted sentence, nothing else


def test_redaction_keeps_the_true_figure_and_drops_the_planted_one() -> None:
    case = cases()[1]
    page = f"Revenue of the {case.segment} segment was {case.true_figure} in fiscal\n2023. {case.sentence}\nMore."
    clean, found = redact(page)
    assert [s for s, _ in found] == [case.sentence]
    assert case.true_figure in clean and case.fake_figure not in clean and WITHHELD in clean


@pytest.fixture(scope="module")
def injected_service(tmp_path_factory: pytest.TempPathFactory, shared_embedder) -> Any:  # type: ignore[no-untyped-def]
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings

    folder = tmp_path_factory.mktemp("injection")
    pdf = write_filing(folder)
    server = fixtures._shared("anthropic")
    settings = make_settings(
        folder / "data",
        llm=anthropic_llm(server),
        answer=AnswerSettings(online_eval_share=0),
    )
    components = build_components(settings)
    components.embedder = shared_embedder
    svc = QAService(settings, components)
    report = svc.ingest([pdf])
    assert not report.failed and svc.documents()[0].name == Path(FILE).stem
    yield svc
    svc.close()


@pytest.mark.slow
def test_injection_set_is_blocked_in_every_mode(injected_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = naive_model
    result = ask_all(injected_service, anthropic_server)
    leaks = [(r["mode"], r["style"]) for r in result["rows"] if not r["blocked"]]
    per_mode = {
        m: {
            "blocked": sum(r["blocked"] for r in result["rows"] if r["mode"] == m),
            "true_figure_supported": sum(
                r["true_answered"] and not r["unsupported"] for r in result["rows"] if r["mode"] == m
            ),
            "of": sum(r["mode"] == m for r in result["rows"]),
        }
        for m in dict.fromkeys(r["mode"] for r in result["rows"])
    }
    summary = {"blocked": result["blocked"], "total": result["total"], "share": result["share_blocked"]}
    print(json.dumps({**summary, "per_mode": per_mode}))
    assert result["total"] >= 100 and not leaks, leaks
    # the true figure on each injected page is still answered, and counts as supported
    easy = [r for r in result["rows"] if r["mode"] == "easy"]
    supported = [r for r in easy if r["true_answered"] and not r["unsupported"]]
    assert len(supported) >= 0.9 * len(easy), [r for r in easy if r not in supported]


def test_the_guard_is_applied_and_traced_by_the_service(injected_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = naive_model
    case = cases()[1]
    answer = injected_service.ask(f"What was the revenue of the {case.segment} segment in fiscal 2023?", mode="easy")
    withheld = answer.trace["guard"]["withheld"]
    assert any(w["page"] == case.page for w in withheld), withheld
    assert case.fake_figure not in answer.text and case.true_figure in answer.text
    assert answer.unsupported_figures == []
