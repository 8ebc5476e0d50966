"""`finrag eval answers` end to end on the sample filings: questions asked through QAService.ask, graded,
the JSON report's parts, the LLM judge through the fake Anthropic server, and the HTML report in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from finrag.answer.llm_answerer import LLMAnswerer
from finrag.eval.answers import grade_questions
from finrag.eval.answers_cli import build_answer_judge, run_answers
from finrag.eval.grading import AnswerJudge
from finrag.eval.metrics import Question, load_questions
from finrag.eval.report_html import render_html
from finrag.llm import LLMSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI

anthropic_server = fixtures.anthropic_server
openai_server = fixtures.openai_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def judge_for(server: FakeAnthropic) -> AnswerJudge:
    settings = LLMSettings(
        anthropic_api_key="test-key", anthropic_base_url=server.url, providers=["anthropic"], max_retries=0
    )
    return AnswerJudge(LLMAnswerer.from_settings(settings, sleep=lambda s: None))


def test_sample_golden_questions_are_asked_and_graded(sample_service: Any, sample_dir: Path, tmp_path: Path) -> None:
    out, html = tmp_path / "answers.json", tmp_path / "answers.html"
    quiet = Console(file=open(tmp_path / "log.txt", "w"))  # noqa: SIM115 - closed with the test's tmp dir
    report = run_answers(
        sample_service, sample_service.settings, sample_dir / "golden.jsonl", out, html,
        use_judge=True, console=quiet, err=quiet,
    )  # fmt: skip
    golden = load_questions(sample_dir / "golden.jsonl")
    assert json.loads(out.read_text()) == report
    rows = {r["id"]: r for r in report["questions"]}
    assert len(rows) == len(golden) == report["n"]
    overall = report["overall"]
    assert sum(overall[g] for g in ("correct", "incorrect", "refused", "ungraded")) == report["n"]
    assert report["judge"] is None  # no provider configured: text answers stay ungraded, never correct
    for r in rows.values():
        assert r["grade"] != "correct" or r["kind"] != "text"
        assert r["latency_ms"] > 0 and r["pipeline"]
    # the plain statement figure is right; the quarter question answered with the annual figure is wrong
    revenue = next(r for r in rows.values() if "total revenue in fiscal 2023" in r["question"])
    assert revenue["kind"] == "numeric" and revenue["grade"] == "correct", revenue
    quarter = next(r for r in rows.values() if "three months ended" in r["question"])
    if "4,295" in quarter["answer"]:
        assert quarter["grade"] == "incorrect" and "off" in quarter["reason"]
    halves = report["by_half"]
    assert halves["A"]["n"] + halves["B"]["n"] == report["n"] and halves["A"]["n"] >= halves["B"]["n"]
    assert sum(s["n"] for s in report["by_type"].values()) == report["n"]
    assert report["by_grader"]["numeric"]["n"] == sum(r["kind"] == "numeric" for r in rows.values())
    assert report["retrieval"]["page_recall@20"] >= report["retrieval"]["page_recall@1"]
    binned = sum(b["n"] for b in report["reliability"])
    assert binned == sum(1 for r in rows.values() if r["grade"] in ("correct", "incorrect") and r["trust"] is not None)
    assert "<svg" in html.read_text() and "http" not in html.read_text().replace("http://www.w3.org/2000/svg", "")


def test_the_judge_grades_text_answers_through_the_wire(anthropic_server: FakeAnthropic, sample_service: Any) -> None:
    asked: list[str] = []

    def reply(body: dict[str, Any]) -> str:
        prompt = json.dumps(body["messages"])
        asked.append(prompt)
        verdict = "correct" if "Bluefin Seafood Holdings" in prompt.split("ANSWER to grade")[1] else "incorrect"
        return f'```json\n{{"grade": "{verdict}", "reason": "compared with the gold answer"}}\n```'

    anthropic_server.answer = reply
    judge = judge_for(anthropic_server)
    text_q = Question(
        "t1", "What was Bluefin Foods Corporation formerly known as?", [], "Bluefin Seafood Holdings, Inc.",
        {"question_type": "domain-relevant", "justification": "cover page"},
    )  # fmt: skip
    report = grade_questions(sample_service, [text_q], judge=judge, retrieval=False)
    row = report["questions"][0]
    assert row["kind"] == "text" and row["grader"].startswith("judge:claude")
    expected = "correct" if "Bluefin Seafood Holdings" in row["answer"] else "incorrect"
    assert row["grade"] == expected
    assert "GOLD ANSWER: Bluefin Seafood Holdings, Inc." in asked[0] and "cover page" in asked[0]
    assert report["by_grader"][row["grader"]]["n"] == 1

    anthropic_server.answer = "I think it is fine."  # unreadable: no verdict, the question stays ungraded
    assert judge.grade("q", "a", "gold") is None
    anthropic_server.fail_with(500, 500, 500)
    assert judge.grade("q", "a", "gold") is None


def test_numeric_questions_keep_the_rule_grade_with_a_judge(anthropic_server: FakeAnthropic) -> None:
    from finrag.eval.grading import grade_answer

    anthropic_server.answer = '{"grade": "correct", "reason": "looks right"}'
    g = grade_answer("What was capex (in USD millions)?", "Capex was $1,749 million.", "$1577.00",
                     judge=judge_for(anthropic_server))  # fmt: skip
    assert g.grade == "incorrect" and g.grader == "numeric"
    assert [r.grader.split(":")[0] for r in g.results] == ["numeric", "judge"]


def _report() -> dict[str, Any]:
    rows = []
    for i in range(12):
        grade = ("correct", "incorrect", "refused", "ungraded")[i % 4]
        rows.append({
            "id": f"q{i:02d}", "question_type": ("metrics-generated", "domain-relevant", "novel-generated")[i % 3],
            "question": f"question {i} <b>", "gold": "$1", "answer": "answer & more", "kind": "numeric",
            "grade": grade, "grade_loose": grade, "grader": "numeric", "reason": "r", "graders": [],
            "pipeline": "agentic", "trust": (i % 10) / 10, "latency_ms": 20.0 + 15 * i,
        })  # fmt: skip
    from finrag.eval.answers import by_grader, reliability, summarise_rows
    from finrag.eval.splits import halves

    return {
        "n": len(rows), "tolerances": [0.01, 0.025], "judge": None, "overall": summarise_rows(rows),
        "by_type": {t: summarise_rows([r for r in rows if r["question_type"] == t])
                    for t in ("metrics-generated", "domain-relevant", "novel-generated")},
        "by_grader": by_grader(rows), "by_half": {h: summarise_rows(p) for h, p in halves(rows).items()},
        "reliability": reliability(rows),
        "retrieval": {"ks": [1, 5, 10, 20], "page_recall@1": 0.3, "page_recall@5": 0.6, "page_recall@10": 0.7,
                      "page_recall@20": 0.8, "doc_recall@1": 0.7, "doc_recall@5": 0.9, "doc_recall@10": 0.95,
                      "doc_recall@20": 1.0},
        "questions": rows,
    }  # fmt: skip


@pytest.fixture()
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        except Exception as exc:  # only when the browser truly cannot start here
            pytest.skip(f"Chromium could not start: {exc}")
        yield b
        b.close()


@pytest.mark.slow
def test_html_report_renders_offline_in_chromium(browser: Any, tmp_path: Path) -> None:
    html = render_html(_report())
    assert "<script" not in html
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    fetched: list[str] = []

    def block(route: Any) -> None:  # nothing but the file itself may load: the report must open offline
        if not route.request.url.startswith("file://"):
            fetched.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    for chart, mark in (
        ("chart-accuracy", "rect.bar"),
        ("chart-recall", "polyline"),
        ("chart-reliability", "rect.bar-bin"),
        ("chart-latency", "rect.bar-latency"),
    ):
        svg = page.locator(f"svg#{chart}")
        assert svg.is_visible(), chart
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200, (chart, box)
        marks = page.locator(f"svg#{chart} {mark}")
        assert marks.count() > 0, chart
        mbox = marks.first.bounding_box()
        assert mbox is not None and mbox["height"] > 0 and mbox["width"] > 0, chart
    # the stacked accuracy bars: four grades x three types + overall, each type has a share of each grade here
    assert page.locator("svg#chart-accuracy rect.bar").count() == 16
    assert page.locator("#questions tr").count() == 13  # header + 12 rows; "<b>" in a question stays text
    assert page.locator("#questions b").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / "answers_report.png"), full_page=True)
    assert len(png) > 10_000
    assert not errors and not fetched, (errors, fetched)


def test_the_cli_command_writes_both_reports(service_factory: Any, sample_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "index"
    svc = service_factory(data)
    assert not svc.ingest([sample_dir / "BLUEFINFOODS_2023_10K.pdf"]).failed
    svc.close()  # the index has one owner at a time: the command opens it next
    wanted = ("total revenue in fiscal 2023", "formerly known")
    lines = [ln for ln in (sample_dir / "golden.jsonl").read_text().splitlines() if any(w in ln for w in wanted)]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(lines) + "\n")
    out, html = tmp_path / "a.json", tmp_path / "a.html"
    env = {**os.environ, "FINRAG_LLM_PROVIDERS": "extractive"}
    proc = subprocess.run(
        [sys.executable, "-m", "finrag.cli", "eval", "answers", "--questions", str(questions), "--index-dir",
         str(data), "--out", str(out), "--html", str(html)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    grades = {r["kind"]: r["grade"] for r in report["questions"]}
    assert grades == {"numeric": "correct", "text": "ungraded"}, report["questions"]
    assert report["judge"] is None and "answers (2 questions" in proc.stdout
    assert html.read_text().count("<svg") == 4


def test_the_judge_from_settings_speaks_openai(openai_server: FakeOpenAI, tmp_path: Path) -> None:
    from finrag.settings import Settings

    llm = LLMSettings(openai_base_url=openai_server.url + "/v1", openai_api_key="test-key", openai_model="judge-model",
                      providers=["openai"], max_retries=0)  # fmt: skip
    judge = build_answer_judge(Settings(data_dir=tmp_path, llm=llm))
    assert judge is not None
    openai_server.answer = '{"grade": "refused", "reason": "the answer declines"}'
    result = judge.grade("What was capex?", "The filings do not say.", "$1,577 million", "cash flow statement")
    assert result is not None and (result.grader, result.grade) == ("judge:judge-model", "refused")
    assert "GOLD ANSWER: $1,577 million" in json.dumps(openai_server.last)
    assert build_answer_judge(Settings(data_dir=tmp_path, llm=LLMSettings(providers=["extractive"]))) is None
