"""Core records, defined once and used by every stage (ingest, index, retrieve, answer, serve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class DocType(StrEnum):
    TEN_K = "10-K"
    TEN_Q = "10-Q"
    EIGHT_K = "8-K"
    ANNUAL_REPORT = "annual-report"
    EARNINGS = "earnings"
    OTHER = "other"


class DocStatus(StrEnum):
    PENDING = "pending"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class ChunkKind(StrEnum):
    PAGE = "page"  # parent: a whole page
    PASSAGE = "passage"  # child: prose
    TABLE = "table"  # child: table rows with their header repeated


@dataclass(slots=True)
class Table:
    """A table found on a page: rows of cells, the header rows kept apart so chunks can repeat them."""

    header: list[str]
    rows: list[str]
    title: str = ""


@dataclass(slots=True)
class Page:
    """One PDF page. `number` is zero-based (PDF index); people see number + 1."""

    number: int
    text: str
    tables: list[Table] = field(default_factory=list)


@dataclass(slots=True)
class Filing:
    """What a filing is, inferred from its cover pages (or overridden at ingest)."""

    company: str = ""
    aliases: list[str] = field(default_factory=list)
    ticker: str = ""
    doc_type: DocType = DocType.OTHER
    fiscal_year: int | None = None
    fiscal_quarter: int | None = None
    period_end: str = ""  # ISO date when known
    source: dict[str, str] = field(default_factory=dict)  # field -> "content" | "filename" | "override"


@dataclass(slots=True)
class Chunk:
    """A retrievable unit. Children (passage/table) point to their page-level parent."""

    id: str
    doc_id: str
    tenant: str
    kind: ChunkKind
    text: str
    page_start: int
    page_end: int
    parent_id: str | None = None
    section: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    # What is embedded / BM25-indexed; may add a metadata prefix to `text`.
    index_text: str = ""


class Scope(BaseModel):
    """Which filings a question is about, inferred from its text and explained in the answer."""

    companies: list[str] = Field(default_factory=list)
    fiscal_years: list[int] = Field(default_factory=list)
    doc_types: list[str] = Field(default_factory=list)
    doc_ids: list[str] = Field(default_factory=list)
    note: str = ""
    applied: bool = False
    # No company named in the question: the answer layer should ask which one rather than guess.
    company_missing: bool = False


@dataclass(slots=True)
class Hit:
    chunk: Chunk
    score: float
    source: str = "hybrid"


class Box(BaseModel):
    """A rectangle on a page in PDF points, origin at the top-left of the page as rendered (y grows
    downward, like the page image)."""

    x0: float
    y0: float
    x1: float
    y1: float


class Citation(BaseModel):
    doc_id: str
    doc_name: str
    page: int = Field(description="1-based page number, as people read it")
    chunk_id: str
    quote: str
    score: float
    boxes: list[Box] = Field(
        default_factory=list,
        description="where the quote is on the page: one box per text line, PDF points, top-left origin; "
        "empty when it was not located",
    )
    page_width: float = Field(0.0, description="page width in points (0 when unknown)")
    page_height: float = Field(0.0, description="page height in points (0 when unknown)")


class AnswerKind(StrEnum):
    """What an answer is, set by the pipeline that wrote it; the trust score reads it (excerpts are not a
    computed answer; a refusal answers nothing)."""

    FIGURE = "figure"  # one figure read from a filing (a line item, a stated amount)
    COMPUTED = "computed"  # a calculation over cited inputs (ratios, growth, averages, days metrics)
    YES_NO = "yes_no"  # "Yes" / "No" with the figures or sentence that decide it
    COMPARISON = "comparison"  # a winner or a direction over rows, segments or years, with the figures
    EXCERPTS = "excerpts"  # the best supporting sentences, labelled as excerpts (qualitative questions)
    REFUSAL = "refusal"  # an explicit "cannot tell" naming the pages to read
    TEXT = "text"  # free text written by an LLM


class Answer(BaseModel):
    question: str
    text: str
    kind: AnswerKind = AnswerKind.TEXT
    citations: list[Citation] = Field(default_factory=list)
    pipeline: str = "extractive"
    scope: Scope = Field(default_factory=Scope)
    faithfulness: float | None = None
    # Every figure is on a cited page (or from a logged calculation), the answer cites and does not
    # refuse; None when no check ran.
    supported: bool | None = None
    unsupported_figures: list[str] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = 0.0
    timings_ms: dict[str, float] = Field(default_factory=dict)
    trace: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


@dataclass(slots=True)
class DocumentRecord:
    """A row of the document registry."""

    doc_id: str
    tenant: str
    name: str
    source_path: str
    content_hash: str
    status: DocStatus
    pages: int = 0
    chunks: int = 0
    error: str = ""
    filing: Filing = field(default_factory=Filing)
    created_at: str = ""
    updated_at: str = ""
