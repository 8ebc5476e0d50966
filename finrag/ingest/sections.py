"""Section structure of a filing: which item (10-K Item 1, 1A, 7, 8 …, 10-Q Part I/II items, 8-K items),
the notes, or which part of an earnings release each page belongs to.

The headings are data (finrag/finance/data/sections.toml); the logic here is how a section carries over:
a page inherits the section of the last heading before it, a table of contents sets nothing (it lists
every heading), and an "Item 7" counts as a heading only when the item's own title follows it."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from finrag.protocols import Registry, VectorStore
from finrag.records import DocStatus

DATA_FILE = Path(__file__).resolve().parent.parent / "finance" / "data" / "sections.toml"

# "Item 7.", "ITEM 1A —", "Part II, Item 1.", "Item 5.07" at the start of a line; the title follows.
_ITEM_LINE = re.compile(
    r"^\s*(?:PART\s+(?:IV|I{1,3})\s*[,.:\-–—]*\s*)?ITEMS?\s*(\d{1,2}(?:\.\d{2})?[A-C]?)\b[\s.:\-–—]*(.*)$", re.I
)
_BARE_ITEM = re.compile(r"^(?:PART\s+(?:IV|I{1,3})\s*[,.:\-–—]*\s*)?ITEMS?$", re.I)
_CONTINUES = re.compile(r"(?:\b[a-z]+|,)$")  # a line ending mid-sentence
_TRAILING_PAGE = re.compile(r"(?:\.{2,}|\s)\s*\d{1,3}\s*$")
_TITLE_LINES = 12  # a statement title labels its page only near the top (lower down it is a table's caption)
_HEAD_LINES = 80  # headings are looked for in a page's first lines only (footnotes carry stray "Item" words)
TOC = "toc"


@dataclass(frozen=True, slots=True)
class PageSections:
    primary: str  # the section covering most of the page
    keys: tuple[str, ...]  # every section on the page, primary first
    toc: bool = False


@dataclass(frozen=True, slots=True)
class _Item:
    number: str
    title: re.Pattern[str]
    key: str


@dataclass(frozen=True, slots=True)
class _Heading:
    key: str
    pattern: re.Pattern[str]
    within: frozenset[str]
    forms: frozenset[str]
    page_only: bool
    carries_after: frozenset[str]


@dataclass(frozen=True, slots=True)
class SectionRules:
    items: dict[str, tuple[_Item, ...]]  # form -> items
    headings: tuple[_Heading, ...]
    toc_min_items: int
    toc_max_chars_per_item: int
    toc_min_numbered: int
    cover_pages: int
    default: str
    earnings_default: str
    cover_markers: tuple[re.Pattern[str], ...]
    contract_markers: frozenset[str] = frozenset()
    contract_min_per_100_words: float = 0.0
    contract_min_words: int = 0

    def items_for(self, form: str) -> tuple[_Item, ...]:
        return self.items.get(form) or self.items.get("10-K", ())


@lru_cache(maxsize=4)
def load_rules(path: Path = DATA_FILE) -> SectionRules:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    items: dict[str, list[_Item]] = {}
    for group in data.get("items", []):
        entries = [_Item(e["item"].upper(), re.compile(e["title"], re.I), e["key"]) for e in group["entries"]]
        for form in group["forms"]:
            items.setdefault(form, []).extend(entries)
    headings = tuple(
        _Heading(
            h["key"],
            re.compile(h["pattern"], re.I),
            frozenset(h.get("within", [])),
            frozenset(h.get("forms", [])),
            bool(h.get("page_only", False)),
            frozenset(h.get("carries_after", [])),
        )
        for h in data.get("headings", [])
    )
    toc, start, contract = data.get("toc", {}), data.get("start", {}), data.get("contract_text", {})
    return SectionRules(
        items={f: tuple(v) for f, v in items.items()},
        headings=headings,
        toc_min_items=int(toc.get("min_items", 4)),
        toc_max_chars_per_item=int(toc.get("max_chars_per_item", 160)),
        toc_min_numbered=int(toc.get("min_numbered_items", 3)),
        cover_pages=int(start.get("cover_pages", 1)),
        default=str(start.get("default", "front")),
        earnings_default=str(start.get("earnings", "release")),
        cover_markers=tuple(re.compile(p, re.I) for p in start.get("cover_markers", [])),
        contract_markers=frozenset(m.lower() for m in contract.get("markers", [])),
        contract_min_per_100_words=float(contract.get("min_per_100_words", 0.0)),
        contract_min_words=int(contract.get("min_words", 0)),
    )


_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")


def is_contract_text(text: str, rules: SectionRules | None = None) -> bool:
    """A page of contract or plan drafting ("the Participant shall ... hereunder"): dense in the
    markers of sections.toml's [contract_text]. Filing prose and tables, even about agreements, use
    them rarely."""
    r = rules or load_rules()
    if not r.contract_markers:
        return False
    words = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    if len(words) < r.contract_min_words:
        return False
    hits = sum(1 for w in words if w in r.contract_markers)
    return hits * 100 >= r.contract_min_per_100_words * len(words)


def all_keys(rules: SectionRules | None = None) -> set[str]:
    """Every section key the rules can produce (intents.toml may only name these)."""
    r = rules or load_rules()
    keys = {i.key for items in r.items.values() for i in items} | {h.key for h in r.headings}
    return keys | {r.default, r.earnings_default, "cover", TOC}


def _item_heading(lines: list[str], i: int, items: Sequence[_Item]) -> tuple[str, bool] | None:
    """(section key, ends in a page number) when line i is an item heading whose title matches."""
    m = _ITEM_LINE.match(lines[i])
    if not m:
        return None
    number, title = m.group(1).upper(), m.group(2).strip()
    if not title:  # "ITEM 7." alone on its line, the title on the next one
        title = next((ln.strip() for ln in lines[i + 1 : i + 3] if ln.strip()), "")
    for item in items:
        if item.number == number and item.title.match(title):
            return item.key, bool(_TRAILING_PAGE.search(title))
    return None


def _heading_lines(text: str) -> list[str]:
    """The page's first non-empty lines, with a bare "ITEM" line joined to the line after it (PDF
    layouts often set "ITEM" and "7. MANAGEMENT'S ..." on separate lines)."""
    raw = [ln.strip() for ln in text.split("\n") if ln.strip()][:_HEAD_LINES]
    out: list[str] = []
    i = 0
    while i < len(raw):
        if _BARE_ITEM.match(raw[i]) and i + 1 < len(raw):
            out.append(f"{raw[i]} {raw[i + 1]}")
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return out


def _is_toc(lines: list[str], item_lines: list[tuple[int, bool]], rules: SectionRules) -> bool:
    if (
        len(item_lines) >= rules.toc_min_numbered
        and sum(numbered for _, numbered in item_lines) >= rules.toc_min_numbered
    ):
        return True
    if len(item_lines) < rules.toc_min_items:
        return False
    first, last = item_lines[0][0], item_lines[-1][0]
    between = sum(len(ln) for ln in lines[first : last + 1])
    return between / (len(item_lines) - 1 or 1) <= rules.toc_max_chars_per_item


def label_pages(texts: Sequence[str], form: str, rules: SectionRules | None = None) -> list[PageSections]:
    """Section of every page of one filing, in page order."""
    r = rules or load_rules()
    form = str(form)
    items = r.items_for(form)
    is_earnings = form == "earnings"
    current = r.earnings_default if is_earnings else r.default
    out: list[PageSections] = []
    for number, text in enumerate(texts):
        lines = _heading_lines(text)
        found: list[tuple[int, str, bool]] = []  # (line, key, page_only)
        item_lines: list[tuple[int, bool]] = []
        contents_entries = 0  # lines like "Note 5 – Income Taxes 81": an index inside the page
        for i in range(len(lines)):
            if len(lines[i]) > 160:
                continue
            if i and _CONTINUES.search(lines[i - 1]):
                continue  # "… see the / Item 1A. Risk Factors section": a reference inside a sentence
            hit = None if is_earnings else _item_heading(lines, i, items)
            if hit is not None:
                item_lines.append((i, hit[1]))
                contents_entries += hit[1]
                if contents_entries < 2:
                    found.append((i, hit[0], False))
                continue
            if len(lines[i]) > 110 or contents_entries >= 2:
                continue  # prose; or the rest of a contents list (two entries ending in page numbers seen)
            core = _TRAILING_PAGE.sub("", lines[i]) if i > 1 else lines[i]
            if core != lines[i]:  # "Note 5 – Income Taxes 81": a contents entry when it names a heading
                contents_entries += any(h.pattern.match(core) for h in r.headings)
                continue
            for h in r.headings:
                if h.forms and form not in h.forms:
                    continue
                if h.within and current not in h.within and not any(k in h.within for _, k, po in found if not po):
                    continue
                if h.pattern.match(lines[i]):
                    found.append((i, h.key, h.page_only and current not in h.carries_after))
                    break
        if not is_earnings and (
            number < r.cover_pages or (not found and any(m.search(text[:6000]) for m in r.cover_markers))
        ):
            out.append(PageSections("cover", ("cover",)))  # a cover sets no section for the pages after it
            continue
        if item_lines and _is_toc(lines, item_lines, r):
            out.append(PageSections(TOC, (TOC,), toc=True))
            continue
        # The page's share of each section: the carried one runs until the first heading.
        spans: dict[str, int] = {}
        start_key, start_line = current, 0
        page_label = ""
        for line, key, page_only in found:
            if page_only:
                page_label = page_label or (key if line < _TITLE_LINES else "")
                continue
            if line > start_line:
                spans[start_key] = spans.get(start_key, 0) + line - start_line
            start_key, start_line = key, line
            current = key
        spans[start_key] = spans.get(start_key, 0) + max(len(lines) - start_line, 1)
        ordered = sorted(spans, key=lambda k: -spans[k])
        if page_label:
            ordered = [page_label, *[k for k in ordered if k != page_label]]
        out.append(PageSections(ordered[0], tuple(ordered)))
    return out


def relabel_index(store: VectorStore, registry: Registry, tenant: str) -> dict[str, int]:
    """Set `section_key` / `sections` on every page of every indexed filing from the stored page texts,
    without re-embedding (an index built before sections existed, or after the rules changed).
    Returns pages relabelled per document name."""
    done: dict[str, int] = {}
    for doc in registry.list(tenant=tenant, status=DocStatus.READY):
        pages = store.page_chunks(tenant, doc.doc_id, range(doc.pages))
        if not pages:
            continue
        by_number = {c.page_start: c.text for c in pages}
        numbers = range(max(by_number) + 1)
        labels = label_pages([by_number.get(n, "") for n in numbers], str(doc.filing.doc_type))
        store.set_page_payload(
            tenant,
            doc.doc_id,
            {
                n: {"section_key": lab.primary, "sections": list(lab.keys)}
                for n, lab in zip(numbers, labels, strict=True)
            },
        )
        done[doc.name] = len(by_number)
    return done
