"""What a filing is (company, form, fiscal period), read from its cover pages.

The content decides; the file name is only a fallback for fields the content leaves empty, and
`Filing.source[field]` says which of the two gave each value. Every rule here is generic (SEC cover
page conventions, press-release conventions, legal suffixes): nothing names a company.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from finrag.finance.companies import (
    LEGAL_FORM_WORD,
    NOT_A_NAME,
    PRIMARY_TICKER,
    TICKER_PAREN,
    TICKER_ROW,
    base_name,
    clean_name,
    company_aliases,
    smart_title,
)
from finrag.finance.dates import DATE, add_months, fiscal_year_of, parse_date
from finrag.records import DocType, Filing, Page

log = logging.getLogger(__name__)

CONTENT = "content"
FILENAME = "filename"

# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# Cover-page cues
# ---------------------------------------------------------------------------------------------

_EXACT_NAME = re.compile(r"\(?\s*exact name of (?:the )?registrant", re.IGNORECASE)
_SEC_HEADER = re.compile(r"securities\s+and\s+exchange\s+commission", re.IGNORECASE)
_FORM = re.compile(r"\bform\s+(10-?K|10-?Q|8-?K|20-?F|40-?F|6-?K)\b", re.IGNORECASE)
_FORM_HEADING = re.compile(r"^\W*form\s+(10-?K|10-?Q|8-?K)\b", re.IGNORECASE | re.MULTILINE)
_ANNUAL_10K = re.compile(r"annual\s+report\s+pursuant\s+to\s+section\s+13", re.IGNORECASE)
_QUARTERLY_10Q = re.compile(r"quarterly\s+report\s+pursuant\s+to\s+section\s+13", re.IGNORECASE)
_CURRENT_8K = re.compile(r"current\s+report\s+pursuant\s+to\s+section\s+13", re.IGNORECASE)
_QUARTER_WORD = r"(?:first|second|third|fourth|1st|2nd|3rd|4th)"
_PRESS_RELEASE = re.compile(
    r"for immediate release|earnings release|press release|news release|"
    rf"\b(?:reports?|reported|announces?|announced|posts?|delivers?)\b[^.\n]{{0,60}}\b(?:results|earnings)\b|"
    rf"\b{_QUARTER_WORD}[- ]quarter\b[^.\n]{{0,40}}\bresults\b",
    re.IGNORECASE,
)
_GLOSSY = re.compile(
    r"letter to (?:our )?(?:share|stock)holders|dear (?:fellow )?(?:share|stock)holders|"
    r"to our (?:fellow )?(?:share|stock)holders",
    re.IGNORECASE,
)
_ANNUAL_REPORT_TITLE = re.compile(r"\bannual report\b", re.IGNORECASE)
_FY_ENDED = re.compile(rf"fiscal\s+year\s+ended\W+(?:\w+\W+){{0,4}}?({DATE})", re.IGNORECASE)
_FY_ANY = re.compile(rf"fiscal\s+year\s+(?:ended|ending)\W+({DATE})", re.IGNORECASE)
_QUARTER_ENDED = re.compile(
    rf"(?:quarterly\s+period|quarter)\s+ended\W+(?:[A-Za-z]+\W+){{0,4}}?({DATE})", re.IGNORECASE
)
_REPORT_DATE = re.compile(
    rf"date\s+of\s+report\s*\(\s*date\s+of\s+earliest\s+event\s+reported\s*\)\W*({DATE})", re.IGNORECASE
)
_PERIOD_ENDED = re.compile(
    rf"\b(?:quarter|year|period|weeks|months)(?:\s*\(?[“\"]?[\w ]{{0,20}}[”\"]?\)?)?\s+ended\s+({DATE})",
    re.IGNORECASE,
)
_THREE_MONTHS = re.compile(r"\b(?:three months|thirteen weeks|13 weeks|twelve weeks|12 weeks)\b", re.I)
_NINE_MONTHS = re.compile(r"\b(?:nine months|thirty-nine weeks|39 weeks|forty weeks|40 weeks)\b", re.IGNORECASE)
_SIX_MONTHS = re.compile(r"\b(?:six months|twenty-six weeks|26 weeks|twenty-four weeks|24 weeks)\b", re.IGNORECASE)
_QUARTER_NAMED = re.compile(
    rf"\b(?:(?P<word>{_QUARTER_WORD})[- ]quarter|Q(?P<num>[1-4]))\b(?:\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?)?"
    r"(?P<year>(?:19|20)\d{2}))?",
    re.IGNORECASE,
)
_YEAR_BEFORE_QUARTER = re.compile(rf"\b((?:19|20)\d{{2}})\s+(?:{_QUARTER_WORD})[- ]quarter", re.IGNORECASE)
_FISCAL_YEAR_LABEL = re.compile(
    r"\b(?:fiscal(?:\s+year)?|full[- ]year(?:\s+of)?|FY)\s*'?((?:19|20)\d{2})\b", re.IGNORECASE
)
_ANNUAL_REPORT_YEAR = re.compile(r"\b((?:19|20)\d{2})\s+annual\s+report\b", re.IGNORECASE)
_FORMER_NAME = re.compile(
    r"\b(?:formerly\s+(?:known\s+as\s+)?|f/k/a\s+)(?P<name>(?:the\s+)?[A-Z][\w.&'-]*(?:\s+(?:&\s+)?[A-Z][\w.&'-]*){0,5}"
    rf"(?:,?\s+{LEGAL_FORM_WORD})?)",
)
_DEFINED_AS = re.compile(
    r"\(\s*(?:the\s+)?[“\"]?(?P<short>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3})[”\"]?\s*,?\s+or\s+"
    r"(?:the\s+)?[“\"]?(?:Company|Corporation|Firm|Registrant|we)\b",
)
_SUBSIDIARIES = re.compile(r"^(?P<name>[A-Z][\w.,&' -]{1,60}?)\s+and\s+(?:its\s+)?subsidiaries\s*$", re.I | re.M)
_HEADLINE = re.compile(
    r"^\W*(?P<name>[A-Z][\w.&'-]*(?:\s+(?:&\s+)?[A-Z][\w.&'-]*){0,4}(?:,?\s+" + LEGAL_FORM_WORD + r")?)\s+"
    r"(?:reports?|announces?|reported|announced|posts?|delivers?)\b",
    re.MULTILINE,
)
_LEGAL_NAME = re.compile(
    r"(?<![\w&])(?P<name>(?:The\s+)?[A-Z][\w.&'-]*(?:\s+(?:&\s+)?[A-Z][\w.&'-]*){0,4},?\s+" + LEGAL_FORM_WORD + r")"
    r"(?![\w])",
)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:(?:19|20)\d{2}\s*)?(?P<name>[A-Z][^\n.]{2,60}?)(?:\.|\n|$)")


@dataclass(slots=True)
class _Found:
    """One field as read from the content, with a note on which rule read it (for logs)."""

    values: dict[str, object] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)

    def set(self, key: str, value: object, rule: str) -> None:
        if value not in (None, "", []) and key not in self.values:
            self.values[key] = value
            self.rules[key] = rule


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _name_before_exact_name(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        m = _EXACT_NAME.search(line)
        if not m:
            continue
        same_line = clean_name(line[: m.start()])
        if same_line and not NOT_A_NAME.search(same_line):
            return same_line
        parts: list[str] = []
        for j in range(i - 1, max(i - 3, -1), -1):
            cand = clean_name(lines[j])
            if not cand or NOT_A_NAME.search(cand) or re.search(r"\d{3,}", cand):
                break
            parts.insert(0, cand)
            # A name continues on the line above only when that line is unfinished ("... &").
            if not (j >= 1 and re.search(r"(?:&|,|\band|\bof)$", clean_name(lines[j - 1]))):
                break
        if parts:
            return " ".join(parts)
    return ""


def _name_after_file_number(lines: list[str]) -> str:
    """Covers without the "Exact name" caption put the name right under the file number."""
    for i, line in enumerate(lines[:60]):
        if re.search(r"commission\s+file\s+(?:no\.?|number)", line, re.IGNORECASE) and i + 1 < len(lines):
            after = clean_name(re.sub(r"^.*?file\s+(?:no\.?|number)[:\s]*[\d-]+", "", line, flags=re.I))
            cand = after or clean_name(lines[i + 1])
            looks_like_name = re.search(LEGAL_FORM_WORD + r"$", cand) or cand.isupper()
            if cand and not NOT_A_NAME.search(cand) and re.search(r"[A-Za-z]{2}", cand) and looks_like_name:
                return cand
    return ""


def _name_before_paren_ticker(flat: str) -> tuple[str, str]:
    """Press releases: "... – Johnson & Johnson (NYSE: JNJ) today announced ..."."""
    m = TICKER_PAREN.search(flat)
    if not m:
        return "", ""
    words = flat[: m.start()].split()
    name: list[str] = []
    for word in reversed(words):
        if (word[:1].isupper() or word[:1].isdigit() or word in {"&", "and", "of"}) and not re.search(
            r"[)(]|--|—|–", word
        ):
            name.insert(0, word)
            if len(name) >= 6:
                break
        else:
            break
    while name and name[0] in {"&", "and", "of"}:
        name.pop(0)
    return clean_name(" ".join(name)), m.group(1)


def _tickers(text: str) -> list[str]:
    found: list[str] = []
    lines = text.split("\n")
    in_table = False
    for line in lines[:120]:
        if re.search(r"trading\s+symbol", line, re.IGNORECASE):
            in_table = True
            continue
        if in_table and re.search(r"section\s+12\(g\)|indicate by check mark", line, re.IGNORECASE):
            break
        if in_table:
            for m in TICKER_ROW.finditer(line):
                found.append(m.group(1))
    for m in TICKER_PAREN.finditer(_flat(text[:6000])):
        found.append(m.group(1))
    primary = [t for t in dict.fromkeys(found) if PRIMARY_TICKER.match(t) and t not in {"NYSE", "LLC"}]
    if not primary:
        return []
    # Other rows list notes and preferred series ("JPM PR C"): keep only other share classes
    # of the same stem (GOOG / GOOGL, BRK.A / BRK.B).
    return [primary[0]] + [t for t in primary[1:] if len(t) >= 2 and t[:2] == primary[0][:2]]


def _join_small_caps(name: str, text: str) -> str:
    """pdfium splits small-caps words after their big first letter ("MGM R ESORTS"); join a letter
    to the next word when the filing spells the joined word elsewhere."""

    def join(m: re.Match[str]) -> str:
        word = m.group(1) + m.group(2)
        return word if re.search(rf"\b{word}\b", text, re.IGNORECASE) else m.group()

    return re.sub(r"\b([A-Z]) ([A-Z]{2,})\b", join, name)


def _spelled_in_text(phrase: str, text: str) -> str:
    """The filing's most frequent capitalised, not-all-caps spelling of `phrase`, or ""."""
    pattern = re.compile(r"(?<![\w.])" + r"\s+".join(re.escape(w) for w in phrase.split()) + r"(?!\w)", re.I)
    spellings = Counter(m.group() for m in pattern.finditer(text) if m.group()[0].isupper() and not m.group().isupper())
    return re.sub(r"\s+", " ", spellings.most_common(1)[0][0]) if spellings else ""


def _proper_case(name: str, text: str) -> str:
    """The filing's own mixed-case spelling of an upper-case name, else a careful title case."""
    if not name.isupper():
        return name
    spelled = _spelled_in_text(name, text)
    if spelled:
        return spelled
    base = base_name(name)
    if base != name and (spelled_base := _spelled_in_text(base, text)):
        # "3M COMPANY": the text's "3M" with a title-cased suffix
        return smart_title(name).replace(smart_title(base), spelled_base, 1)
    return smart_title(name)


def _legal_names(text: str) -> Counter[str]:
    names: Counter[str] = Counter()
    for m in _LEGAL_NAME.finditer(text):
        name = re.sub(r"\s+", " ", m.group("name"))
        first = name.split()[0]
        if first.lower() in {"the", "a", "an", "our", "each", "this", "such", "any", "all"} and len(name.split()) <= 2:
            continue
        names[name] += 1
    return names


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------

_FILE_TYPES = {
    "10K": DocType.TEN_K,
    "10Q": DocType.TEN_Q,
    "8K": DocType.EIGHT_K,
    "EARNINGS": DocType.EARNINGS,
    "ANNUALREPORT": DocType.ANNUAL_REPORT,
    "AR": DocType.ANNUAL_REPORT,
}


def describe_file_name(file_name: str) -> _Found:
    """Read names like `3M_2018_10K.pdf`, `AMCOR_2023Q2_10Q.pdf`, `PEPSICO_2023_8K_dated-2023-05-30.pdf`."""
    found = _Found()
    stem = re.sub(r"\.pdf$", "", file_name.rsplit("/", 1)[-1], flags=re.IGNORECASE)
    if not stem:
        return found
    dated = re.search(r"dated[-_ ]?(\d{4})-(\d{2})-(\d{2})", stem, re.IGNORECASE)
    if dated:
        found.set("period_end", "-".join(dated.groups()), "file name date")
        stem = stem[: dated.start()] + stem[dated.end() :]
    stem = re.sub(r"\b(10|8)-([KQ])\b", r"\1\2", stem, flags=re.IGNORECASE)  # "10-K" -> "10K"
    company: list[str] = []
    for tok in (t for t in re.split(r"[_\s.-]+", stem) if t):
        m = re.fullmatch(r"((?:19|20)\d{2})(?:Q([1-4]))?", tok, re.IGNORECASE)
        if m:
            found.set("fiscal_year", int(m.group(1)), "file name year")
            if m.group(2):
                found.set("fiscal_quarter", int(m.group(2)), "file name quarter")
        elif tok.upper() in _FILE_TYPES:
            found.set("doc_type", _FILE_TYPES[tok.upper()], "file name type")
        elif not (found.values.keys() - {"period_end"}):
            company.append(tok)  # words before the first year or form are the company
    if company:
        found.set("company", smart_title(" ".join(company).upper()), "file name prefix")
    return found


# ---------------------------------------------------------------------------------------------
# The describer
# ---------------------------------------------------------------------------------------------


class CoverPageDescriber:
    """`FilingDescriber` from cover-page content, with the file name as a fallback.

    Pass the first pages of a filing (at least 5 are useful: 10-Q quarters and short company
    names are often stated on pages 2-5); pages beyond `max_pages` are ignored."""

    def __init__(self, cover_pages: int = 3, max_pages: int = 6) -> None:
        self.cover_pages = cover_pages
        self.max_pages = max_pages

    def describe(self, pages: Sequence[Page], file_name: str) -> Filing:
        found = self._from_content(pages[: self.max_pages])
        fallback = describe_file_name(file_name or "")
        filing = Filing()
        for key in ("company", "doc_type", "fiscal_year", "fiscal_quarter", "period_end", "ticker"):
            if key in found.values:
                setattr(filing, key, found.values[key])
                filing.source[key] = CONTENT
            elif key in fallback.values:
                setattr(filing, key, fallback.values[key])
                filing.source[key] = FILENAME
        aliases = found.values.get("aliases")
        if isinstance(aliases, list):
            filing.aliases = aliases
        if filing.company:
            extra = company_aliases(filing.company)
            for alias in extra:
                if alias.casefold() not in {a.casefold() for a in filing.aliases}:
                    filing.aliases.append(alias)
            filing.aliases = [a for a in filing.aliases if a.casefold() != filing.company.casefold()]
            if filing.aliases:
                filing.source["aliases"] = filing.source["company"]
        log.info(
            "described filing",
            extra={
                "file_name": file_name,
                "company": filing.company,
                "doc_type": str(filing.doc_type),
                "fiscal_year": filing.fiscal_year,
                "fiscal_quarter": filing.fiscal_quarter,
                "source": dict(filing.source),
                "rules": dict(found.rules),
            },
        )
        return filing

    # -- content -------------------------------------------------------------------------------

    def _from_content(self, pages: Sequence[Page]) -> _Found:
        found = _Found()
        texts = [p.text or "" for p in pages]
        cover = "\n".join(texts[: self.cover_pages])
        allt = "\n".join(texts)
        if not allt.strip():
            return found
        cover_flat = _flat(cover)
        all_flat = _flat(allt)

        doc_type = self._doc_type(texts, cover_flat)
        if doc_type is not None:
            found.set("doc_type", doc_type[0], doc_type[1])

        self._company(found, cover, allt, all_flat)
        self._period(found, doc_type[0] if doc_type else None, cover_flat, all_flat, texts)
        return found

    def _doc_type(self, texts: list[str], cover_flat: str) -> tuple[DocType, str] | None:
        for text in texts[:2]:
            # An SEC cover starts with the Commission's name; the form is named right below it.
            flat = _flat(text)
            sec = _SEC_HEADER.search(flat[:800])
            if sec and (m := _FORM.search(flat[sec.start() : sec.start() + 1500])):
                return _form_type(m.group(1)), "SEC cover 'FORM'"
        for text in texts[:2]:
            m = _FORM_HEADING.search(text[:200])
            if m:
                return _form_type(m.group(1)), "'FORM' heading"
        if _ANNUAL_10K.search(cover_flat):
            return DocType.TEN_K, "annual report pursuant to section 13"
        if _QUARTERLY_10Q.search(cover_flat):
            return DocType.TEN_Q, "quarterly report pursuant to section 13"
        if _CURRENT_8K.search(cover_flat):
            return DocType.EIGHT_K, "current report pursuant to section 13"
        first = _flat(texts[0])[:3000] if texts else ""
        if _PRESS_RELEASE.search(first):
            return DocType.EARNINGS, "press release wording"
        if _GLOSSY.search(cover_flat) or _ANNUAL_REPORT_TITLE.search(first[:1500]):
            return DocType.ANNUAL_REPORT, "annual report wording"
        return None

    def _company(self, found: _Found, cover: str, allt: str, all_flat: str) -> None:
        lines = [ln.strip() for ln in cover.split("\n")]
        name, rule = _name_before_exact_name(lines), "line above 'Exact name of registrant'"
        if not name:
            name, rule = _name_after_file_number(lines), "line under 'Commission file number'"
        ticker_name, paren_ticker = _name_before_paren_ticker(_flat(cover[:8000]))
        if not name:
            m = _HEADLINE.search(cover[:600])
            if m and not NOT_A_NAME.search(m.group("name")):
                name, rule = clean_name(m.group("name")), "press-release headline"
        if not name and ticker_name:
            name, rule = ticker_name, "name before '(NYSE: X)'"
        if not name:
            m = _SUBSIDIARIES.search(cover)
            if m:
                name, rule = clean_name(m.group("name")), "'<name> and subsidiaries'"
        legal = _legal_names(allt)
        if not name and legal:
            name, rule = legal.most_common(1)[0][0], "most frequent legal name"
        if not name:
            m = _COPYRIGHT.search(allt)
            if m:
                name, rule = clean_name(m.group("name")), "copyright line"
        if not name:
            return
        # A short name ("Amcor") grows into the legal name the filing also uses ("Amcor plc").
        if base_name(name) == name:
            for cand, _count in legal.most_common():
                if base_name(cand).casefold() == name.casefold():
                    name = cand
                    break
        name = _proper_case(_join_small_caps(name, allt), allt)
        found.set("company", name, rule)

        aliases = company_aliases(name, all_flat)
        if ticker_name and ticker_name.casefold() != name.casefold():
            aliases.append(ticker_name)
        for m in _DEFINED_AS.finditer(all_flat):
            short = m.group("short")
            if short.casefold() in {a.casefold() for a in [name, *aliases]}:
                continue
            # Only definitions of this company: the short name must share a word with it.
            if set(re.findall(r"\w+", short.lower())) & set(re.findall(r"\w+", name.lower())):
                aliases.append(short)
        own = {name.casefold(), base_name(name).casefold()}
        for m in _FORMER_NAME.finditer(all_flat):
            former = clean_name(m.group("name"))
            # Only this company's former name: "Block, Inc. (formerly known as Square, Inc.)",
            # not a subsidiary's or a product's.
            before = all_flat[max(0, m.start() - 120) : m.start()].rstrip(" ,(").casefold()
            if former.casefold() not in own and any(before.endswith(n) for n in own):
                aliases.append(former)
                aliases.extend(company_aliases(former))
        former_line = re.search(r"\n([^\n]{2,80})\n\(?former name(?: or former address)?", cover, flags=re.IGNORECASE)
        if former_line:
            former = clean_name(former_line.group(1))
            if former and not re.search(r"\d|^n/?a$|not applicable|none", former, re.IGNORECASE):
                aliases.append(former)
        tickers = _tickers(cover)
        if paren_ticker and paren_ticker not in tickers:
            tickers.append(paren_ticker)
        if tickers:
            found.set("ticker", tickers[0], "trading symbol")
        aliases.extend(tickers)
        unique: list[str] = []
        for alias in aliases:
            alias = alias.strip()
            if alias and alias.casefold() not in {a.casefold() for a in [name, *unique]}:
                unique.append(alias)
        found.set("aliases", unique, "generic alias rules")

    def _period(
        self, found: _Found, doc_type: DocType | None, cover_flat: str, all_flat: str, texts: list[str]
    ) -> None:
        if doc_type == DocType.EIGHT_K:
            m = _REPORT_DATE.search(cover_flat)
            if m and (d := parse_date(m.group(1))):
                found.set("period_end", d.isoformat(), "date of report")
                found.set("fiscal_year", d.year, "date of report")
            return
        if doc_type == DocType.TEN_Q:
            m = _QUARTER_ENDED.search(cover_flat)
            if m and (d := parse_date(m.group(1))):
                found.set("period_end", d.isoformat(), "quarterly period ended")
                quarter = _quarter_of_10q(all_flat)
                year_end = _next_year_end(d, all_flat)
                if quarter is None and year_end is not None:
                    quarter = 4 - round((year_end - d).days / 91.3)
                    quarter = quarter if 1 <= quarter <= 3 else None
                if quarter is not None:
                    found.set("fiscal_quarter", quarter, "three/six/nine months ended")
                if year_end is None and quarter is not None:
                    # The fiscal year ends (4 - quarter) quarters after this quarter ends.
                    year_end = add_months(d, 3 * (4 - quarter))
                if year_end is None:
                    year_end = d  # nothing says otherwise: assume the fiscal year is the calendar year
                found.set("fiscal_year", fiscal_year_of(year_end), "fiscal year end after the quarter")
            return
        if doc_type in (DocType.TEN_K, None):
            m = _FY_ENDED.search(cover_flat)
            if m and (d := parse_date(m.group(1))):
                found.set("period_end", d.isoformat(), "fiscal year ended")
                found.set("fiscal_year", fiscal_year_of(d), "fiscal year ended")
                return
        first = _flat(texts[0]) if texts else ""
        if doc_type == DocType.EARNINGS:
            self._earnings_period(found, first[:4000])
            return
        if doc_type == DocType.ANNUAL_REPORT:
            m = _FY_ENDED.search(all_flat)
            if m and (d := parse_date(m.group(1))):
                found.set("period_end", d.isoformat(), "fiscal year ended")
                found.set("fiscal_year", fiscal_year_of(d), "fiscal year ended")
            label = _ANNUAL_REPORT_YEAR.search(cover_flat) or _FISCAL_YEAR_LABEL.search(cover_flat)
            if label:
                found.set("fiscal_year", int(label.group(1)), "'<year> annual report'")

    def _earnings_period(self, found: _Found, first: str) -> None:
        quarter = None
        label_year = None
        m = _QUARTER_NAMED.search(first)
        if m:
            word = (m.group("word") or "").lower()
            quarter = int(m.group("num")) if m.group("num") else _QUARTER_NUMBERS.get(word)
            label_year = int(m.group("year")) if m.group("year") else None
        if label_year is None and (y := _YEAR_BEFORE_QUARTER.search(first)):
            label_year = int(y.group(1))
        fy_label = _FISCAL_YEAR_LABEL.search(first)
        if quarter is None and fy_label:
            quarter = 4  # a release of full-year results is the fourth-quarter release
        if quarter is not None:
            found.set("fiscal_quarter", quarter, "quarter named in the release")
        # A stated period end wins over "fiscal 2022" labels: see fiscal_year_of().
        for pm in _PERIOD_ENDED.finditer(first):
            d = parse_date(pm.group(1))
            if d:
                found.set("period_end", d.isoformat(), "period ended")
                year_end = add_months(d, 3 * (4 - quarter)) if quarter else d
                found.set("fiscal_year", fiscal_year_of(year_end), "period ended")
                return
        if label_year is not None:
            found.set("fiscal_year", label_year, "quarter and year named in the release")
        elif fy_label:
            found.set("fiscal_year", int(fy_label.group(1)), "fiscal year named in the release")


def _next_year_end(quarter_end: date, text: str) -> date | None:
    """The fiscal year-end that follows a quarter, when the 10-Q names a fiscal year-end date
    ("our Annual Report for the fiscal year ended June 30, 2022")."""
    m = _FY_ANY.search(text)
    known = parse_date(m.group(1)) if m else None
    if known is None:
        return None
    for year in (quarter_end.year, quarter_end.year + 1):
        candidate = date(year, known.month, min(known.day, calendar.monthrange(year, known.month)[1]))
        # At least a quarter away; 52/53-week year-ends drift a few days, which this tolerates.
        if candidate - quarter_end > timedelta(days=45):
            return candidate
    return None


def _quarter_of_10q(text: str) -> int | None:
    """A 10-Q's fiscal quarter from its year-to-date columns (Q2 shows "six months ended")."""
    if _NINE_MONTHS.search(text):
        return 3
    if _SIX_MONTHS.search(text):
        return 2
    if _THREE_MONTHS.search(text):
        return 1
    return None


_QUARTER_NUMBERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}


def _form_type(form: str) -> DocType:
    form = form.upper().replace("-", "")
    if form in {"10K", "20F", "40F"}:
        return DocType.TEN_K
    if form == "10Q":
        return DocType.TEN_Q
    if form in {"8K", "6K"}:
        return DocType.EIGHT_K
    return DocType.OTHER
