"""Entity/relation graph over one tenant's filings, built from what ingest already stored.

Nodes: companies (from the registry's Filing), filings (doc), fiscal periods, segments (found in the
text: "X segment", and in the row labels of tables under a segment heading), metrics (normalised row
labels of tables: "net sales", "purchases of property plant and equipment") and the pages that give
the evidence. Edges: company-filing, filing-period, filing-page, company-segment, segment/metric-page,
metric-metric (neighbouring rows of the same statement page). Rules are generic: nothing here knows a
company or a question.

Communities (Louvain) are summarised at build time: their top entities, the relations between them
(company -reports-> segment, line items printed next to each other) and the sentences or table rows that
state them, each cited with its filing and page; with an LLM configured, a few sentences written by the
model from that extractive summary are added (the citations stay the extractive ones).

The graph is saved as JSON (networkx node_link_data, never pickle) with a stamp per document, so a
rebuild reads only the filings that were added, changed or deleted since."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from finrag.finance.companies import GRAPH_LEGAL_SUFFIXES
from finrag.finance.figures import YEAR_TOKEN
from finrag.finance.statements import STATEMENT_TITLE
from finrag.finance.text import page_label
from finrag.protocols import Registry, VectorStore
from finrag.records import Chunk, DocStatus, DocumentRecord

log = logging.getLogger(__name__)

# Bump when the extraction rules change: stored graphs of another version are rebuilt from scratch.
GRAPH_VERSION = 4
PAGE_BATCH = 64
LOUVAIN_SEED = 7

# --- table rows -----------------------------------------------------------------------------------
# A numeric cell as PDF text extraction prints it: 1,234  (1,234)  $  —  12.5%  (3.2)%
_CELL_RE = re.compile(r"^(?:[$€£]|[—–-]|%|\(?[$€£]?[-+]?\d[\d,]*(?:\.\d+)?\)?%?)$")
_DIGIT_RE = re.compile(r"\d")
_NOT_A_CELL_RE = re.compile(r"^(?:(?:19|20)\d{2}|\d{5,})$")
_PAREN_RE = re.compile(r"\([^)]*\)")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+")
_WORD_RE = re.compile(r"[a-z0-9]+")
_DATEISH_RE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"years? ended|quarters? ended|months ended|weeks ended|as of|fiscal year|table of contents|page)\b",
    re.I,
)
_LEADING_FILLER = {"less", "add", "plus", "and", "of"}

# --- segments -------------------------------------------------------------------------------------
_SEGMENT_WORD_RE = re.compile(r"\bsegments?\b|\breportable\b|\bdivisions?\b|\bgeographic\b|\bby region\b", re.I)
_HEADING_END_RE = re.compile(r"^\s*(?:note|item)\s+\d", re.I)
# "the Consumer Health business segment", "our Upstream segment"
_NAMED_SEGMENT_RE = re.compile(
    r"((?:[A-Z][\w'’&-]*)(?:[ \t]+(?:(?:and|&|of)[ \t]+)?[A-Z][\w'’&-]*){0,3})[ \t]+"
    r"(?:business[ \t]+|reportable[ \t]+|operating[ \t]+)?segments?\b"
)
_SEGMENT_STOP = {
    "the", "our", "each", "its", "their", "this", "these", "that", "all", "both", "other", "total", "reportable",
    "operating", "business", "businesses", "two", "three", "four", "five", "six", "seven", "certain", "consolidated",
    "segment", "segments", "corporate", "a", "an", "in", "of", "per", "by", "for", "performance", "information",
    "results", "note", "item", "financial", "geographic", "and", "new", "prior", "same", "one", "single", "such",
    "which", "every", "any", "no", "related", "primary", "principal", "key", "major", "combined",
}  # fmt: skip
# A row label that names a figure (or a reconciling line), not a segment.
_NOT_SEGMENT_RE = re.compile(
    r"\b(?:total|subtotal|corporate|unallocated|eliminations?|intersegment|inter-segment|reconcil\w*|other|"
    r"consolidated|adjust\w*|income|revenues?|sales|expenses?|costs?|profit|loss(?:es)?|margin|tax(?:es)?|cash|"
    r"assets?|liabilit\w*|earnings|ebit\w*|depreciation|amortization|interest|shares?|dividends?|debt|equity|"
    r"capital|percent|change|growth|organic|acquisitions?|divestitures?|translation|rate|basic|diluted|"
    r"operating|net|gross|segments?|company|worldwide|currency|impact|volume|price|mix|provision|charges?|"
    r"benefits?|gains?|goodwill|impairment|restructuring|millions|billions|thousands|amounts?|balance|"
    r"compensation|allowance|property|plant|equipment|write|offs?|charged|executive|officers?|counts?|period|"
    r"activities|items?|stock|countries|categories|divisions?|total|per|end|beginning|average|weighted)\b",
    re.I,
)
# Dense table pages (segment notes, MD&A tables) link their neighbouring rows like statements do.
STATEMENT_MIN_ROWS = 12
COOCCUR_WINDOW = 2


def normalise_label(label: str) -> str:
    """'Purchases of property, plant and equipment (PP&E)' -> 'purchases of property plant and equipment'."""
    text = _PAREN_RE.sub(" ", label.lower().replace("&", " and "))
    words = _NON_WORD_RE.sub(" ", text).split()
    while words and words[0] in _LEADING_FILLER:
        words = words[1:]
    return " ".join(words)


def split_row(line: str) -> tuple[str, int] | None:
    """A table row as extracted text: a label followed by numeric cells. Returns (label, cells)."""
    tokens = line.split()
    i = len(tokens)
    cells = 0
    while i > 0 and _CELL_RE.match(tokens[i - 1]):
        i -= 1
        cells += bool(_DIGIT_RE.search(tokens[i]))
    if not cells or i == 0:
        return None
    numbers = [t for t in tokens[i:] if _DIGIT_RE.search(t)]
    if len(numbers) == 1 and _NOT_A_CELL_RE.match(numbers[0]):
        return None  # "... ACT OF 1934", "Washington, D.C. 20549": a year or a code, not a figure
    return " ".join(tokens[:i]), cells


def _metric_label(label: str) -> str:
    """Normalised row label when it looks like a line item; '' otherwise (prose, dates, note titles)."""
    if len(label) > 90 or ". " in label or YEAR_TOKEN.search(label) or "%" in label or _DATEISH_RE.search(label):
        return ""
    if not label[0].isalpha() and not label.startswith(("(", "'", '"', "“")):
        return ""
    if STATEMENT_TITLE.search(label):
        return ""  # a statement's title or a cross-reference to it, not a line item
    norm = normalise_label(label)
    words = norm.split()
    if not words or len(words) > 10 or sum(c.isalpha() for c in norm) < 3 or any(_DIGIT_RE.search(w) for w in words):
        return ""
    return norm


def _segment_name(label: str) -> str:
    """A row label or a capitalised phrase that can name a segment; '' otherwise."""
    label = label.strip(" :,.;")
    if not label or not label[0].isupper() or _DIGIT_RE.search(label) or len(label) > 60:
        return ""
    words = label.split()
    while words and words[0].lower().strip(",.") in _SEGMENT_STOP:
        words = words[1:]
    while words and words[-1].lower().strip(",.") in _SEGMENT_STOP:
        words = words[:-1]
    if not words or len(words) > 5:
        return ""
    name = " ".join(words)
    if _NOT_SEGMENT_RE.search(name) or _DATEISH_RE.search(name) or sum(c.isalpha() for c in name) < 3:
        return ""
    return name


# --- per-page facts ---------------------------------------------------------------------------------
@dataclass(slots=True)
class PageFacts:
    """What one page contributes to the graph."""

    page: int
    chunk_id: str
    title: str
    statement: bool
    rows: int
    metrics: list[str] = field(default_factory=list)  # normalised labels in row order
    labels: dict[str, str] = field(default_factory=dict)  # normalised -> as printed (first seen)
    segments: Counter[str] = field(default_factory=Counter)  # normalised name -> mentions
    segment_labels: dict[str, str] = field(default_factory=dict)
    segment_via: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # "table" / "text"
    segment_quotes: dict[str, str] = field(default_factory=dict)  # normalised -> the sentence / row naming it
    quote_via: dict[str, str] = field(default_factory=dict)  # normalised -> "text" / "table"


def extract_page(chunk: Chunk) -> PageFacts:
    """Metrics (table row labels) and segments (named in text, or rows of a table under a segment heading)."""
    text = chunk.text
    title = chunk.section
    facts = PageFacts(page=chunk.page_start, chunk_id=chunk.id, title=title, statement=False, rows=0)
    in_segment_block = False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        row = split_row(line)
        if row is None:
            # Headings about segments open a block; prose or the next note/item heading closes it.
            if _SEGMENT_WORD_RE.search(line):
                in_segment_block = True
            elif _HEADING_END_RE.match(line) or len(line) > 60 or line.endswith("."):
                in_segment_block = False
            continue
        label, _ = row
        facts.rows += 1
        if in_segment_block:
            name = _segment_name(label)
            if name:
                _add_segment(facts, name, "table", line)
                continue
        norm = _metric_label(label)
        if norm:
            facts.metrics.append(norm)
            facts.labels.setdefault(norm, label.strip(" :"))
    for m in _NAMED_SEGMENT_RE.finditer(text):
        name = _segment_name(" ".join(m.group(1).split()))
        if name:
            _add_segment(facts, name, "text", sentence_at(text, m.start()))
    facts.statement = bool(STATEMENT_TITLE.search(f"{title}\n{text[:400]}")) and facts.rows >= 8
    return facts


def _add_segment(facts: PageFacts, name: str, via: str, quote: str = "") -> None:
    norm = normalise_label(name)
    if not norm:
        return
    facts.segments[norm] += 1
    facts.segment_labels.setdefault(norm, name)
    facts.segment_via[norm].add(via)
    # Prose states what a segment is better than a table row does: a sentence replaces a row.
    if quote and (norm not in facts.segment_quotes or (via == "text" and facts.quote_via.get(norm) == "table")):
        facts.segment_quotes[norm] = quote
        facts.quote_via[norm] = via


QUOTE_CHARS = 300


def sentence_at(text: str, pos: int) -> str:
    """The sentence of `text` around `pos` (a quote for a citation), at most QUOTE_CHARS characters."""
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos))
    start = 0 if start < 0 else start + 1
    ends = [i for i in (text.find(". ", pos), text.find("\n", pos)) if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    return " ".join(text[start:end].split())[:QUOTE_CHARS]


# --- graph ---------------------------------------------------------------------------------------------


def company_key(record: DocumentRecord) -> str:
    """Same company across filings: the ticker when known (names change: 'X Systems Inc.' -> 'X Inc.')."""
    f = record.filing
    if f.ticker:
        return f.ticker.upper()
    words = [w for w in _WORD_RE.findall((f.company or record.name).lower()) if w not in GRAPH_LEGAL_SUFFIXES]
    return " ".join(words) or record.name.lower()


def doc_stamp(record: DocumentRecord) -> str:
    return f"{record.content_hash}:{record.updated_at}:{record.chunks}"


def new_graph(tenant: str) -> nx.Graph:
    g = nx.Graph()
    g.graph.update(version=GRAPH_VERSION, tenant=tenant, docs={}, stamp="", communities=[], pages_total=0)
    return g


def period_label(record: DocumentRecord) -> str:
    f = record.filing
    if not f.fiscal_year:
        return ""
    return f"FY{f.fiscal_year}" + (f"Q{f.fiscal_quarter}" if f.fiscal_quarter else "")


def _bump(g: nx.Graph, u: str, v: str, doc_id: str, weight: float = 1.0, **attrs: Any) -> None:
    """Edges between shared nodes keep each filing's share, so a filing can be taken out again."""
    if g.has_edge(u, v):
        data = g.edges[u, v]
        data["docs"][doc_id] = data["docs"].get(doc_id, 0.0) + weight
        data["weight"] = data["weight"] + weight
    else:
        g.add_edge(u, v, weight=weight, docs={doc_id: weight}, **attrs)


def add_document(g: nx.Graph, record: DocumentRecord, pages: Iterable[Chunk]) -> int:
    """Add one filing's nodes and edges; returns the number of page nodes added."""
    doc_id = record.doc_id
    f = record.filing
    doc = f"doc:{doc_id}"
    company = f"company:{company_key(record)}"
    if company not in g:
        g.add_node(company, kind="company", label=f.company or record.name, names=[])
    names = g.nodes[company]["names"]
    for name in [f.company, *f.aliases, f.ticker]:
        if name and name not in names:
            names.append(name)
    g.add_node(
        doc,
        kind="filing",
        label=record.name,
        doc_id=doc_id,
        company=company,
        doc_type=str(f.doc_type),
        fiscal_year=f.fiscal_year,
        fiscal_quarter=f.fiscal_quarter,
    )
    g.add_edge(company, doc, weight=1.0, rel="filed")
    period = period_label(record)
    if period:
        pnode = f"period:{period}"
        if pnode not in g:
            g.add_node(pnode, kind="period", label=period, fiscal_year=f.fiscal_year)
        g.add_edge(doc, pnode, weight=1.0, rel="period")

    added = 0
    for chunk in pages:
        facts = extract_page(chunk)
        if not facts.metrics and not facts.segments:
            continue
        page = f"page:{doc_id}:{facts.page}"
        g.add_node(
            page,
            kind="page",
            doc_id=doc_id,
            page=facts.page,
            chunk_id=facts.chunk_id,
            title=facts.title,
            statement=facts.statement,
            rows=facts.rows,
        )
        g.add_edge(doc, page, weight=1.0, rel="page")
        added += 1
        for norm, count in facts.segments.items():
            seg = f"segment:{company_key(record)}:{norm}"
            if seg not in g:
                g.add_node(seg, kind="segment", label=facts.segment_labels[norm], company=company)
            _bump(g, company, seg, doc_id, rel="segment")
            g.add_edge(
                seg,
                page,
                weight=float(count),
                rel="evidence",
                via=sorted(facts.segment_via[norm]),
                quote=facts.segment_quotes.get(norm, ""),
            )
        for norm, count in Counter(facts.metrics).items():
            metric = f"metric:{norm}"
            if metric not in g:
                g.add_node(metric, kind="metric", label=facts.labels[norm])
            g.add_edge(metric, page, weight=float(count), rel="evidence")
        if facts.statement or facts.rows >= STATEMENT_MIN_ROWS:
            # Neighbouring rows of a statement (or a dense table) belong together: one calculation's lines.
            ordered = list(dict.fromkeys(facts.metrics))
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 : i + 1 + COOCCUR_WINDOW]:
                    _bump(g, f"metric:{a}", f"metric:{b}", doc_id, rel="cooccurs")
    return added


def remove_document(g: nx.Graph, doc_id: str) -> None:
    """Take one filing out: its doc and page nodes, its share of shared edges, then orphaned entities."""
    mine = [n for n, d in g.nodes(data=True) if d.get("doc_id") == doc_id and d.get("kind") in ("page", "filing")]
    g.remove_nodes_from(mine)
    empty = []
    for u, v, data in g.edges(data=True):
        docs = data.get("docs")
        if docs and doc_id in docs:
            data["weight"] -= docs.pop(doc_id)
            if not docs:
                empty.append((u, v))
    g.remove_edges_from(empty)
    g.remove_nodes_from([n for n, deg in list(g.degree()) if deg == 0])
    g.graph["docs"].pop(doc_id, None)


def read_pages(store: VectorStore, record: DocumentRecord) -> list[Chunk]:
    """Page (parent) chunks of a filing through the VectorStore protocol, in batches."""
    out: list[Chunk] = []
    total = max(record.pages, 0)
    for start in range(0, total, PAGE_BATCH):
        out.extend(store.page_chunks(record.tenant, record.doc_id, range(start, min(total, start + PAGE_BATCH))))
    return out


# --- communities -----------------------------------------------------------------------------------------
# (system prompt, extractive summary) -> a few sentences, or None when no model answered.
SummariseFn = Callable[[str, str], "str | None"]
SUMMARY_SYSTEM = (
    "You summarise one community of a knowledge graph built from financial filings. You receive its "
    "entities, relations and the quoted sentences that state them, each with a [DOC p.N] citation. Write "
    "at most four plain sentences saying what the community is about, using only those facts, and keep "
    "the [DOC p.N] citation after each fact you use. No outside knowledge."
)
RELATIONS_PER_SUMMARY = 12
EVIDENCE_PER_RELATION = 2


def detect_communities(
    g: nx.Graph, max_summaries: int = 200, summarise: SummariseFn | None = None, max_llm_summaries: int = 50
) -> list[dict[str, Any]]:
    """Louvain communities (fixed seed) with an extractive summary each (entities, relations, cited
    sentences); sets node attr `community`. With `summarise`, the largest `max_llm_summaries` communities
    that state relations also get the model's summary of their extractive one."""
    if g.number_of_edges() == 0:
        g.graph["communities"] = []
        return []
    parts = nx.community.louvain_communities(g, weight="weight", seed=LOUVAIN_SEED)
    parts = sorted(parts, key=lambda c: (-len(c), min(c)))
    summaries: list[dict[str, Any]] = []
    for cid, members in enumerate(parts):
        for n in members:
            g.nodes[n]["community"] = cid
        if cid < max_summaries and len(members) >= 3:
            summaries.append(_summary(g, cid, members))
    if summarise is not None:
        for summary in [s for s in summaries if s["relations"]][:max_llm_summaries]:
            try:
                reply = summarise(SUMMARY_SYSTEM, summary["summary"])
            except Exception as exc:  # a summary is an extra: never fail the build for it
                log.warning("community summary by the LLM failed", extra={"error": str(exc)})
                reply = None
            if reply and reply.strip():
                summary["llm_summary"] = reply.strip()
    g.graph["communities"] = summaries
    return summaries


def _cite(g: nx.Graph, page_node: str, quote: str = "") -> dict[str, Any]:
    data = g.nodes[page_node]
    doc = g.nodes.get(f"doc:{data['doc_id']}", {})
    return {
        "doc_id": data["doc_id"],
        "doc_name": str(doc.get("label") or data["doc_id"]),
        "page": int(data["page"]) + 1,  # 1-based, as cited
        "chunk_id": data["chunk_id"],
        "quote": quote,
    }


def _segment_relations(g: nx.Graph, members: set[str]) -> list[dict[str, Any]]:
    """company -reports-> segment for the community's segments, each with its best-evidenced pages and
    the sentence (or table row) that names the segment there."""
    out = []
    for seg in sorted(n for n in members if g.nodes[n].get("kind") == "segment"):
        company = g.nodes[seg].get("company", "")
        if company not in g:
            continue
        pages = sorted(
            (
                (-float(d.get("weight", 1.0)), -len(d.get("quote", "")), p, d.get("quote", ""))
                for p, d in g.adj[seg].items()
                if g.nodes[p].get("kind") == "page"
            ),
        )
        evidence = [_cite(g, p, q) for _, _, p, q in pages[:EVIDENCE_PER_RELATION]]
        out.append(
            {
                "source": str(g.nodes[company].get("label", company)),
                "rel": "reports segment",
                "target": str(g.nodes[seg].get("label", seg)),
                "company": company,
                "entity": seg,
                "weight": float(g.edges[company, seg].get("weight", 1.0)) if g.has_edge(company, seg) else 0.0,
                "evidence": evidence,
            }
        )
    return sorted(out, key=lambda r: (-r["weight"], r["source"], r["target"]))


def _metric_relations(g: nx.Graph, members: set[str], k: int) -> list[dict[str, Any]]:
    """Line items printed next to each other (one statement's rows), the strongest first, each cited to a
    page that prints both."""
    edges = sorted(
        (
            (-float(d.get("weight", 0.0)), u, v)
            for u, v, d in g.subgraph(members).edges(data=True)
            if d.get("rel") == "cooccurs"
        ),
    )
    out = []
    for w, u, v in edges[:k]:
        shared = sorted(p for p in nx.common_neighbors(g, u, v) if g.nodes[p].get("kind") == "page")
        out.append(
            {
                "source": str(g.nodes[u].get("label", u)),
                "rel": "printed with",
                "target": str(g.nodes[v].get("label", v)),
                "weight": -w,
                "evidence": [_cite(g, shared[0])] if shared else [],
            }
        )
    return out


def _summary(g: nx.Graph, cid: int, members: set[str]) -> dict[str, Any]:
    """Top entities by weighted degree inside the community, its relations with the sentences that state
    them (cited [DOC p.N]) and its best-connected pages."""
    sub = g.subgraph(members)
    strength = dict(sub.degree(weight="weight"))
    by_kind: dict[str, list[str]] = defaultdict(list)
    for n in sorted(members, key=lambda n: (-strength[n], n)):
        by_kind[g.nodes[n].get("kind", "")].append(n)

    def labels(kind: str, k: int) -> list[str]:
        return [str(g.nodes[n].get("label", n)) for n in by_kind[kind][:k]]

    filings = {g.nodes[n]["doc_id"] for n in members if g.nodes[n].get("kind") in ("page", "filing")}
    pages = [
        {"doc_id": g.nodes[n]["doc_id"], "page": g.nodes[n]["page"], "chunk_id": g.nodes[n]["chunk_id"]}
        for n in by_kind["page"][:5]
    ]
    top = {
        "companies": labels("company", 5),
        "segments": labels("segment", 8),
        "metrics": labels("metric", 10),
        "periods": labels("period", 5),
    }
    relations = _segment_relations(g, members)[:RELATIONS_PER_SUMMARY]
    relations += _metric_relations(g, members, max(0, RELATIONS_PER_SUMMARY - len(relations)))
    sentences: list[dict[str, Any]] = []
    for r in relations:
        for e in r["evidence"]:
            if e["quote"] and e["quote"] not in (s["quote"] for s in sentences):
                sentences.append(e)
    lines = [f"{k}: {', '.join(v)}" for k, v in top.items() if v]
    for r in relations:
        cites = "".join(f"[{page_label(e['doc_name'], e['page'])}]" for e in r["evidence"])
        lines.append(f"{r['source']} {r['rel']} {r['target']} {cites}".rstrip())
    for e in sentences[:8]:
        lines.append(f'"{e["quote"]}" [{page_label(e["doc_name"], e["page"])}]')
    return {
        "id": cid,
        "size": len(members),
        **top,
        "filings": sorted(filings)[:20],
        "pages": pages,
        "relations": relations,
        "sentences": sentences[:8],
        "summary": "\n".join(lines),
    }


# --- persistence -----------------------------------------------------------------------------------------
def graph_path(graph_dir: Path, tenant: str) -> Path:
    """One file per tenant; odd characters in a tenant name never reach the file system."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", tenant)
    if safe != tenant or not safe:
        safe = f"{safe}-{hashlib.sha1(tenant.encode()).hexdigest()[:8]}"
    return Path(graph_dir) / f"{safe}.json"


def save_graph(g: nx.Graph, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(nx.node_link_data(g, edges="edges"), separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a graph


def load_graph(path: Path) -> nx.Graph | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        g = nx.node_link_graph(data, edges="edges")
    except (OSError, ValueError, KeyError, nx.NetworkXError) as exc:
        if Path(path).exists():
            log.warning("graph file unreadable, rebuilding", extra={"path": str(path), "error": str(exc)})
        return None
    return g


def _stamp(docs: dict[str, str]) -> str:
    blob = json.dumps([GRAPH_VERSION, sorted(docs.items())]).encode()
    return hashlib.sha1(blob).hexdigest()


def registry_stamp(records: Sequence[DocumentRecord]) -> str:
    return _stamp({r.doc_id: doc_stamp(r) for r in records})


# --- builder ---------------------------------------------------------------------------------------------
class GraphBuilder:
    """Builds and updates the per-tenant graph files under `graph_dir`."""

    def __init__(
        self, store: VectorStore, registry: Registry, graph_dir: Path, summarise: SummariseFn | None = None
    ) -> None:
        self.store = store
        self.registry = registry
        self.graph_dir = Path(graph_dir)
        self.summarise = summarise  # LLM community summaries (None: extractive only)

    def ready_documents(self, tenant: str) -> list[DocumentRecord]:
        return self.registry.list(tenant=tenant, status=DocStatus.READY)

    def build(self, tenant: str, graph: nx.Graph | None = None, force: bool = False) -> nx.Graph:
        """Bring the tenant's graph up to date with the registry; only changed filings are re-read."""
        path = graph_path(self.graph_dir, tenant)
        g = graph if graph is not None else load_graph(path)
        if force or g is None or g.graph.get("version") != GRAPH_VERSION or g.graph.get("tenant") != tenant:
            g = new_graph(tenant)
        records = {r.doc_id: r for r in self.ready_documents(tenant)}
        known: dict[str, str] = g.graph["docs"]
        stale = [d for d, s in known.items() if d not in records or s != doc_stamp(records[d])]
        fresh = [r for d, r in records.items() if known.get(d) != doc_stamp(r)]
        if not stale and not fresh and g.graph.get("stamp"):
            return g
        for doc_id in stale:
            remove_document(g, doc_id)
        for record in fresh:
            if record.tenant != tenant:  # the registry filters by tenant; never trust it blindly
                continue
            add_document(g, record, read_pages(self.store, record))
            g.graph["docs"][record.doc_id] = doc_stamp(record)
        g.graph["pages_total"] = sum(1 for _, d in g.nodes(data=True) if d.get("kind") == "page")
        g.graph["stamp"] = _stamp(g.graph["docs"])
        detect_communities(g, summarise=self.summarise)
        save_graph(g, path)
        log.info(
            "graph built",
            extra={"tenant": tenant, "nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "added": len(fresh)},
        )
        return g


def metric_idf(g: nx.Graph, node: str) -> float:
    """Rarer line items identify a page better ('purchases of ...' vs 'total')."""
    total = max(int(g.graph.get("pages_total", 0)), 1)
    df = sum(1 for n in g.neighbors(node) if g.nodes[n].get("kind") == "page")
    return math.log(1.0 + total / (1.0 + df))
