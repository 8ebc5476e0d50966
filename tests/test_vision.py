"""Vision pipeline: page renders (pypdfium2), image blocks to a vision model (fake Anthropic / OpenAI),
the offline answer with page images as evidence."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from finrag.answer.context import TenantContext, service_context
from finrag.answer.engine import AnswerEngine
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.ingest.render import render_page_png
from finrag.llm import LLMSettings
from finrag.llm.base import PNG_MAGIC
from finrag.records import Answer
from finrag.settings import AnswerSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI

anthropic_server = fixtures.anthropic_server
openai_server = fixtures.openai_server

QUESTION = "What does the layout of the balance sheet table on page 10 of Bluefin Foods' fiscal 2023 10-K show?"


def png_size(png: bytes) -> tuple[int, int]:
    w, h = struct.unpack(">II", png[16:24])
    return w, h


def engine(llm: LLMSettings | None = None, **kw: Any) -> AnswerEngine:
    llm = llm or LLMSettings(providers=["extractive"])
    return AnswerEngine(
        LLMAnswerer.from_settings(llm, sleep=lambda s: None), AnswerSettings(online_eval_share=0, **kw), **{}
    )


def ask(service: Any, eng: AnswerEngine, question: str, ctx: TenantContext | None = None) -> Answer:
    result = service.retrieve(question)
    return eng.answer(question, result, "auto", ctx or service_context(service, service.settings.tenant))


def test_render_page_png(sample_dir: Path) -> None:
    pdf = sample_dir / "BLUEFINFOODS_2023_10K.pdf"
    png = render_page_png(pdf, 9, scale=1.0)
    assert png.startswith(PNG_MAGIC)
    assert png_size(png) == (612, 792)  # US letter at 72 dpi
    w, _ = png_size(render_page_png(pdf, 9, scale=1.5))
    assert w == 918
    with pytest.raises(IndexError, match="out of range"):
        render_page_png(pdf, 99)


def test_vision_question_sends_page_images(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    def reply(body: dict[str, Any]) -> str:
        images = [b for b in body["messages"][0]["content"] if b["type"] == "image"]
        assert images, "no page image was sent"
        return "The table lists total assets of $4,833 million at June 30, 2023 [BLUEFINFOODS_2023_10K p.10]."

    anthropic_server.answer = reply
    llm = LLMSettings(
        providers=["anthropic", "extractive"], anthropic_api_key="test-key", anthropic_base_url=anthropic_server.url
    )
    a = ask(sample_service, engine(llm), QUESTION)
    assert a.pipeline == "vision" and a.trace["route"]["route"] == "vision"
    assert a.trace["answered_by"] == "anthropic:claude-sonnet-4-6"
    content = anthropic_server.last["messages"][0]["content"]
    images = [b for b in content if b["type"] == "image"]
    assert len(images) == a.trace["images_sent"] == 2  # vision_max_pages
    assert {b["source"]["media_type"] for b in images} == {"image/png"}
    assert "Attached page images, in order:" in content[-1]["text"]
    assert "Images of some source pages are attached" in anthropic_server.last["system"][0]["text"]
    assert a.citations[0].page == 10 and a.faithfulness == 1.0
    assert len(a.trace["evidence_pages"]) == 2
    # an image costs tokens: more than the text-only request would
    assert a.usage["input_tokens"] + a.usage["cache_creation_input_tokens"] > 2 * 1000


def test_vision_through_openai_image_parts(sample_service: Any, openai_server: FakeOpenAI) -> None:
    openai_server.answer = "Total assets were $4,833 million [BLUEFINFOODS_2023_10K p.10]."
    llm = LLMSettings(
        providers=["openai", "extractive"],
        openai_base_url=openai_server.url + "/v1",
        openai_api_key="test-key",
        openai_model="local-vlm",
    )
    a = ask(sample_service, engine(llm, vision_max_pages=1), QUESTION)
    assert a.trace["answered_by"] == "openai:local-vlm"
    parts = openai_server.last["messages"][1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,")


def test_vision_offline_returns_page_images_as_evidence(sample_service: Any) -> None:
    a = ask(sample_service, engine(), QUESTION)
    assert a.pipeline == "vision" and a.trace["answered_by"] == "extractive"
    assert a.trace["images_sent"] == 0
    evidence = a.trace["evidence_pages"]
    assert len(evidence) == 2 and all({"doc_id", "doc_name", "page"} <= set(e) for e in evidence)
    assert all(e["page"] >= 1 for e in evidence)
    assert any("page images are evidence" in n for n in a.notes)
    assert a.citations


def test_vision_without_renderer_still_answers(sample_service: Any) -> None:
    ctx = service_context(sample_service, sample_service.settings.tenant)
    ctx.page_image = None
    a = ask(sample_service, engine(), QUESTION, ctx)
    assert a.pipeline == "vision" and a.citations
    assert any("page images unavailable" in n for n in a.notes)
