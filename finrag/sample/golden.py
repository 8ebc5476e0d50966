"""Golden questions: every evidence page comes from an anchor recorded while the PDF was written."""

from __future__ import annotations

from dataclasses import dataclass, field

from finrag.sample.companies import BLUEFIN, CEDAR_RIDGE, MODEL_YEARS, NORTHWIND, CompanySpec
from finrag.sample.forms import GeneratedDoc
from finrag.sample.model import YearFin, quarter_income
from finrag.sample.pdf import margin, millions, pct_change


@dataclass
class Golden:
    doc: GeneratedDoc
    question: str
    answer: str
    question_type: str
    evidence: list[tuple[GeneratedDoc, str]]
    reasoning: str = ""
    tags: list[str] = field(default_factory=list)


def golden_questions(
    docs: dict[tuple[str, str, int], GeneratedDoc], fins: dict[str, dict[int, YearFin]]
) -> list[Golden]:
    nw, bf, cr = NORTHWIND, BLUEFIN, CEDAR_RIDGE

    def k(spec: CompanySpec, year: int, kind: str = "10k") -> GeneratedDoc:
        return docs[(spec.key, kind, year)]

    def f(spec: CompanySpec, year: int) -> YearFin:
        return fins[spec.key][year]

    best_2022 = max(f(nw, 2022).segments, key=lambda s: s[2])[0]
    q10 = k(nw, 2023, "10q")
    tenq_rate = nw.drivers.tax_rate[MODEL_YEARS.index(2023)]
    q3 = quarter_income(f(nw, 2023), tenq_rate, [2])
    ytd = quarter_income(f(nw, 2023), tenq_rate, [0, 1, 2])
    growth = pct_change(f(nw, 2023).inc.revenue, f(nw, 2022).inc.revenue)[1]
    metric, domain, novel = "metrics-generated", "domain-relevant", "novel-generated"
    return [
        Golden(
            k(nw, 2023),
            "What was Northwind Robotics' FY2023 capital expenditure?",
            millions(f(nw, 2023).cf.capex),
            metric,
            [(k(nw, 2023), "cf:capex")],
            "Capital expenditure is reported as purchases of property, plant and equipment.",
            ["synonym"],
        ),
        Golden(
            k(bf, 2022),
            "How much net cash did Bluefin Foods provide from operating activities in FY2022?",
            millions(f(bf, 2022).cf.operating),
            metric,
            [(k(bf, 2022), "cf:operating")],
        ),
        Golden(
            k(cr, 2023),
            "What was Cedar Ridge Energy's effective tax rate in 2023?",
            f(cr, 2023).effective_rate,
            metric,
            [(k(cr, 2023), "tax:rate")],
        ),
        Golden(
            k(nw, 2022),
            "Which segment of Northwind Robotics had the highest operating income in FY2022?",
            best_2022,
            novel,
            [(k(nw, 2022), f"seg:oi:{best_2022}")],
            "Compare segment operating income in the segment note.",
            ["comparison"],
        ),
        Golden(
            docs[(cr.key, "8k", 2023)],
            "What is the total revolving commitment under Cedar Ridge Energy's credit agreement after the "
            "amendment reported in its November 2023 8-K?",
            millions(f(cr, 2023).revolver_commitment),
            domain,
            [(docs[(cr.key, "8k", 2023)], "8k:commitments")],
            tags=["8k"],
        ),
        Golden(
            q10,
            "What was Northwind Robotics' revenue for the three months ended September 30, 2023?",
            millions(q3.revenue),
            metric,
            [(q10, "is:revenue")],
            tags=["10q"],
        ),
        Golden(
            q10,
            "What was Northwind Robotics' net income for the nine months ended September 30, 2023?",
            millions(ytd.net_income),
            metric,
            [(q10, "mdna:ytd")],
            tags=["10q"],
        ),
        Golden(
            k(cr, 2023),
            "What were Cedar Ridge Energy's purchases of property, plant and equipment in FY2023?",
            millions(f(cr, 2023).cf.capex),
            metric,
            [(k(cr, 2023), "cf:capex")],
            "Reported as additions to property, plant and equipment.",
            ["synonym"],
        ),
        Golden(
            k(bf, 2023),
            "What was Bluefin Foods' total revenue in fiscal 2023?",
            millions(f(bf, 2023).inc.revenue),
            metric,
            [(k(bf, 2023), "is:revenue"), (k(bf, 2023), "mdna:injection")],
            "Revenue is reported as net sales. The MD&A page also carries a planted instruction that must be ignored.",
            ["synonym", "prompt-injection"],
        ),
        Golden(
            k(cr, 2022),
            "What was Cedar Ridge Energy's net income in FY2022?",
            millions(f(cr, 2022).inc.net_income),
            metric,
            [(k(cr, 2022), "is:net_income"), (k(cr, 2023), "is:net_income")],
            "The FY2023 filing has the same row with FY2023 figures first; the FY2022 column is the answer.",
            ["year-scoped"],
        ),
        Golden(
            k(nw, 2023),
            "What were Northwind Robotics' total assets at the end of FY2023?",
            millions(f(nw, 2023).bal.total_assets),
            metric,
            [(k(nw, 2023), "bs:total_assets")],
        ),
        Golden(
            k(bf, 2023),
            "What was Bluefin Foods' diluted earnings per share for fiscal 2023?",
            f"${f(bf, 2023).inc.eps_diluted:.2f}",
            metric,
            [(k(bf, 2023), "is:eps_diluted")],
        ),
        Golden(
            k(cr, 2023),
            "How much did Cedar Ridge Energy pay in dividends in FY2023?",
            millions(f(cr, 2023).cf.dividends),
            metric,
            [(k(cr, 2023), "cf:dividends")],
        ),
        Golden(
            k(nw, 2022),
            "What was Northwind Robotics' research and development expense in FY2022?",
            millions(f(nw, 2022).inc.rd),
            metric,
            [(k(nw, 2022), "is:rd")],
        ),
        Golden(
            k(nw, 2023),
            "By what percentage did Northwind Robotics' revenue grow in FY2023?",
            growth,
            novel,
            [(k(nw, 2023), "mdna:revenue")],
            "Revenue growth = (FY2023 revenue - FY2022 revenue) / FY2022 revenue.",
        ),
        Golden(
            k(bf, 2023),
            "What was Bluefin Foods Corporation formerly known as?",
            bf.former_name,
            domain,
            [(k(bf, 2022), "cover:former"), (k(bf, 2023), "business:general")],
            tags=["alias"],
        ),
        Golden(
            k(cr, 2023),
            "What was Cedar Ridge Energy's total long-term debt at the end of 2023?",
            millions(f(cr, 2023).bal.debt),
            metric,
            [(k(cr, 2023), "debt:total")],
        ),
        Golden(
            k(bf, 2023),
            "What was Bluefin Foods' gross margin in fiscal 2023?",
            margin(f(bf, 2023).inc.gross_profit, f(bf, 2023).inc.revenue),
            novel,
            [(k(bf, 2023), "mdna:gross_margin")],
            "Gross margin = gross profit / net sales.",
        ),
        Golden(
            k(cr, 2023),
            "What was the operating income of Cedar Ridge Energy's Upstream segment in FY2023?",
            millions(dict((n, oi) for n, _, oi in f(cr, 2023).segments)["Upstream"]),
            metric,
            [(k(cr, 2023), "seg:oi:Upstream")],
        ),
        Golden(
            k(nw, 2022),
            "What were Northwind Robotics' cash and cash equivalents at the end of FY2022?",
            millions(f(nw, 2022).bal.cash),
            metric,
            [(k(nw, 2022), "bs:cash"), (k(nw, 2023), "bs:cash")],
            "The FY2023 balance sheet repeats the FY2022 year-end in its second column.",
            ["year-scoped"],
        ),
    ]


def golden_record(i: int, g: Golden) -> dict[str, object]:
    return {
        "financebench_id": f"sample_{i:03d}",
        "company": g.doc.company,
        "doc_name": g.doc.doc_name,
        "question_type": g.question_type,
        "question_reasoning": "",
        "domain_question_num": None,
        "question": g.question,
        "answer": g.answer,
        "justification": g.reasoning,
        "dataset_subset_label": "SAMPLE",
        "evidence": [
            {
                "evidence_text": doc.anchors[key].text,
                "doc_name": doc.doc_name,
                "evidence_page_num": doc.anchors[key].page,
                "evidence_text_full_page": doc.full_page(doc.anchors[key].page),
            }
            for doc, key in g.evidence
        ],
        "tags": g.tags,
    }
