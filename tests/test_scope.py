from finrag.finance.glossary import GlossaryRewriter
from finrag.records import DocStatus, DocType, DocumentRecord, Filing
from finrag.retrieve.scope import ScopeResolver, alias_keys


def _doc(doc_id: str, company: str, fy: int, doc_type: DocType = DocType.TEN_K, ticker: str = "", aliases=()):
    return DocumentRecord(
        doc_id=doc_id,
        tenant="t",
        name=doc_id,
        source_path=f"/{doc_id}.pdf",
        content_hash=doc_id,
        status=DocStatus.READY,
        filing=Filing(company=company, aliases=list(aliases), ticker=ticker, doc_type=doc_type, fiscal_year=fy),
    )


DOCS = [
    _doc("nw22", "Northwind Robotics, Inc.", 2022, ticker="NWRB"),
    _doc("nw23", "Northwind Robotics, Inc.", 2023, ticker="NWRB"),
    _doc("nw23q", "Northwind Robotics, Inc.", 2023, DocType.TEN_Q, ticker="NWRB"),
    _doc("ae22", "American Express Company", 2022, ticker="AXP"),
    _doc("aw22", "American Water Works Company, Inc.", 2022, ticker="AWK"),
    _doc("wm18", "Wal-Mart Stores, Inc.", 2018, ticker="WMT"),
    _doc("jj22", "Johnson & Johnson", 2022, ticker="JNJ"),
    _doc("sq20", "Block, Inc.", 2020, ticker="SQ", aliases=["Square, Inc."]),
    _doc("cr23", "Cedar Ridge Energy Co.", 2023, DocType.EIGHT_K),
]
R = ScopeResolver(DOCS)


def test_alias_keys_are_spelling_insensitive() -> None:
    assert "walmart" in alias_keys("Wal-Mart Stores, Inc.")
    assert {"jnj", "jj"} <= alias_keys("Johnson & Johnson")
    assert "amex" in alias_keys("American Express Company")


def test_company_by_name_alias_ticker_and_former_name() -> None:
    assert R.resolve("What was Northwind's FY2023 capex?").doc_ids == ["nw23"]
    assert R.resolve("What was Northwind's capex in 2023?").doc_ids == ["nw23", "nw23q"]
    assert R.resolve("NWRB revenue in 2022").doc_ids == ["nw22"]
    assert R.resolve("What was Walmart's FY2018 DPO?").doc_ids == ["wm18"]
    assert R.resolve("Are JnJ's FY2022 financials that of a high growth company?").doc_ids == ["jj22"]
    assert R.resolve("How much cash did Square generate in 2020?").doc_ids == ["sq20"]
    assert R.resolve("Does AMEX have an improving operating margin as of 2022?").doc_ids == ["ae22"]


def test_shared_generic_words_identify_nobody() -> None:
    scope = R.resolve("What did American Water Works pay in dividends in FY2022?")
    assert scope.doc_ids == ["aw22"]
    assert R.companies_in("an American company") == []


def test_years_quarters_and_forms() -> None:
    assert ScopeResolver.years_in("between FY20 and FY21") == [2020, 2021]
    assert ScopeResolver.years_in("FY2019 - FY2021 3 year average") == [2019, 2021]
    assert ScopeResolver.years_in("revenue of $2,019 million") == []
    assert ScopeResolver.quarter_in("Q2 of FY2023") == 2
    assert ScopeResolver.quarter_in("in the second quarter") == 2
    assert R.resolve("Northwind 10-Q for 2023").doc_ids == ["nw23q"]
    scope = R.resolve("What did Cedar Ridge announce in its 8-K?")
    assert scope.doc_ids == ["cr23"] and "8-K" in scope.note


def test_latest_year_asked_is_read_and_missing_year_falls_back() -> None:
    assert R.resolve("How did Northwind's revenue change from FY2022 to FY2023?").doc_ids == ["nw23"]
    later = R.resolve("Northwind revenue in FY2021")
    assert later.doc_ids == ["nw22"] and "comparative" in later.note
    none = R.resolve("Northwind revenue in FY2030")
    assert set(none.doc_ids) == {"nw22", "nw23"} and "no filing" in none.note


def test_no_or_unknown_company_searches_everything() -> None:
    for q in ("What is goodwill?", "What was Globex Corp's revenue in 2022?", "¿Cuál fue el capex de 2022?"):
        scope = R.resolve(q)
        assert scope.doc_ids == [] and not scope.applied and "all filings" in scope.note


def test_two_companies_keep_both() -> None:
    scope = R.resolve("Compare Northwind and Cedar Ridge")
    assert {"nw22", "cr23"} <= set(scope.doc_ids)
    assert len(scope.companies) == 2


def test_companies_sharing_a_first_word_stay_apart_and_a_former_name_joins() -> None:
    resolver = ScopeResolver(
        [
            _doc("jnj22", "Johnson & Johnson", 2022, ticker="JNJ"),
            _doc("jci22", "Johnson Controls International plc", 2022, ticker="JCI"),
            _doc("adbe15", "Adobe Systems Incorporated", 2015),  # older cover: no ticker printed
            _doc("adbe22", "Adobe Inc.", 2022, ticker="ADBE"),
        ]
    )
    scope = resolver.resolve("What was Johnson Controls International's revenue in FY2022?")
    assert scope.doc_ids == ["jci22"] and scope.companies == ["Johnson Controls International plc"]
    assert resolver.resolve("Johnson & Johnson FY2022 net earnings").doc_ids == ["jnj22"]
    # "Johnson" alone names two companies: it identifies neither
    assert resolver.companies_in("What did Johnson report?") == []
    # the former name and the new one are one company: a question in the new name reads the old filing
    assert resolver.resolve("What was Adobe's revenue in FY2015?").doc_ids == ["adbe15"]


def test_a_form_the_company_never_filed_does_not_empty_the_scope() -> None:
    # "annual report" of a company that files 10-Ks: the year still narrows; the form filters nothing
    scope = R.resolve("Which risks did Northwind describe in its 2022 annual report?")
    assert scope.doc_ids == ["nw22"] and scope.doc_types == [] and scope.fiscal_years == [2022]
    assert "no annual-report" in scope.note


def test_glossary_expands_shorthand() -> None:
    rw = GlossaryRewriter().rewrite("What was 3M's FY2018 capex?")
    assert any("purchases of property, plant and equipment" in e for e in rw.expansions)
    assert rw.queries[0] == "What was 3M's FY2018 capex?" and len(rw.queries) == 2
    assert "net cash provided by operating activities" in GlossaryRewriter().rewrite("operating cash flow").sparse_text
    assert GlossaryRewriter(enabled=False).rewrite("capex").expansions == []
    assert GlossaryRewriter().rewrite("Who is the auditor?").expansions == []


def test_short_whole_names_match() -> None:
    resolver = ScopeResolver([_doc("mmm18", "3M Company", 2018, aliases=["3M"])])
    assert resolver.resolve("What is the FY2018 capital expenditure amount for 3M?").doc_ids == ["mmm18"]
    assert resolver.resolve("Which firm had revenue of 3 million in 2018?").doc_ids == []


def test_full_fiscal_year_questions_leave_quarterly_reports_out() -> None:
    scope = R.resolve("What was Northwind's FY2023 revenue growth?")
    assert scope.doc_ids == ["nw23"] and "quarterly reports left out" in scope.note
    assert R.resolve("Northwind revenue in Q3 2023").doc_ids == ["nw23", "nw23q"]


def test_a_form_alone_narrows_the_search() -> None:
    scope = R.resolve("Were there any board nominees with many more votes against than the others?")
    assert scope.doc_ids == ["cr23"] and scope.doc_types == ["8-K"] and "no known company" in scope.note


def _dated(doc_id: str, fy: int, doc_type: DocType, quarter: int | None, period_end: str):
    d = _doc(doc_id, "Harbor Lane Outfitters, Inc.", fy, doc_type, ticker="HLO")
    d.filing.fiscal_quarter = quarter
    d.filing.period_end = period_end
    return d


# A retailer whose fiscal year ends in late January: FY2023 ended 2023-01-28; Q2 FY2024 ended 2023-07-29.
HARBOR = [
    _dated("hl23k", 2023, DocType.TEN_K, None, "2023-01-28"),
    _dated("hl24q2", 2024, DocType.TEN_Q, 2, "2023-07-29"),
    _dated("hl23q4e", 2023, DocType.EARNINGS, 4, "2023-01-28"),
    _dated("hl24q2e", 2024, DocType.EARNINGS, 2, "2023-07-29"),
    _dated("hl8k", 2023, DocType.EIGHT_K, None, "2023-06-14"),
]
RH = ScopeResolver(HARBOR)


def test_half_year_goes_to_the_quarterly_report_not_the_annual_one() -> None:
    s = RH.resolve("What was Harbor Lane's H1 FY2024 gross margin?")
    assert set(s.doc_ids) == {"hl24q2", "hl24q2e"}
    assert "first half (six months) of FY2024" in s.note


def test_quarter_end_balance_by_date_picks_the_filing_ending_then() -> None:
    s = RH.resolve("As of July 29, 2023, how much inventory did Harbor Lane hold?")
    assert set(s.doc_ids) == {"hl24q2", "hl24q2e"}
    assert "balance as of 2023-07-29" in s.note


def test_range_across_a_ten_k_and_a_ten_q_reads_both() -> None:
    s = RH.resolve("How did Harbor Lane's cash change between FY2023 and Q2 of FY2024?")
    assert {"hl23k", "hl24q2"} <= set(s.doc_ids)
    assert "hl8k" not in s.doc_ids
    assert "from FY2023 to Q2 of FY2024" in s.note


def test_an_event_date_picks_the_eight_k_of_that_day() -> None:
    s = RH.resolve("What did Harbor Lane announce on June 14, 2023?")
    assert s.doc_ids == ["hl8k"]


def test_full_year_questions_keep_the_year_rules() -> None:
    s = RH.resolve("What was Harbor Lane's FY2023 revenue?")
    assert "hl24q2" not in s.doc_ids and "hl23k" in s.doc_ids
    assert not s.company_missing


def test_no_company_named_is_flagged() -> None:
    s = R.resolve("What industry does the company operate in?")
    assert s.company_missing and not s.applied
    assert "no known company" in s.note
