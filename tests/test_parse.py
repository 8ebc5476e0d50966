"""PdfiumParser on PDFs built here (fpdf2 / pypdf): numbering, tables, and every kind of bad file."""

from __future__ import annotations

import gc
import io
import pickle
import warnings
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from finrag.ingest.parse import PdfiumParser, find_tables, normalise_text, parse_file
from finrag.protocols import ParseError, Parser

INCOME_STATEMENT = [
    "Acme Corporation and Subsidiaries",
    "Consolidated Statement of Income",
    "Years ended December 31",
    "(Millions, except per share amounts) 2022 2021 2020",
    "Net sales $ 34,229 $ 35,355 $ 32,184",
    "Operating expenses",
    "Cost of sales 19,372 18,795 16,605",
    "Research and development 1,862 1,994 1,878",
    "Operating income (loss) (234) 1,577 12.4%",
    "Net income per share $ 10.18 $ 10.12 $ 9.36",
]


def _pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one line of text per entry; an empty list makes a page with no text."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if not lines:
            pdf.rect(20, 20, 50, 50)  # a drawing but no text, like a scanned page
    return bytes(pdf.output())


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _encrypted(data: bytes, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(
        user_password=user_password, owner_password=owner_password, algorithm="RC4-128"
    )  # RC4: no crypto package needed
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def parser() -> PdfiumParser:
    return PdfiumParser()


def test_satisfies_the_parser_protocol(parser: PdfiumParser) -> None:
    assert isinstance(parser, Parser)


def test_pages_are_numbered_from_zero(tmp_path: Path, parser: PdfiumParser) -> None:
    path = _write(tmp_path, "three.pdf", _pdf([["first page"], ["second page"], ["third page"]]))
    pages = list(parser.parse(path))
    assert [p.number for p in pages] == [0, 1, 2]
    assert [p.text for p in pages] == ["first page", "second page", "third page"]
    assert parser.page_count(path) == 3


def test_table_rows_stay_whole_and_keep_their_header(tmp_path: Path, parser: PdfiumParser) -> None:
    lines = ["Results of operations were as follows.", *INCOME_STATEMENT, "The notes are part of these statements."]
    path = _write(tmp_path, "table.pdf", _pdf([lines]))
    (page,) = parser.parse(path)
    assert "Net sales $ 34,229 $ 35,355 $ 32,184" in page.text.split("\n")
    (table,) = page.tables
    assert table.title == "Consolidated Statement of Income"
    assert "(Millions, except per share amounts) 2022 2021 2020" in table.header
    assert "Years ended December 31" in table.header
    assert table.rows == INCOME_STATEMENT[4:]  # the label line "Operating expenses" included
    assert not any("notes are part" in row for row in table.rows)


def test_a_blank_leading_page_is_kept_once_text_follows(tmp_path: Path, parser: PdfiumParser) -> None:
    path = _write(tmp_path, "cover.pdf", _pdf([[], ["Annual report"]]))
    pages = list(parser.parse(path))
    assert [(p.number, p.text) for p in pages] == [(0, ""), (1, "Annual report")]


def test_missing_file(tmp_path: Path, parser: PdfiumParser) -> None:
    with pytest.raises(ParseError, match="not found"):
        parser.parse(tmp_path / "nope.pdf")


@pytest.mark.parametrize(
    "data",
    [b"<html><body>not a pdf</body></html>", b"PK\x03\x04zipfile", b""],
    ids=["html", "zip", "empty"],
)
def test_non_pdf_bytes(tmp_path: Path, parser: PdfiumParser, data: bytes) -> None:
    path = _write(tmp_path, "fake.pdf", data)
    with pytest.raises(ParseError, match="not a PDF"):
        list(parser.parse(path))
    with pytest.raises(ParseError):
        parser.page_count(path)


def test_corrupt_pdf(tmp_path: Path, parser: PdfiumParser) -> None:
    path = _write(tmp_path, "corrupt.pdf", b"%PDF-1.7\n" + b"\x00garbage\xff" * 200)
    with pytest.raises(ParseError, match="corrupt or truncated"):
        list(parser.parse(path))


def test_truncated_pdf(tmp_path: Path, parser: PdfiumParser) -> None:
    data = _pdf([["some text"]])
    path = _write(tmp_path, "truncated.pdf", data[:200])  # header and a bit of the first object
    with pytest.raises(ParseError, match="corrupt or truncated"):
        list(parser.parse(path))


def test_zero_page_pdf(tmp_path: Path, parser: PdfiumParser) -> None:
    out = io.BytesIO()
    PdfWriter().write(out)
    path = _write(tmp_path, "empty.pdf", out.getvalue())
    with pytest.raises(ParseError, match="no pages"):
        list(parser.parse(path))


def test_pdf_without_text(tmp_path: Path, parser: PdfiumParser) -> None:
    path = _write(tmp_path, "scan.pdf", _pdf([[], []]))
    pages = parser.parse(path)  # the file itself is fine: the failure comes while reading pages
    with pytest.raises(ParseError, match=r"no extractable text \(scanned PDF\? OCR is not enabled\)"):
        list(pages)


def test_encrypted_with_an_empty_password_opens(tmp_path: Path, parser: PdfiumParser) -> None:
    data = _encrypted(_pdf([["Quarterly report"], ["Net sales 1,577 1,234"]]), user_password="", owner_password="x")
    assert PdfReader(io.BytesIO(data)).is_encrypted
    path = _write(tmp_path, "empty-password.pdf", data)
    pages = list(parser.parse(path))
    assert [p.text for p in pages] == ["Quarterly report", "Net sales 1,577 1,234"]


def test_encrypted_with_a_real_password_fails(tmp_path: Path, parser: PdfiumParser) -> None:
    data = _encrypted(_pdf([["secret numbers"]]), user_password="secret", owner_password="owner")
    path = _write(tmp_path, "locked.pdf", data)
    with pytest.raises(ParseError, match="password-protected"):
        list(parser.parse(path))


def test_documents_are_closed_without_warnings(tmp_path: Path, parser: PdfiumParser) -> None:
    path = _write(tmp_path, "doc.pdf", _pdf([["a"], ["b"], ["c"]]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(parser.parse(path))
        first = next(iter(parser.parse(path)))  # abandoned half way: the generator still closes
        assert first.number == 0
        parser.page_count(path)
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_parser_and_parse_file_pickle_for_worker_pools(tmp_path: Path) -> None:
    path = _write(tmp_path, "doc.pdf", _pdf([["hello"]]))
    clone = pickle.loads(pickle.dumps(PdfiumParser(tables=False)))
    assert clone.tables is False
    fn = pickle.loads(pickle.dumps(parse_file))
    pages = fn(str(path))
    assert [p.text for p in pages] == ["hello"]


def test_normalise_text() -> None:
    raw = "Title  \r\nline\x00 one\t \r\n\r\n\r\n\r\nnext\rlast\x07 \r\n"
    assert normalise_text(raw) == "Title\nline one\n\nnext\nlast"
    assert normalise_text("forward\ufffelooking") == "forward-looking"


def test_find_tables_cell_kinds() -> None:
    text = "\n".join(
        [
            "Segment results",
            "Q4 2022 Q4 2021",
            "Flexibles $ 1,517 $ 1,429",
            "Other — (105)",
            "Margin 12.4% 11.0%",
            "Ratio n/a 0.5",
        ]
    )
    (table,) = find_tables(text)
    assert table.title == "Segment results"
    assert table.header == ["Segment results", "Q4 2022 Q4 2021"]
    assert table.rows == text.split("\n")[2:]


def test_prose_and_dates_are_not_tables() -> None:
    text = "\n".join(
        [
            "Revenue grew in 2022 and 2021 because of volume.",
            "For the fiscal year ended December 31, 2022",
            "Item 1A. Risk Factors 15",
            "Item 2. Properties 34",
            "2022 2021 2020",
        ]
    )
    assert find_tables(text) == []
