"""Fewer word pieces per page for the dense model: running headers/footers left out of passages, and
10-K/10-Q exhibit pages of contract text (agreements and plans after Item 15) embedded by their first
passage only, while the page parent keeps every word for BM25."""

from finrag.ingest.chunk import FilingChunker, running_lines
from finrag.ingest.sections import is_contract_text, label_pages
from finrag.records import Chunk, ChunkKind, DocType, Filing, Page

TEN_K = Filing(company="Northwind Robotics, Inc.", doc_type=DocType.TEN_K, fiscal_year=2023)
EIGHT_K = Filing(company="Northwind Robotics, Inc.", doc_type=DocType.EIGHT_K, fiscal_year=2023)
LEGAL = " ".join(
    f"Section {i}. The Borrower shall deliver to the Administrative Agent the notice described in clause {i}."
    for i in range(40)
)
MDA = "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations\n" + " ".join(
    f"Revenue in segment {i} grew because demand for warehouse robots rose." for i in range(30)
)


def _pages() -> list[Page]:
    pages = [Page(0, "Table of Contents\n" + MDA)]
    pages += [
        Page(i, f"Table of Contents\nNet sales of robots rose in quarter {i} on strong orders.\n{i}")
        for i in (1, 2, 3, 4)
    ]
    pages.append(Page(5, "Table of Contents\nItem 15. Exhibits and Financial Statement Schedules\n" + LEGAL))
    pages.append(Page(6, "Table of Contents\nCREDIT AGREEMENT\n" + LEGAL))
    return pages


def passages(chunks: list[Chunk], page: int) -> list[str]:
    return [c.text for c in chunks if c.kind == ChunkKind.PASSAGE and c.page_start == page]


def test_running_lines_are_the_short_lines_on_many_pages() -> None:
    texts = [p.text for p in _pages()]
    assert running_lines(texts) == frozenset({"Table of Contents"})
    assert running_lines(texts[:4]) == frozenset()  # too few pages to tell a header from a coincidence


def test_running_headers_stay_in_the_page_but_leave_the_passages() -> None:
    pages = _pages()
    new = FilingChunker(max_tokens=200, strip_running_lines=True).chunk("d", "t", "NW", TEN_K, pages)
    old = FilingChunker(max_tokens=200).chunk("d", "t", "NW", TEN_K, pages)
    assert any("Table of Contents" in c.text for c in old if c.kind == ChunkKind.PASSAGE)
    assert not any("Table of Contents" in c.text for c in new if c.kind == ChunkKind.PASSAGE)
    assert all(c.text.startswith("Table of Contents") for c in new if c.kind == ChunkKind.PAGE)
    # The prose itself is all there.
    assert " ".join(c.text for c in new if c.page_start == 0 and c.kind == ChunkKind.PASSAGE).count("rose.") == 30


def test_ten_k_exhibit_pages_embed_their_first_passage_only() -> None:
    pages = _pages()
    sections = [s.primary for s in label_pages([p.text for p in pages], "10-K")]
    assert sections[5:] == ["exhibits", "exhibits"] and sections[0] != "exhibits"
    full = FilingChunker(max_tokens=120, exhibit_passages=-1).chunk("d", "t", "NW", TEN_K, pages)
    trimmed = FilingChunker(max_tokens=120, exhibit_passages=1).chunk("d", "t", "NW", TEN_K, pages)

    for page in (5, 6):
        assert len(passages(full, page)) > 3
        assert passages(trimmed, page) == passages(full, page)[:1]
        parent = next(c for c in trimmed if c.kind == ChunkKind.PAGE and c.page_start == page)
        assert "clause 39." in parent.index_text  # BM25 still reads the whole exhibit page
    assert passages(trimmed, 0) == passages(full, 0)  # the body of the filing is untouched
    none = FilingChunker(max_tokens=120).chunk("d", "t", "NW", TEN_K, pages)  # the default: tables only
    assert passages(none, 5) == [] and passages(none, 0) == passages(full, 0)


def test_contract_text_is_drafting_language_not_filing_prose() -> None:
    assert is_contract_text(LEGAL)
    assert is_contract_text(
        "2.12 Performance Period means a Fiscal Year set by the Committee. Each Participant shall vest in the "
        "Award on the date hereof, notwithstanding any provision of the Plan to the contrary, and the Grantee "
        "agrees that the terms hereunder bind the Participant's beneficiaries."
    )
    assert not is_contract_text(MDA)
    # Filing prose about an agreement names it without drafting it.
    assert not is_contract_text(
        "In 2023 we entered into a credit agreement with a syndicate of banks that provides a $2.0 billion "
        "revolving facility maturing in 2028. Borrowings bear interest at SOFR plus a margin that depends on "
        "our credit ratings, and the agreement requires us to maintain a leverage ratio below 3.5 times. "
        "We were in compliance with all covenants at year end and had no borrowings outstanding under it."
    )
    assert not is_contract_text("The Participant shall vest.")  # too short to judge


def test_exhibit_pages_that_are_not_contracts_keep_every_passage() -> None:
    # An annual report or a statistical disclosure filed as an exhibit is filing prose: trimming is for
    # the agreements and plans.
    pages = _pages()
    pages.append(Page(7, "EXHIBIT 13\nPortions of the Annual Report to Shareholders\n" + MDA))
    assert [s.primary for s in label_pages([p.text for p in pages], "10-K")][5:] == ["exhibits"] * 3
    full = FilingChunker(max_tokens=120, exhibit_passages=-1).chunk("d", "t", "NW", TEN_K, pages)
    trimmed = FilingChunker(max_tokens=120, exhibit_passages=0).chunk("d", "t", "NW", TEN_K, pages)

    assert len(passages(full, 7)) > 3 and passages(trimmed, 7) == passages(full, 7)
    assert passages(trimmed, 6) == [] and len(passages(full, 6)) > 3


def test_an_eight_k_keeps_every_passage_of_its_exhibits() -> None:
    # An 8-K's exhibit is its content (the press release, the agreement announced).
    cover = "FORM 8-K\nCURRENT REPORT\nItem 8.01 Other Events.\nThe company entered into a credit agreement."
    pages = [
        Page(0, cover),
        Page(1, "Item 9.01 Financial Statements and Exhibits.\n(d) Exhibits\n" + LEGAL),
        Page(2, LEGAL),
    ]
    assert [s.primary for s in label_pages([p.text for p in pages], "8-K")][1:] == ["exhibits", "exhibits"]
    full = FilingChunker(max_tokens=120, exhibit_passages=-1).chunk("d", "t", "NW", EIGHT_K, pages)
    trimmed = FilingChunker(max_tokens=120, exhibit_passages=1).chunk("d", "t", "NW", EIGHT_K, pages)
    assert [c.text for c in trimmed] == [c.text for c in full]
