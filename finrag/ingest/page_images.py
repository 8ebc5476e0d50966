"""Ingest stage for visual retrieval: render every page, embed the images with the page-image model
(a remote ColPali-style service), store one multi-vector per page. Opt-in: only built when a
page-image service is configured (FINRAG_RETRIEVAL_PAGE_IMAGE_URL)."""

from __future__ import annotations

import logging
from pathlib import Path

from finrag.ingest.render import render_page_png
from finrag.protocols import PageImageEmbedder, PageImageIndex
from finrag.records import Filing

log = logging.getLogger(__name__)


class PageImageIndexer:
    def __init__(
        self, embedder: PageImageEmbedder, index: PageImageIndex, *, scale: float = 1.0, batch_pages: int = 8
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.scale = scale  # 1.0 = 72 dpi: a letter page is 612 x 792 px, above ColPali's 448 px input
        self.batch_pages = batch_pages

    def index_document(self, tenant: str, doc_id: str, source: Path, pages: int, filing: Filing) -> int:
        """Render, embed and store every page; returns the pages stored. Raises what the service raises
        (the caller keeps the text index and reports the failure)."""
        payload = {"doc_type": filing.doc_type.value, "fiscal_year": filing.fiscal_year, "company": filing.company}
        self.index.delete_document(tenant, doc_id)  # a partial earlier attempt of this very document
        done = 0
        for start in range(0, pages, self.batch_pages):
            numbers = list(range(start, min(pages, start + self.batch_pages)))
            images = [render_page_png(source, n, scale=self.scale) for n in numbers]
            self.index.upsert_pages(tenant, doc_id, numbers, self.embedder.embed_images(images), payload)
            done += len(numbers)
        log.info("page images indexed", extra={"doc_id": doc_id, "pages": done})
        return done

    def delete_document(self, tenant: str, doc_id: str) -> None:
        self.index.delete_document(tenant, doc_id)
