"""Page images for citations: rendered with pypdfium2 in a separate process, cached on disk per tenant.

PDFium is not thread-safe and the ingest worker parses PDFs in this process, so rendering happens in
a one-process pool; this module stays import-light because that process imports it."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path


class PageRenderError(Exception):
    pass


def _render(pdf_path: str, index: int, dpi: int, out_path: str) -> None:
    """Runs in the pool process."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_path)
    try:
        page = pdf[index]
        try:
            image = page.render(scale=dpi / 72).to_pil()
        finally:
            page.close()
    finally:
        pdf.close()
    tmp = f"{out_path}.{os.getpid()}.tmp"
    image.save(tmp, format="PNG", optimize=False)
    os.replace(tmp, out_path)  # atomic: a concurrent reader never sees half a PNG


class PageRenderer:
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
            self._executor().submit(_render, str(source), page - 1, self.dpi, str(out)).result(timeout=60)
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
