"""The PageImageIndex contract (multi-vectors scored by MaxSim), passed by the embedded qdrant-edge shard
and the server collection (qdrant-client's local mode here), plus a congruence check between the two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from finrag.index.page_images import EdgePageImageIndex, PageVectorWidthError, ServerPageImageIndex
from finrag.protocols import PageImageIndex
from finrag.records import Scope

DIM = 6


def rows(*axes: int) -> np.ndarray:
    """A multi-vector: one unit row per axis named (a patch that is all that axis)."""
    out = np.zeros((len(axes), DIM), dtype=np.float32)
    for i, a in enumerate(axes):
        out[i, a] = 1.0
    return out


# Four pages of one filing: page 2 holds axis 0 (say, red), page 3 axis 1, the rest only axes 3-4.
PAGES = [rows(3, 4), rows(3, 4), rows(0, 3, 4), rows(1, 3)]
FILING = {"doc_type": "10-K", "fiscal_year": 2023, "company": "Northwind Robotics"}


class PageImageIndexContract:
    @pytest.fixture()
    def index(self, tmp_path: Path) -> Iterator[PageImageIndex]:
        raise NotImplementedError

    def test_is_the_role(self, index: PageImageIndex) -> None:
        assert isinstance(index, PageImageIndex)

    def test_empty_index_finds_nothing(self, index: PageImageIndex) -> None:
        assert index.search("acme", rows(0), Scope(), 5) == []
        assert index.count() == 0

    def test_maxsim_ranks_the_page_holding_the_query_patch_first(self, index: PageImageIndex) -> None:
        index.upsert_pages("acme", "d1", [0, 1, 2, 3], PAGES, FILING)
        hits = index.search("acme", rows(0, 3), Scope(), 4)
        assert [(h.doc_id, h.page) for h in hits][:1] == [("d1", 2)]
        # MaxSim: each query row takes its best patch; page 2 has both, so it scores 2, the others 1
        assert hits[0].score == pytest.approx(2.0, abs=1e-4)
        assert all(h.score == pytest.approx(1.0, abs=1e-4) for h in hits[1:])
        assert index.search("acme", rows(1), Scope(), 1)[0].page == 3

    def test_tenants_never_see_each_others_pages(self, index: PageImageIndex) -> None:
        index.upsert_pages("acme", "d1", [0, 1, 2, 3], PAGES, FILING)
        index.upsert_pages("globex", "g1", [0], [rows(0)], FILING)
        assert {h.doc_id for h in index.search("acme", rows(0), Scope(), 10)} == {"d1"}
        assert {h.doc_id for h in index.search("globex", rows(0), Scope(), 10)} == {"g1"}
        assert index.search("initech", rows(0), Scope(), 10) == []
        assert index.count("acme") == 4 and index.count("globex") == 1

    def test_scope_restricts_documents_forms_and_years(self, index: PageImageIndex) -> None:
        index.upsert_pages("acme", "d1", [0, 1, 2, 3], PAGES, FILING)
        index.upsert_pages("acme", "q1", [0], [rows(0)], {"doc_type": "10-Q", "fiscal_year": 2024})
        assert {h.doc_id for h in index.search("acme", rows(0), Scope(doc_ids=["q1"]), 10)} == {"q1"}
        assert {h.doc_id for h in index.search("acme", rows(0), Scope(fiscal_years=[2023]), 10)} == {"d1"}
        assert {h.doc_id for h in index.search("acme", rows(0), Scope(doc_types=["10-Q"]), 10)} == {"q1"}

    def test_upsert_replaces_a_page_and_delete_removes_the_document(self, index: PageImageIndex) -> None:
        index.upsert_pages("acme", "d1", [0, 1, 2, 3], PAGES, FILING)
        index.upsert_pages("acme", "d1", [0], [rows(1)], FILING)  # page 0 re-embedded: same point
        assert index.count("acme", "d1") == 4
        assert {h.page for h in index.search("acme", rows(1), Scope(), 2)} == {0, 3}
        index.delete_document("acme", "d1")
        assert index.count("acme", "d1") == 0 and index.search("acme", rows(0), Scope(), 5) == []

    def test_vectors_of_another_width_are_refused(self, index: PageImageIndex) -> None:
        index.upsert_pages("acme", "d1", [0], [rows(0)], FILING)
        with pytest.raises(PageVectorWidthError):
            index.upsert_pages("acme", "d1", [1], [np.ones((2, DIM + 2), dtype=np.float32)], FILING)
        with pytest.raises(PageVectorWidthError):
            index.search("acme", np.ones((1, DIM + 2), dtype=np.float32), Scope(), 3)


class TestEdgePageImageIndex(PageImageIndexContract):
    @pytest.fixture()
    def index(self, tmp_path: Path) -> Iterator[PageImageIndex]:
        idx = EdgePageImageIndex(tmp_path / "page_images")
        yield idx
        idx.close()

    def test_reopens_from_disk_with_its_width(self, tmp_path: Path) -> None:
        first = EdgePageImageIndex(tmp_path / "pi")
        first.upsert_pages("acme", "d1", [0, 1, 2, 3], PAGES, FILING)
        first.close()
        again = EdgePageImageIndex(tmp_path / "pi")
        assert again.search("acme", rows(0), Scope(), 1)[0].page == 2
        with pytest.raises(PageVectorWidthError):
            again.search("acme", np.ones((1, DIM + 1), dtype=np.float32), Scope(), 1)
        again.close()

    def test_one_owner_process_per_folder(self, tmp_path: Path) -> None:
        import subprocess
        import sys

        owner = EdgePageImageIndex(tmp_path / "pi")
        owner.upsert_pages("acme", "d1", [0], [rows(0)], FILING)
        code = (
            "import sys, numpy as np\n"
            "from finrag.index.page_images import EdgePageImageIndex\n"
            "from finrag.index.owner import StoreLockedError\n"
            f"idx = EdgePageImageIndex({str(tmp_path / 'pi')!r})\n"
            "try:\n    idx.count()\nexcept StoreLockedError as e:\n    print('LOCKED', e); sys.exit(3)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 3 and "LOCKED" in out.stdout, out.stderr
        assert owner.count("acme") == 1  # the owner's data untouched
        owner.close()


class TestServerPageImageIndexLocal(PageImageIndexContract):
    @pytest.fixture()
    def index(self, tmp_path: Path) -> Iterator[PageImageIndex]:
        idx = ServerPageImageIndex(location=":memory:", collection="t_pages")
        yield idx
        idx.close()


def test_edge_and_server_rank_pages_alike(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    pages = [rng.normal(size=(5, DIM)).astype(np.float32) for _ in range(12)]
    edge, server = EdgePageImageIndex(tmp_path / "pi"), ServerPageImageIndex(location=":memory:")
    for idx in (edge, server):
        idx.upsert_pages("acme", "d1", list(range(12)), pages, FILING)
    for _ in range(5):
        query = rng.normal(size=(3, DIM)).astype(np.float32)
        a = edge.search("acme", query, Scope(), 5)
        b = server.search("acme", query, Scope(), 5)
        assert [h.page for h in a] == [h.page for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
        # the scores are MaxSim over cosine: checked against numpy
        unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
        best = max(range(12), key=lambda p: float((unit(query) @ unit(pages[p]).T).max(axis=1).sum()))
        assert a[0].page == best
    edge.close()
    server.close()
