"""Request and response models of the HTTP API (what the OpenAPI schema documents)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from finrag.records import Box, DocStatus, DocType, DocumentRecord, Scope

Mode = Literal["auto", "easy", "agentic", "vision", "long_context"]
KeyScope = Literal["query", "ingest", "admin"]
DOC_TYPES = {t.value.lower(): t.value for t in DocType}
# Some character that is not blank. Python's str.split() also splits on \x1c-\x1f, which the schema's
# (and pydantic's) \s does not count as space: listed, so the schema and the handlers agree.
NON_BLANK = r"[^\s\x1c-\x1f]"


def _as_list(value: Any) -> Any:
    return [value] if value is not None and not isinstance(value, list) else value


_COMPANY = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NON_BLANK}
_YEAR = {"type": "integer", "minimum": 1900, "maximum": 2100}
_DOC_TYPE = {"type": "string", "enum": [t.value for t in DocType]}
_DOC_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}


def _one_or_many(item: dict[str, Any], most: int) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item, "maxItems": most}]})


class QueryFilters(BaseModel):
    """Explicit scope. Each field takes one value or a list; given filters replace scope inference."""

    model_config = ConfigDict(extra="forbid")

    # The item constraints are the validators' rules, and each field is documented as "one value or a
    # list of them", so the schema accepts exactly what the validators accept.
    company: Annotated[list[str], _one_or_many(_COMPANY, 20)] = Field(
        default_factory=list, max_length=20, examples=[["Northwind Robotics"]]
    )
    fiscal_year: Annotated[list[int], _one_or_many(_YEAR, 20)] = Field(
        default_factory=list, max_length=20, examples=[[2023]]
    )
    doc_type: Annotated[list[DocType], _one_or_many(_DOC_TYPE, 10)] = Field(
        default_factory=list, max_length=10, description="case does not matter"
    )
    doc_ids: Annotated[list[str], _one_or_many(_DOC_ID, 200)] = Field(default_factory=list, max_length=200)

    @field_validator("company", "fiscal_year", "doc_type", "doc_ids", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("doc_type", mode="before")
    @classmethod
    def _doc_type_case(cls, value: Any) -> Any:
        # "10-k" is "10-K": the canonical spelling, then the enum decides
        values = _as_list(value)
        if not isinstance(values, list):
            return values
        return [DOC_TYPES.get(v.strip().lower(), v) if isinstance(v, str) else v for v in values]

    @field_validator("company")
    @classmethod
    def _company(cls, values: list[str]) -> list[str]:
        if any(len(v) > 200 or not re.search(NON_BLANK, v) for v in values):
            raise ValueError("company names must be 1-200 characters, not all blank")
        return [" ".join(v.split()) for v in values]

    @field_validator("fiscal_year")
    @classmethod
    def _year(cls, values: list[int]) -> list[int]:
        if any(not 1900 <= v <= 2100 for v in values):
            raise ValueError("fiscal years must be between 1900 and 2100")
        return values

    @field_validator("doc_ids")
    @classmethod
    def _doc_ids(cls, values: list[str]) -> list[str]:
        if any(not re.fullmatch(_DOC_ID["pattern"], v) for v in values):
            raise ValueError("doc_ids are 1-64 characters of letters, digits, '-' or '_'")
        return values

    def is_empty(self) -> bool:
        return not (self.company or self.fiscal_year or self.doc_type or self.doc_ids)

    def to_scope(self) -> Scope:
        return Scope(
            companies=self.company,
            fiscal_years=self.fiscal_year,
            doc_types=self.doc_type,
            doc_ids=self.doc_ids,
        )


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ...,
        max_length=100_000,
        pattern=NON_BLANK,
        description="the question; the configured limit (FINRAG_MAX_QUESTION_CHARS) applies",
    )
    mode: Mode = Field(
        "auto",
        description="answer pipeline: auto (router), easy, agentic, vision, or long_context (the scoped filing "
        "sent whole, prompt-cached)",
    )
    filters: QueryFilters | None = None
    top_k: int | None = Field(None, ge=1, le=100, description="passages to cite (default from settings)")
    stream: bool = Field(False, description="Server-Sent Events instead of one JSON body (also ?stream=true)")
    no_cache: bool = Field(
        False,
        description="skip the response cache for this request: the answer is computed afresh and replaces the "
        "cached one",
    )
    drafts: bool = Field(
        False,
        description="with stream: also send the LLM's text as it is written (`event: draft`), before it is "
        "checked; figures the checks would withhold can appear there",
    )
    debug: bool = Field(
        False,
        description="return the full trace: scope, rewritten queries, hits with scores, route and fallbacks, "
        "LLM calls with prompt sizes, timings per stage (also ?debug=true)",
    )


class CitationOut(BaseModel):
    doc_id: str
    doc_name: str
    page: int = Field(description="1-based page number")
    chunk_id: str
    quote: str
    score: float
    boxes: list[Box] = Field(
        default_factory=list,
        description="where the quote is on the page: one box per text line, in PDF points with the origin at "
        "the page's top-left (y down, like the page image; scale by image width / page_width); empty when "
        "the quote was not located",
    )
    page_width: float = Field(0.0, description="page width in points (0 when unknown)")
    page_height: float = Field(0.0, description="page height in points (0 when unknown)")
    page_image_url: str = Field(description="PNG of the cited page (needs the same API key)")


class TrustOut(BaseModel):
    score: float = Field(description="the trust score (0-1), as `faithfulness`")
    threshold: float = Field(description="the line under which an answer is not trusted")
    trusted: bool
    failed: list[str] = Field(default_factory=list, description="checks that failed, in words")
    passed: list[str] = Field(default_factory=list, description="checks that passed, in words")


class CalcInputOut(BaseModel):
    label: str = Field(description="what the input is (a line item, a year's figure)")
    value: float
    year: int | None = None
    citation: str = Field("", description="the page it was read from, as the answer cites it")
    doc_id: str = ""
    doc_name: str = ""
    page: int | None = Field(None, description="1-based page of the input")
    page_image_url: str = ""
    from_step: int | None = Field(None, description="the earlier step (0-based) whose result this input is")


class CalcStepOut(BaseModel):
    op: str
    formula: str = Field(description="symbolic, with the inputs' names")
    expression: str = Field(description="the numbers substituted")
    result: float
    unit: str | None = None
    inputs: list[CalcInputOut]


class QueryResponse(BaseModel):
    request_id: str
    question: str
    answer: str
    mode: Mode
    pipeline: str
    citations: list[CitationOut]
    scope: Scope = Field(description="the scope actually used (inferred or from filters)")
    timings_ms: dict[str, float]
    usage: dict[str, int] = Field(description="LLM tokens, when an LLM was used")
    cost_usd: float
    cached: bool
    faithfulness: float | None = Field(None, description="the trust score (0-1): under 0.7 the answer is not trusted")
    trust_reasons: list[str] = Field(
        default_factory=list, description="why the trust score is what it is: the checks that failed, then those passed"
    )
    trust: TrustOut | None = Field(None, description="the trust score with its failed and passed checks apart")
    calculation: list[CalcStepOut] = Field(
        default_factory=list, description="the calculator's steps, each input with the page it was read from"
    )
    unsupported_figures: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    answer_id: str = Field("", description="GET /v1/answers/{answer_id} returns it again; rate it at /v1/feedback")
    trace: dict[str, Any] = Field(
        default_factory=dict, description="route, fallbacks and budget; everything with debug=true"
    )


class StoredAnswerOut(BaseModel):
    answer_id: str
    created_at: str
    request_id: str
    question: str
    mode: str
    pipeline: str
    cached: bool = Field(description="served from the response cache")
    cost_usd: float = Field(description="what producing the answer cost")
    charged_usd: float = Field(description="what this request was charged to the tenant's budget (0 when cached)")
    answer: QueryResponse
    feedback: dict[str, Any] | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(..., min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=4000)


class FeedbackOut(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    comment: str
    created_at: str
    updated_at: str
    replaced: bool = Field(description="an earlier rating of this answer was replaced")


class FilingOut(BaseModel):
    company: str
    ticker: str
    doc_type: str
    fiscal_year: int | None
    fiscal_quarter: int | None
    period_end: str


class IngestProgress(BaseModel):
    stage: Literal["queued", "embedding", "done", "failed"]
    pages_parsed: int = Field(description="pages read from the PDF (known once parsing finished)")
    pages_embedded: int = Field(
        description="pages whose passages are embedded and searchable; a filing is embedded in one batch, so "
        "this goes from 0 to all pages when its points are written"
    )


class DocumentOut(BaseModel):
    doc_id: str
    name: str
    status: str
    pages: int
    chunks: int
    error: str
    filing: FilingOut
    created_at: str
    updated_at: str
    progress: IngestProgress
    corrected: list[str] = Field(
        default_factory=list,
        description="filing fields set by a person (ingest overrides or PATCH), not detected from the filing",
    )

    @classmethod
    def of(cls, rec: DocumentRecord) -> DocumentOut:
        f = rec.filing
        return cls(
            doc_id=rec.doc_id,
            name=rec.name,
            status=rec.status.value,
            pages=rec.pages,
            chunks=rec.chunks,
            error=rec.error,
            filing=FilingOut(
                company=f.company,
                ticker=f.ticker,
                doc_type=str(f.doc_type),
                fiscal_year=f.fiscal_year,
                fiscal_quarter=f.fiscal_quarter,
                period_end=f.period_end,
            ),
            created_at=rec.created_at,
            updated_at=rec.updated_at,
            progress=IngestProgress(
                stage=_STAGES[rec.status],
                pages_parsed=rec.pages,
                pages_embedded=rec.pages if rec.status == DocStatus.READY else 0,
            ),
            corrected=sorted(k for k, v in f.source.items() if v == "override"),
        )


_STAGES: dict[DocStatus, Literal["queued", "embedding", "done", "failed"]] = {
    DocStatus.PENDING: "queued",
    DocStatus.INDEXING: "embedding",
    DocStatus.READY: "done",
    DocStatus.FAILED: "failed",
}


class DocumentPatch(BaseModel):
    """A correction of what was detected from the filing's cover pages. The document is re-scoped (its
    registry entry and its points' payload) without re-embedding."""

    # At least one field; company and doc_type take a value (null is refused), fiscal_year null clears it.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    company: Annotated[str | None, WithJsonSchema(_COMPANY)] = Field(None, examples=["Northwind Robotics"])
    doc_type: Annotated[DocType | None, WithJsonSchema(_DOC_TYPE)] = Field(None, description="case does not matter")
    fiscal_year: Annotated[int, WithJsonSchema(_YEAR)] | None = Field(
        None, description="null clears it (in the body explicitly)"
    )

    @field_validator("doc_type", mode="before")
    @classmethod
    def _doc_type_case(cls, value: Any) -> Any:
        return DOC_TYPES.get(value.strip().lower(), value) if isinstance(value, str) else value

    @field_validator("company")
    @classmethod
    def _company(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 200 or not re.search(NON_BLANK, value)):
            raise ValueError("company names must be 1-200 characters, not all blank")
        return " ".join(value.split()) if value is not None else None

    @field_validator("fiscal_year")
    @classmethod
    def _year(cls, value: int | None) -> int | None:
        if value is not None and not 1900 <= value <= 2100:
            raise ValueError("fiscal years must be between 1900 and 2100")
        return value


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class Deleted(BaseModel):
    deleted: bool
    id: str


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    filename: str
    reason: str = Field(description="why it failed, or a note (e.g. unchanged file)")
    doc_id: str
    pages: int
    chunks: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    url: str


class JobList(BaseModel):
    jobs: list[JobOut]


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=128)
    scopes: list[KeyScope] = Field(default_factory=lambda: ["query", "ingest"], min_length=1)


class KeyOut(BaseModel):
    key_id: str
    tenant: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyOut):
    key: str = Field(description="the secret; shown only in this response")


class KeyList(BaseModel):
    keys: list[KeyOut]


class Health(BaseModel):
    status: Literal["ok"]


class Check(BaseModel):
    ok: bool
    backend: str = ""
    detail: str = ""


class Ready(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, Check]
    reasons: list[str]


# OpenAI-compatible ------------------------------------------------------------------------------


_TEXT = {"type": "string", "pattern": NON_BLANK}
_TEXT_PART = {"type": "object", "properties": {"type": {"const": "text"}, "text": _TEXT}, "required": ["type", "text"]}


_USER_TEXT = {
    "type": "object",
    "properties": {"role": {"const": "user"}, "content": {"anyOf": [_TEXT, {"type": "array", "contains": _TEXT_PART}]}},
    "required": ["role", "content"],
}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens ... are accepted and ignored

    model: str = "finrag"
    messages: list[ChatMessage] = Field(
        ...,
        min_length=1,
        max_length=500,
        # the question is the last user message with some text: there must be one
        json_schema_extra={"contains": _USER_TEXT},
    )
    stream: bool = False
    filters: QueryFilters | None = Field(None, description="finrag extension (extra_body)")
    top_k: int | None = Field(None, ge=1, le=100, description="finrag extension (extra_body)")
    debug: bool = Field(False, description="finrag extension (extra_body): the full trace in `finrag.trace`")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    citations: list[CitationOut] = Field(description="finrag extension: structured citations")
    finrag: dict[str, Any] = Field(description="finrag extension: pipeline, cached, scope, request id")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "finrag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
