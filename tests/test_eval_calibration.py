"""The trust-score calibration set: items made by rule from a gold answer and its evidence page, the one
`score` interface, and the rates / AUROC the harness reports."""

from __future__ import annotations

from finrag.answer.trust import trust_score
from finrag.eval.calibration import auroc, build_items, items_for_question, measure, score
from finrag.eval.metrics import Question

PAGE = """Acme Corporation
Consolidated Statements of Cash Flows
(In millions)
Years ended December 31 2022 2021
Net sales $ 34,229 $ 35,355
Net income 5,777 5,921
Purchases of property, plant and equipment (1,577) (1,749)
Depreciation and amortization 1,831 1,915
"""
OTHER_PAGE = """Zenith Inc.
Consolidated Statements of Cash Flows
(In millions)
Years ended December 31 2022 2021
Purchases of property, plant and equipment (812) (640)
"""


def question(qid: str, company: str, doc: str, page: str, gold: str, text: str) -> Question:
    evidence = [{"doc_name": doc, "evidence_page_num": 4, "evidence_text": "", "evidence_text_full_page": page}]
    raw = {"company": company, "question_type": "metrics-generated", "evidence": evidence, "answer": gold}
    return Question(qid, text, [(doc, 4)], gold, raw)


ACME = question(
    "q1", "Acme", "ACME_2022_10K", PAGE, "$1577.00",
    "What is the FY2022 capital expenditure amount (in USD millions) for Acme?",
)  # fmt: skip
ZENITH = question(
    "q2", "Zenith", "ZENITH_2022_10K", OTHER_PAGE, "$812.00",
    "What is the FY2022 capital expenditure amount (in USD millions) for Zenith?",
)  # fmt: skip


def by_variant(items: list) -> dict[str, tuple[str, str]]:  # type: ignore[type-arg]
    return {it.variant: (it.label, it.answer) for it in items}


def test_items_made_by_rule_from_the_gold_answer_and_its_page() -> None:
    items = by_variant(items_for_question(ACME, "test"))
    assert items["gold"] == ("correct", "$1577.00 [ACME_2022_10K p.5]")
    assert "$1,577M" in items["paraphrase:compact-scale"][1]
    assert "1.58 billion dollars" in items["paraphrase:billions"][1]
    # the question says "capital expenditure": the paraphrase says it the other way the glossary knows
    assert items["paraphrase:synonym"][1].startswith("Acme's capital spending was $1577.00")
    assert {v for v, (lab, _) in items.items() if lab == "altered"} == {
        "altered:+7%", "altered:-7%", "altered:x10", "altered:digits-swapped"
    }  # fmt: skip
    assert "$1687.39" in items["altered:+7%"][1] and "$5177.00" in items["altered:digits-swapped"][1]
    # the other year column of the same row, and another row of the same year column
    assert items["wrong-period:2021"] == ("wrong_period", "Acme: $1749.00 [ACME_2022_10K p.5]")
    label, text = items["wrong-row"]
    assert label == "wrong_row" and "1577" not in text and any(v in text for v in ("34229", "5777", "1831"))
    dump = items["quote-dump"]
    assert dump[0] == "non_answer" and "Net sales $ 34,229 $ 35,355 [ACME_2022_10K p.5]" in dump[1]
    assert "1,577" not in dump[1]
    assert items["evasive"][0] == "non_answer"
    assert all("computed" not in it.tags for it in items_for_question(ACME, "test"))  # 1,577 is printed


def test_a_computed_gold_is_tagged_and_gets_no_page_variants() -> None:
    ratio = question("q3", "Acme", "ACME_2022_10K", PAGE, "0.97", "What is Acme's FY2022 fixed asset turnover?")
    items = items_for_question(ratio, "test")
    assert all("computed" in it.tags for it in items if it.label == "correct")
    variants = {it.variant for it in items}
    assert "paraphrase:rounded" in variants and not any(v.startswith(("wrong-period", "wrong-row")) for v in variants)


def test_wrong_company_cites_the_other_companys_pages() -> None:
    items = [it for it in build_items([ACME, ZENITH], "test") if it.label == "wrong_company"]
    assert len(items) == 2
    acme = next(it for it in items if it.question_id == "q1")
    assert "Zenith" in acme.answer and "$812.00" in acme.answer and list(acme.cited_pages) == ["ZENITH_2022_10K p.5"]


def test_score_is_the_products_scorer() -> None:
    q, pages = ACME.question, {"ACME_2022_10K p.5": PAGE}
    good = "Purchases of property, plant and equipment were $1,577 million [ACME_2022_10K p.5]."
    s, reasons = score(q, good, pages)
    assert s == trust_score(q, None, good, pages).score == 1.0
    assert "every figure found on the cited pages" in reasons and not any("not on the cited" in r for r in reasons)
    bad, why = score(q, good.replace("1,577", "1,687"), pages)
    assert bad < 0.7 <= s and any(r.startswith("figures not on the cited pages: $1,687 million") for r in why)


def test_measure_rates_and_auroc() -> None:
    items = build_items([ACME, ZENITH], "test")

    def oracle(question: str, answer: str, pages: object) -> tuple[float, list[str]]:
        it = next(i for i in items if i.answer == answer and i.question == question)
        return (1.0 if it.correct else 0.0), []

    report = measure(items, oracle)["overall"]
    assert report["false_alarms"] == 0.0 and report["altered_caught"] == 1.0 and report["auroc"] == 1.0
    assert all(report["targets_met"].values())
    everything_passes = measure(items, lambda q, a, p: (1.0, []))["overall"]
    assert everything_passes["non_answers_flagged"] == 0.0 and everything_passes["auroc"] == 0.5
    assert not everything_passes["targets_met"]["altered_caught"]
    assert auroc([0.9, 0.8], [0.1, 0.8]) == 0.875 and auroc([], [0.1]) is None


def test_a_paraphrase_states_no_more_precision_than_the_gold() -> None:
    from finrag.eval.calibration import _money_words

    exact = dict(_money_words(1.577e9, 0.5e6))  # "$1,577 million": to the million
    assert exact == {"compact-scale": "$1,577M", "million-words": "$1,577 million", "billions": "1.58 billion dollars"}
    coarse = dict(_money_words(4e8, 5e7))  # "$0.40" billion: to a tenth of a billion
    assert coarse == {"billions": "0.4 billion dollars"}  # not "$400M", which claims the amount to the million
