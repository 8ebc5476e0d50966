"""Section structure of filings (finrag/ingest/sections.py + finance/data/sections.toml), on synthetic pages."""

from __future__ import annotations

from finrag.ingest.chunk import FilingChunker
from finrag.ingest.sections import TOC, all_keys, label_pages, load_rules
from finrag.records import DocType, Filing, Page

FILLER = "\n".join(f"The company discussed topic number {i} at some length in this paragraph." for i in range(20))

TOC_PAGE = "\n".join(
    [
        "TABLE OF CONTENTS",
        "PART I",
        "Item 1. Business 4",
        "Item 1A. Risk Factors 12",
        "Item 3. Legal Proceedings 25",
        "PART II",
        "Item 7. Management's Discussion and Analysis of Financial Condition 30",
        "Item 8. Financial Statements and Supplementary Data 50",
    ]
)


def _keys(texts: list[str], form: str = "10-K") -> list[str]:
    return [p.primary for p in label_pages(texts, form)]


def test_ten_k_items_carry_over_and_toc_sets_nothing() -> None:
    pages = [
        "UNITED STATES SECURITIES AND EXCHANGE COMMISSION\nFORM 10-K",
        TOC_PAGE,
        "Forward-looking statements\n" + FILLER,
        "PART I\nItem 1. Business\n" + FILLER,
        FILLER,  # no heading: still Item 1
        "Item 1A. Risk Factors\n" + FILLER,
        FILLER,
        "Item 3. Legal Proceedings\n" + FILLER,
        "ITEM 7. MANAGEMENT’S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION\n" + FILLER,
        FILLER,
    ]
    assert _keys(pages) == [
        "cover", TOC, "front", "business", "business", "risk_factors", "risk_factors", "legal", "mda", "mda"
    ]  # fmt: skip
    assert label_pages(pages, "10-K")[1].toc


def test_heading_split_over_lines_and_references_in_sentences() -> None:
    pages = [
        "cover",
        "Item 1. Business\n" + FILLER,
        # "ITEM" alone, the number and title on the next line (a common PDF layout).
        "ITEM\n7. MANAGEMENT'S DISCUSSION AND ANALYSIS\n" + FILLER,
        # A wrapped cross-reference is not a heading.
        FILLER + "\nfor more on these risks, see the\nItem 1A. Risk Factors section of this report.\n" + FILLER,
        # The number alone without the item's own title is not a heading either.
        "Item 8 of this report contains the statements referred to above.\n" + FILLER,
    ]
    assert _keys(pages) == ["cover", "business", "mda", "mda", "mda"]


def test_page_takes_the_section_covering_most_of_it() -> None:
    short_tail = "\n".join(FILLER.split("\n")[:3])
    pages = ["cover", "Item 1. Business\n" + FILLER, FILLER + "\nItem 1A. Risk Factors\n" + short_tail]
    labels = label_pages(pages, "10-K")
    assert labels[2].primary == "business"
    assert labels[2].keys == ("business", "risk_factors")
    # ... and the next page carries the section that was open at the end of it.
    assert _keys([*pages, FILLER])[3] == "risk_factors"


def test_notes_and_the_contingencies_note() -> None:
    pages = [
        "cover",
        "Item 8. Financial Statements and Supplementary Data\nReport of Independent Registered Public Accounting Firm\n"
        + FILLER,
        "CONSOLIDATED BALANCE SHEETS\n(in millions)\nTotal assets 1,234 1,111",
        "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS\nNote 1. Summary of significant accounting policies\n" + FILLER,
        "Note 14 — Commitments and Contingencies\nLegal proceedings\n" + FILLER,
        FILLER,
        "Note 15 — Income Taxes\n" + FILLER,
        "Item 9A. Controls and Procedures\n" + FILLER,
    ]
    assert _keys(pages) == [
        "cover", "auditor_report", "statements", "notes", "notes_contingencies", "notes_contingencies", "notes",
        "controls",
    ]  # fmt: skip


def test_a_contents_list_inside_a_section_sets_nothing() -> None:
    mda_index = "\n".join(
        [
            "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations.",
            "Executive Overview 30",
            "CONSOLIDATED STATEMENT OF INCOME 60",
            "CONSOLIDATED BALANCE SHEET 62",
            "NOTES TO THE CONSOLIDATED FINANCIAL STATEMENTS",
            "Note 1 – Basis of Presentation 66",
        ]
    )
    assert _keys(["cover", mda_index, FILLER]) == ["cover", "mda", "mda"]


def test_ten_q_part_one_and_part_two_items_are_told_apart_by_title() -> None:
    pages = [
        "FORM 10-Q",
        "PART I. FINANCIAL INFORMATION\nItem 1. Financial Statements\n" + FILLER,
        "Item 2. Management's Discussion and Analysis\n" + FILLER,
        "PART II. OTHER INFORMATION\nItem 1. Legal Proceedings\n" + FILLER,
        "Item 1A. Risk Factors\n" + FILLER,
        "Item 6. Exhibits\n" + FILLER,
    ]
    assert _keys(pages, "10-Q") == ["cover", "statements", "mda", "legal", "risk_factors", "exhibits"]


def test_eight_k_items_and_earnings_release_sections() -> None:
    eight_k = ["FORM 8-K", "Item 5.07 Submission of Matters to a Vote of Security Holders.\n" + FILLER,
               "Item 9.01 Financial Statements and Exhibits.\n" + FILLER, "Exhibit 99.1\n" + FILLER]  # fmt: skip
    assert _keys(eight_k, "8-K") == ["cover", "votes", "exhibits", "exhibit_99"]
    release = ["Acme Reports Fourth Quarter Results\n" + FILLER, "2024 Outlook\n" + FILLER,
               "Reconciliation of Non-GAAP Measures\n" + FILLER]  # fmt: skip
    assert _keys(release, "earnings") == ["release", "outlook", "reconciliation"]


def test_chunks_carry_the_page_section() -> None:
    filing = Filing(company="Acme Corp", doc_type=DocType.TEN_K, fiscal_year=2022)
    pages = [Page(0, "FORM 10-K cover"), Page(1, "Item 1A. Risk Factors\n" + FILLER)]
    chunks = FilingChunker(counter=lambda t: len(t) // 4 + 1).chunk("d", "t", "acme", filing, pages)
    page1 = [c for c in chunks if c.page_start == 1]
    assert len(page1) >= 2  # the page and at least one passage
    assert {c.metadata["section_key"] for c in page1} == {"risk_factors"}
    assert all(c.metadata["sections"] == ["risk_factors"] for c in page1)


def test_rules_file_is_consistent() -> None:
    rules = load_rules()
    keys = all_keys(rules)
    assert {"business", "risk_factors", "legal", "mda", "statements", "notes", "notes_contingencies", "cover"} <= keys
    assert rules.items_for("10-K") and rules.items_for("10-Q") and rules.items_for("8-K")


def test_relabel_an_index_built_without_sections(service_factory, sample_dir) -> None:
    """`documents relabel-sections`: an index whose pages carry no section gets them from the stored
    text, the same labels ingest gives, without re-embedding."""
    from finrag.ingest.sections import relabel_index

    svc = service_factory()
    svc.ingest([sample_dir / "NORTHWINDROBOTICS_2023_10K.pdf"])
    store, registry, tenant = svc.c.store, svc.c.registry, svc.settings.tenant
    (doc,) = registry.list(tenant=tenant)
    pages = store.page_chunks(tenant, doc.doc_id, range(doc.pages))
    labelled = {c.page_start: c.metadata["section_key"] for c in pages}
    assert set(labelled.values()) - {"cover", "front", TOC}  # ingest found item sections
    before = store.count(tenant)
    store.set_page_payload(tenant, doc.doc_id, {n: {"section_key": "", "sections": []} for n in labelled})
    assert {c.metadata["section_key"] for c in store.page_chunks(tenant, doc.doc_id, labelled)} == {""}

    done = relabel_index(store, registry, tenant)
    assert done == {doc.name: len(labelled)}
    again = {c.page_start: c.metadata["section_key"] for c in store.page_chunks(tenant, doc.doc_id, labelled)}
    assert again == labelled
    assert store.count(tenant) == before  # payload only: no point added or lost
