"""The one trust score (finrag.answer.trust): figures supported, the question answered (company, period,
row, yes/no), paraphrases and unit conventions accepted; excerpts, quote dumps and refusals not trusted."""

from __future__ import annotations

import pytest

from finrag.answer.online_eval import EvalItem, score_item
from finrag.answer.trust import TRUSTED, trust_score
from finrag.answer.verdict import Verdict, apply_trust
from finrag.records import Answer, AnswerKind, Citation

PAGE = """Acme Corporation
Consolidated Statements of Cash Flows
(In millions)
Years ended December 31 2022 2021
Net sales $ 34,229 $ 35,355
Net income 5,777 5,921
Net cash provided by operating activities 7,100 6,800
Net cash used in investing activities (2,100) (1,900)
Purchases of property, plant and equipment (1,577) (1,749)
Depreciation and amortization 1,831 1,915
"""
ZENITH = """Zenith Inc.
Consolidated Statements of Cash Flows
(In millions)
Years ended December 31 2022 2021
Purchases of property, plant and equipment (812) (790)
"""
KEY = "ACME_2022_10K p.5"
PAGES = {KEY: PAGE}
CAPEX = "What was Acme's FY2022 capital expenditure?"


def trust(question: str, answer: str, pages: dict[str, str] = PAGES, **kw: object) -> tuple[float, list[str]]:
    t = trust_score(question, None, answer, pages, **kw)  # type: ignore[arg-type]
    return t.score, t.reasons


@pytest.mark.parametrize(
    "answer",
    [
        f"$1,577 million [{KEY}]",
        f"Acme: $1,577M [{KEY}]",
        f"Acme: 1.58 billion dollars [{KEY}]",
        f"Acme's capital spending was $1,577 million [{KEY}].",
        f"Purchases of property, plant and equipment were $1,577.0 million in FY2022 [{KEY}].",
    ],
)
def test_correct_answers_and_their_paraphrases_are_trusted(answer: str) -> None:
    score, reasons = trust(CAPEX, answer)
    assert score >= TRUSTED, reasons
    assert "every figure found on the cited pages" in reasons and "period matches the question" in reasons


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (f"Acme: $1,687 million [{KEY}]", "figures not on the cited pages: $1,687 million"),  # altered
        (f"Acme: $15,770 million [{KEY}]", "figures not on the cited pages"),  # x10
        (f"Acme: $1,749 million [{KEY}]", "another year's column"),  # the FY2021 column
        (f"Acme: $5,777 million [{KEY}]", "figures not on the cited pages"),  # net income: no word in common
    ],
)
def test_wrong_figures_periods_and_rows_are_flagged(answer: str, why: str) -> None:
    score, reasons = trust(CAPEX, answer)
    assert score < TRUSTED and any(why in r for r in reasons), reasons


def test_a_figure_from_a_neighbouring_row_is_flagged() -> None:
    q = "How much net cash did Acme provide from operating activities in FY2022?"
    assert trust(q, f"Acme: $7,100 million [{KEY}]")[0] >= TRUSTED
    score, reasons = trust(q, f"Acme: $2,100 million [{KEY}]")  # shares "net cash ... activities"
    assert score < TRUSTED
    assert any(r.startswith('$2,100 million is on the row "Net cash used in investing activities"') for r in reasons)


def test_the_year_the_answer_names_must_be_the_questions() -> None:
    score, reasons = trust(CAPEX, f"Capital expenditure was $1,749 million in 2021 [{KEY}].")
    assert score < TRUSTED and any("2021" in r and "2022" in r for r in reasons), reasons


def test_an_interim_question_answered_with_an_annual_figure_is_flagged() -> None:
    q = "What was Acme's revenue for the three months ended December 31, 2022?"
    score, reasons = trust(q, f"Acme's full-year net sales were $34,229 million [{KEY}].")
    assert score < TRUSTED and "the question asks about an interim period, the answer gives an annual one" in reasons


def test_another_companys_filing_is_flagged() -> None:
    score, reasons = trust(CAPEX, "Zenith: $812 million [ZENITH_2022_10K p.5]", {"ZENITH_2022_10K p.5": ZENITH})
    assert score < TRUSTED and any("not the company the question asks about: ZENITH_2022_10K" in r for r in reasons)
    # an abbreviation of the filer's name is the same company
    ok, _ = trust("What was JnJ's FY2022 capital expenditure?", "$1,577 million [JOHNSON_JOHNSON_2022_10K p.5]",
                  {"JOHNSON_JOHNSON_2022_10K p.5": PAGE})  # fmt: skip
    assert ok >= TRUSTED


def test_non_answers_are_flagged() -> None:
    dump = f"Net sales $ 34,229 $ 35,355 [{KEY}]\nNet income 5,777 5,921 [{KEY}]"
    score, reasons = trust(CAPEX, dump)
    assert score < TRUSTED and "lines quoted from the pages, not an answer" in reasons
    evasive, why = trust(CAPEX, f"The cited pages of Acme's filing discuss this topic in detail [{KEY}].")
    assert evasive < TRUSTED and "talks about the pages instead of answering" in why
    none, why = trust(CAPEX, f"Acme invests in property, plant and equipment [{KEY}].")
    assert none < TRUSTED and "the question asks for a figure and the answer gives none" in why


def test_excerpts_and_refusals_are_not_trusted_answers() -> None:
    answer = Answer(question=CAPEX, text=f"Purchases of property, plant and equipment (1,577) [{KEY}]",
                    kind=AnswerKind.EXCERPTS)  # fmt: skip
    t = trust_score(CAPEX, None, answer, PAGES, cited=True)
    assert t.score < TRUSTED and "excerpts, not a computed answer" in t.reasons and t.supported
    refusal = trust_score(CAPEX, None, f"I cannot determine this from the sources [{KEY}].", PAGES)
    assert refusal.score < TRUSTED and not refusal.supported
    assert "a refusal: not wrong, but not an answer to trust" in refusal.reasons


def test_a_yes_no_question_needs_yes_or_no() -> None:
    q = "Did Acme spend more on capital expenditure in FY2022 than in FY2021?"
    yes, reasons = trust(
        q, f"No. Capital expenditure was $1,577 million in FY2022 and $1,749 million in FY2021 [{KEY}]."
    )
    assert yes >= TRUSTED and "a yes/no question answered yes or no" in reasons
    vague, reasons = trust(q, f"Capital expenditure was $1,577 million in FY2022 and $1,749 million in FY2021 [{KEY}].")
    assert vague < TRUSTED and "a yes/no question not answered yes or no" in reasons


def test_a_computed_figure_follows_from_the_rows_the_question_names() -> None:
    q = "What was Acme's FY2022 capital expenditure as a percentage of net sales?"
    t = trust_score(q, None, f"Acme's FY2022 capex was 4.6% of net sales [{KEY}].", PAGES)  # 1,577 / 34,229
    # the question's own calculation, redone over the cited rows
    assert t.score >= TRUSTED and t.checks["numeric"]["figures"][0]["reason"] == (
        "computed from the cited pages: capital expenditures as a share of revenue for FY2022"
    )
    # a question no metric of ours covers: one step over two rows it names
    q2 = "What was the ratio of Acme's depreciation and amortization to its purchases of equipment in FY2022?"
    t = trust_score(q2, None, f"Acme: 1.16 [{KEY}]", PAGES)  # 1,831 / 1,577
    assert t.score >= TRUSTED and t.checks["numeric"]["figures"][0]["reason"].startswith(
        "one step over the cited pages: ratio"
    )
    assert trust_score(q2, None, f"Acme: 1.24 [{KEY}]", PAGES).score < TRUSTED
    for wrong in ("4.9%", "5.1%", "46.1%"):
        score, _ = trust(q, f"Acme's FY2022 capex was {wrong} of net sales [{KEY}].")
        assert score < TRUSTED, wrong
    # percent written as a ratio of the page's own percent
    pct_page = {KEY: PAGE + "Gross margin 21.8% 20.9%\n"}
    ratio, _ = trust("What was Acme's FY2022 gross margin?", f"Acme: 0.218 [{KEY}]", pct_page)
    assert ratio >= TRUSTED


def test_inline_and_online_scores_are_the_same_scorer() -> None:
    answer = Answer(
        question=CAPEX,
        text=f"Acme: $1,577M [{KEY}]",
        citations=[Citation(doc_id="d", doc_name="ACME_2022_10K", page=5, chunk_id="c", quote="", score=1.0)],
    )
    inline = apply_trust(answer, None, PAGES)
    online = score_item(EvalItem.from_answer("t", inline, PAGES))
    assert inline.faithfulness == online.faithfulness == 1.0 and inline.supported
    assert inline.trace["trust"]["reasons"][0] == "every figure found on the cited pages"
    bad = apply_trust(answer.model_copy(update={"text": f"Acme: $1,687M [{KEY}]", "trace": {}}), None, PAGES)
    v = Verdict.of(bad, TRUSTED)
    assert not v.good and bad.unsupported_figures == ["$1,687M"]
    assert v.why.startswith("faithfulness 0.00 < 0.70 (figures not on the cited pages: $1,687M")
    assert score_item(EvalItem.from_answer("t", bad, PAGES)).faithfulness == bad.faithfulness
