"""Infer which filings a question is about: company (names, aliases, tickers, former names from the
ingested cover pages), fiscal year / quarter and form type. Nothing here knows any company by name:
the alias table is built from the registry."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from finrag.finance.companies import LEGAL_SUFFIXES
from finrag.finance.facts import PATTERNS, QuestionFacts, question_forms, question_quarter, question_years
from finrag.finance.periods import PeriodQuery, parse_periods
from finrag.records import DocStatus, DocType, DocumentRecord, Scope

# Words too common to identify a company on their own.
_GENERIC = {
    "american", "general", "first", "united", "national", "international", "global", "new", "north",
    "south", "west", "east", "bank", "financial", "energy", "foods", "health", "resorts", "stores",
    "communications", "technologies", "systems", "industries", "services", "water", "works", "power",
}  # fmt: skip

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower().replace("'s ", " ").replace("’s ", " ").replace("&", " and "))


def alias_keys(name: str) -> set[str]:
    """Spelling-insensitive keys of one company name ("Wal-Mart Stores, Inc." -> walmartstores,
    walmart, ...)."""
    toks = _tokens(name)
    core = [t for t in toks if t not in LEGAL_SUFFIXES] or toks
    keys = {"".join(toks), "".join(core)}
    if len(core) >= 2:
        keys.add("".join(core[:2]))
        keys.add("".join(t[0] for t in core))  # initials: "jj" for Johnson & Johnson
        if "and" in toks:  # J&J / JnJ style
            keys.add("n".join(t[0] for t in core))
        keys.add(core[0][:2] + core[1][:2])  # AmEx style contraction
    if core:
        keys.add(core[0])
    return {k for k in keys if len(k) >= 2}


@dataclass(slots=True)
class _CompanyEntry:
    doc: DocumentRecord
    keys: set[str] = field(default_factory=set)
    tickers: set[str] = field(default_factory=set)


class ScopeResolver:
    """Question text -> Scope (documents, years, forms) with a note saying what was inferred."""

    def __init__(self, documents: Sequence[DocumentRecord], periods: bool = True) -> None:
        self.periods = periods  # read quarters / halves / dates with the period grammar (finance/periods.py)
        self.entries: list[_CompanyEntry] = []
        for doc in documents:
            if doc.status != DocStatus.READY:
                continue
            names = [doc.filing.company, *doc.filing.aliases] if doc.filing.company else list(doc.filing.aliases)
            keys: set[str] = set()
            for name in names:
                keys |= alias_keys(name)
            tickers = {t.upper() for t in ([doc.filing.ticker] if doc.filing.ticker else []) if len(t) >= 2}
            self.entries.append(_CompanyEntry(doc, keys, tickers))
        # A key shared by several *different* companies (e.g. "american") identifies none of them.
        # Filings are the same company when they share a ticker or their full core name.
        owner = _company_components(self.entries)
        owners: dict[str, set[int]] = {}
        for i, e in enumerate(self.entries):
            for k in e.keys:
                owners.setdefault(k, set()).add(owner[i])
        for e in self.entries:
            names = [e.doc.filing.company, *e.doc.filing.aliases]
            cores = {"".join(t for t in _tokens(n) if t not in LEGAL_SUFFIXES) for n in names if n}
            e.keys = {k for k in e.keys if len(owners[k]) == 1 and _distinctive(k, e.tickers, cores)}
        # Inverted indexes, so that a question costs a few dict lookups however many filings there are
        # (a scan of every filing's keys per question grew linearly with the registry).
        self._by_key: dict[str, list[int]] = {}
        self._by_ticker: dict[str, list[int]] = {}
        self._by_type: dict[str, list[DocumentRecord]] = {}
        for i, e in enumerate(self.entries):
            for k in e.keys:
                self._by_key.setdefault(k, []).append(i)
            for t in e.tickers:
                self._by_ticker.setdefault(t, []).append(i)
            self._by_type.setdefault(str(e.doc.filing.doc_type), []).append(e.doc)

    # ---------------------------------------------------------------------------------------------
    def companies_in(self, question: str) -> list[DocumentRecord]:
        toks = _tokens(question)
        grams: set[str] = set()
        for n in (1, 2, 3, 4):
            for i in range(len(toks) - n + 1):
                grams.add("".join(toks[i : i + n]))
        words = set(re.findall(r"\b[A-Z][A-Z0-9.]{1,5}\b", question))
        longest: dict[int, int] = {}  # entry -> length of its longest key found in the question
        for key in grams:
            for i in self._by_key.get(key, ()):
                longest[i] = max(longest.get(i, 0), len(key))
        for word in words:
            for i in self._by_ticker.get(word, ()):
                longest[i] = max(longest.get(i, 0), len(word))
        # Longest match first, then registry order (as the scan of every filing returned them).
        return [self.entries[i].doc for i in sorted(longest, key=lambda i: (-longest[i], i))]

    # The question's years, quarter and form are read by finrag.finance.facts.
    years_in = staticmethod(question_years)
    quarter_in = staticmethod(question_quarter)
    doc_types_in = staticmethod(question_forms)

    def resolve(self, question: str, facts: QuestionFacts | None = None) -> Scope:
        # The question's periods and form: from its facts when the caller read them, else read here
        # (the same finance.facts readers, without planning the question).
        company_docs = self.companies_in(question)
        years = list(facts.years) if facts else question_years(question)
        types = list(facts.forms) if facts else question_forms(question)
        quarter = facts.quarter if facts else question_quarter(question)
        full_year = facts.full_year if facts else bool(PATTERNS["full_year"].search(question))
        forward = facts.forward if facts else bool(PATTERNS["forward"].search(question))
        notes: list[str] = []
        if not company_docs:
            note = "no known company named in the question: searching all filings"
            if years:
                note += f" (years mentioned: {', '.join(map(str, years))})"
            typed = self._by_type.get(types[0], []) if types else []
            if typed:  # the form alone still narrows the search (falls back if it empties it)
                return Scope(doc_types=types, doc_ids=[d.doc_id for d in typed], note=f"{note}; form {types[0]}",
                             applied=True, company_missing=True)  # fmt: skip
            return Scope(fiscal_years=[], note=note, applied=False, company_missing=True)

        companies = list(dict.fromkeys(d.filing.company or d.name for d in company_docs))
        docs = company_docs
        if types:
            typed = [d for d in docs if str(d.filing.doc_type) == types[0]]
            if typed:
                docs = typed
                notes.append(f"form {types[0]}")
            else:  # none of this company's filings is of that form ("annual report" of a 10-K filer):
                # the form is not a filter, or the search would find nothing and drop the year too
                notes.append(f"no {types[0]} among this company's filings")
                types = []
        periods = parse_periods(question)
        by_period = _pick_periods(docs, periods) if self.periods and not types else None
        if by_period is not None:  # quarters, halves, nine months, dates: the filings that report them
            docs, period_note = by_period
            notes.append(period_note)
        else:
            if not types and quarter is None and full_year:
                annual = [d for d in docs if str(d.filing.doc_type) != DocType.TEN_Q.value]
                if annual and len(annual) < len(docs):
                    docs = annual
                    notes.append("quarterly reports left out (the question asks about a full fiscal year)")
            if years:
                docs, year_note = self._pick_years(docs, years, forward=forward)
                notes.append(year_note)
        note = f"company: {', '.join(companies)}" + (f"; {'; '.join(notes)}" if notes else "")
        return Scope(
            companies=companies,
            fiscal_years=sorted({d.filing.fiscal_year for d in docs if d.filing.fiscal_year}),
            doc_types=types,
            doc_ids=[d.doc_id for d in docs],
            note=note,
            applied=True,
        )

    @staticmethod
    def _pick_years(
        docs: list[DocumentRecord], years: list[int], forward: bool = False
    ) -> tuple[list[DocumentRecord], str]:
        """Filings report the current and prior periods, so the latest year asked about is the one to
        read; later filings (which repeat it as a comparative) are the fallback. A question about what
        is expected in a year also reads the year before, where the outlook was given."""
        target = max(years)
        wanted = {target, target - 1} if forward else {target}
        exact = [d for d in docs if d.filing.fiscal_year in wanted]
        if exact:
            label = f"fiscal year {target}" + (f" and the FY{target - 1} outlook" if forward else "")
            return exact, label
        mentioned = [d for d in docs if d.filing.fiscal_year in years]
        if mentioned:
            return mentioned, f"fiscal years {', '.join(map(str, years))}"
        # Statements carry two or three years of comparatives, no more.
        later = sorted((d for d in docs if d.filing.fiscal_year and target < d.filing.fiscal_year <= target + 2),
                       key=lambda d: d.filing.fiscal_year or 0)  # fmt: skip
        if later:
            nearest = later[0].filing.fiscal_year
            return [d for d in later if d.filing.fiscal_year == nearest], (
                f"no FY{target} filing; using FY{nearest} (it reports FY{target} as a comparative)"
            )
        return docs, f"no filing for {', '.join(map(str, years))}: searching all of this company's filings"


def _pick_periods(docs: list[DocumentRecord], query: PeriodQuery) -> tuple[list[DocumentRecord], str] | None:
    """The filings that report the periods asked about, when the question names an interim period (a
    quarter, a half, nine months, a quarter-end balance) or a date: a date picks the filing whose period
    ends then (10-Q, 10-K, or the 8-K of that day); an interim period of a fiscal year picks that
    quarter's 10-Q and earnings release; a range across a 10-K and a 10-Q picks both. None when the
    question names only full years (the year rules apply) or no filing matches (never narrow to nothing)."""
    if not query.periods or not (query.interim or any(p.end for p in query.periods)):
        return None
    picked: list[DocumentRecord] = []
    for p in query.periods:
        if p.end is not None:
            near = [d for d in docs if _days_apart(d.filing.period_end, p.end) <= 10]
            if p.months == 12:  # "fiscal year ended <date>": the annual report of that year
                near = [d for d in near if str(d.filing.doc_type) != DocType.TEN_Q.value] or near
            picked += near
            continue
        if p.fiscal_year is None:
            continue
        quarter = p.end_quarter
        if quarter is not None and quarter < 4:
            picked += [d for d in docs if d.filing.fiscal_year == p.fiscal_year and d.filing.fiscal_quarter == quarter
                       and str(d.filing.doc_type) in (DocType.TEN_Q.value, DocType.EARNINGS.value)]  # fmt: skip
        else:  # a full year, Q4 or a year-end balance inside a range: the annual report and the Q4 release
            annual = (DocType.TEN_K.value, DocType.ANNUAL_REPORT.value)
            picked += [d for d in docs if d.filing.fiscal_year == p.fiscal_year and (
                str(d.filing.doc_type) in annual
                or (str(d.filing.doc_type) == DocType.EARNINGS.value and d.filing.fiscal_quarter == 4))]  # fmt: skip
    picked = list({d.doc_id: d for d in picked}.values())
    if not picked:
        return None
    forms = ", ".join(sorted({str(d.filing.doc_type) for d in picked}))
    return picked, f"period: {query.describe()} ({forms})"


def _days_apart(iso: str, day: date) -> int:
    try:
        return abs((date.fromisoformat(iso[:10]) - day).days)
    except ValueError:
        return 10**6


def _distinctive(key: str, tickers: set[str], cores: set[str]) -> bool:
    """Short keys only when they are a whole name ("3M") or a ticker; never a bare number or a
    generic word."""
    if key in _GENERIC or key.isdigit():
        return False
    return len(key) >= 3 or key.upper() in tickers or key in cores


def _identity_keys(name: str) -> set[str]:
    """Keys that identify a company across its filings even when the legal name changed slightly
    ("Adobe Systems Incorporated" -> "Adobe Inc.", "Wal-Mart Stores, Inc." -> "Walmart Inc.")."""
    core = [t for t in _tokens(name) if t not in LEGAL_SUFFIXES]
    keys = {"".join(core)} if core else set()
    if len(core) >= 2:
        keys.add("".join(core[:2]))
    if core and core[0] not in _GENERIC and len(core[0]) >= 4:
        keys.add(core[0])
    return keys


def _company_components(entries: Sequence[_CompanyEntry]) -> list[int]:
    """Union-find over filings: the same ticker -> the same company; then the same identity key -> the
    same company, unless filings of different tickers carry that key (Johnson & Johnson and Johnson
    Controls share "johnson"; a name change such as Adobe Systems -> Adobe Inc. shares "adobe" with no
    second ticker). Filings without a ticker (older covers often print none) join by name alone."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    by_ticker: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        for t in e.tickers:
            if t in by_ticker:
                union(i, by_ticker[t])
            else:
                by_ticker[t] = i
        for k in _identity_keys(e.doc.filing.company):
            by_name.setdefault(k, []).append(i)
    for members in by_name.values():
        ticker_companies = {find(i) for i in members if entries[i].tickers}
        if len(ticker_companies) > 1:  # different companies share this word: it joins nobody
            continue
        for i in members[1:]:
            union(i, members[0])
    return [find(i) for i in range(len(entries))]
