"""Visual retrieval end to end: page images embedded at ingest through a (fake) ColPali-style service,
stored as multi-vectors, searched with MaxSim, and used by the vision pipeline to pick pages; the
service failing at ingest or at question time degrades to text, and says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from finrag.embed.page_images import PageImageEmbeddingError, RemotePageImageEmbedder
from finrag.ingest.render import render_page_png
from finrag.records import DocStatus
from finrag.settings import RetrievalSettings
from tests.fakes.fixtures import ServerThread
from tests.fakes.page_image_server import FakePageImageService, create_app

QUESTION = "Which page of the Northwind Robotics exhibits shows the red bar chart of segment revenue?"
RED_PAGE = 3  # 1-based: the only page with a red chart


def exhibits_pdf(path: Path, fills: dict[int, tuple[int, int, int]]) -> Path:
    """Four pages with the same words; some carry a filled chart block of a colour (only pixels differ)."""
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    for n in range(1, 5):
        pdf.add_page()
        pdf.set_font("Helvetica", size=14)
        pdf.text(72, 72, f"Northwind Robotics exhibit {n}: segment revenue by quarter, fiscal 2023")
        pdf.set_font("Helvetica", size=10)
        pdf.text(72, 100, "The chart below shows segment revenue for the robotics and services segments.")
        if n in fills:
            pdf.set_fill_color(*fills[n])
            for i, height in enumerate((180, 260, 220, 300)):
                pdf.rect(110 + i * 100, 650 - height, 70, height, style="F")
        pdf.text(72, 700, "Amounts in millions of dollars.")
    pdf.output(str(path))
    return path


@pytest.fixture()
def page_service() -> Iterator[tuple[FakePageImageService, str]]:
    state = FakePageImageService()
    with ServerThread(create_app(state)) as srv:
        yield state, srv.url


def test_vision_pipeline_picks_the_page_by_its_image(
    tmp_path: Path, service_factory: Any, page_service: tuple[FakePageImageService, str]
) -> None:
    state, url = page_service
    pdf = exhibits_pdf(tmp_path / "northwind_exhibits.pdf", {RED_PAGE: (220, 30, 30), 4: (30, 60, 220)})
    svc = service_factory(retrieval=RetrievalSettings(page_image_url=url, page_image_candidates=4))
    report = svc.ingest([pdf])
    event = report.events[0]
    assert event.status == "ingested" and event.reason == ""
    assert state.images_seen == 4
    assert svc.c.page_index.count(svc.settings.tenant, event.doc_id) == 4

    answer = svc.ask(QUESTION, mode="vision")
    assert answer.trace["pages_picked_by"] == "text+image"
    assert answer.trace["evidence_pages"][0]["page"] == RED_PAGE
    assert state.queries_seen == [QUESTION]

    # the blue chart is found the same way: the picking follows the pixels, not a fixed page
    blue = svc.ask(QUESTION.replace("red", "blue"), mode="vision")
    assert blue.trace["evidence_pages"][0]["page"] == 4

    # deleting the filing deletes its page images
    assert svc.delete_document(event.doc_id)
    assert svc.c.page_index.count(svc.settings.tenant, event.doc_id) == 0


def test_without_the_service_pages_are_picked_by_text(tmp_path: Path, service_factory: Any) -> None:
    pdf = exhibits_pdf(tmp_path / "northwind_exhibits.pdf", {RED_PAGE: (220, 30, 30)})
    svc = service_factory()
    svc.ingest([pdf])
    assert svc.c.page_index is None
    answer = svc.ask(QUESTION, mode="vision")
    assert answer.trace["pages_picked_by"] == "text"


def test_a_failing_service_degrades_to_text_and_says_so(
    tmp_path: Path, service_factory: Any, page_service: tuple[FakePageImageService, str]
) -> None:
    state, url = page_service
    svc = service_factory(retrieval=RetrievalSettings(page_image_url=url))
    state.fail_with = 503
    report = svc.ingest([exhibits_pdf(tmp_path / "northwind_exhibits.pdf", {RED_PAGE: (220, 30, 30)})])
    event = report.events[0]
    assert event.status == "ingested" and "page images not indexed" in event.reason and "503" in event.reason
    assert svc.document(event.doc_id).status == DocStatus.READY  # the text index is whole
    answer = svc.ask(QUESTION, mode="vision")
    assert any("page-image search unavailable" in n for n in answer.notes)
    assert answer.trace["pages_picked_by"] == "text" and answer.citations


def test_remote_embedder_normalises_rows_and_refuses_bad_replies(page_service: tuple[Any, str], tmp_path: Path) -> None:
    state, url = page_service
    pdf = exhibits_pdf(tmp_path / "x.pdf", {1: (220, 30, 30)})
    emb = RemotePageImageEmbedder(url, batch_size=1)
    vectors = emb.embed_images([render_page_png(pdf, 0, scale=0.5), render_page_png(pdf, 1, scale=0.5)])
    assert [v.shape for v in vectors] == [(64, 6), (64, 6)]
    assert all(abs(float((v**2).sum(axis=1).max()) - 1.0) < 1e-5 for v in vectors)
    state.fail_with = 500
    with pytest.raises(PageImageEmbeddingError, match="answered 500"):
        emb.embed_queries(["red chart"])
    with pytest.raises(PageImageEmbeddingError, match="unreachable"):
        RemotePageImageEmbedder("http://127.0.0.1:9", timeout_s=2).embed_queries(["red chart"])
