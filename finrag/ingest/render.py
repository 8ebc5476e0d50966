"""The one PDF page renderer (pypdfium2): PNG bytes of a page, for the vision pipeline and the API's
citation images. Import-light: the API's render process imports this module.

PDFium is not thread-safe: calls in one process are serialised by a lock. The API renders in a
one-process pool (`PageRenderer`), so its renders never contend with the ingest parsing PDFs in the API
process, and caches each page's PNG on disk per tenant."""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# PDFium is not thread-safe: every call in this process (parse, render, character boxes) holds it.
PDFIUM_LOCK = threading.Lock()


class PageRenderError(Exception):
    pass


@contextmanager
def open_page(pdf_path: str | Path, index: int) -> Iterator[Any]:
    """Zero-based page `index` of a PDF (a pypdfium2 `PdfPage`), open while the block runs and holding
    the PDFium lock all that time; IndexError when the PDF has no such page."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            if not 0 <= index < len(pdf):
                raise IndexError(f"page {index + 1} out of range: {Path(pdf_path).name} has {len(pdf)} pages")
            page = pdf[index]
            try:
                yield page
            finally:
                page.close()
        finally:
            pdf.close()


def render_page_png(pdf_path: str | Path, page: int, scale: float = 1.5) -> bytes:
    """PNG bytes of zero-based `page` of a PDF (scale 1.0 = 72 dpi; 1.5 keeps a 10-K table legible
    at ~1,450 image tokens)."""
    with open_page(pdf_path, page) as p:
        image = p.render(scale=scale).to_pil()
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _render_to_file(pdf_path: str, index: int, dpi: int, out_path: str) -> None:
    """Runs in the pool process."""
    png = render_page_png(pdf_path, index, scale=dpi / 72)
    tmp = f"{out_path}.{os.getpid()}.tmp"
    Path(tmp).write_bytes(png)
    os.replace(tmp, out_path)  # atomic: a concurrent reader never sees half a PNG


class PageRenderer:
    """Pages rendered in a separate process at `dpi`, each once, then served from `cache_root`."""

    def __init__(self, cache_root: Path, dpi: int = 110) -> None:
        self.cache_root = cache_root
        self.dpi = dpi
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
            return self._pool

    def path_for(self, tenant: str, doc_id: str, page: int) -> Path:
        return self.cache_root / tenant / doc_id / f"{self.dpi}dpi-{page}.png"

    def render(self, tenant: str, doc_id: str, source: Path, page: int) -> Path:
        """PNG of 1-based `page`; rendered once, then served from the cache."""
        out = self.path_for(tenant, doc_id, page)
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._executor().submit(_render_to_file, str(source), page - 1, self.dpi, str(out)).result(timeout=60)
        except Exception as exc:
            if isinstance(exc, BrokenProcessPool):  # the renderer died (bad PDF?): start a fresh one next time
                self.close()
            raise PageRenderError(f"page {page} could not be rendered: {type(exc).__name__}: {exc}") from exc
        return out

    def forget(self, tenant: str, doc_id: str) -> None:
        shutil.rmtree(self.cache_root / tenant / doc_id, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
