"""Price LLM answering at Claude Sonnet rates, with and without prompt caching (offline).

Runs the real AnthropicProvider against the fake Anthropic server (tests/fakes), which reports
usage the way the API does (cache writes / reads, tokens ~= chars / 4, 1,024-token minimum).

Scenarios
- one-off: each dev question once, system prompt + 5 retrieved blocks of ~1,200 tokens (block text
  taken from the FinanceBench evidence pages, for realistic size only).
- repeat: the same questions asked again within the cache TTL (reloads, eval re-runs).
- session: 10 questions about one filing, its first pages (~30k tokens) sent as the context of
  every question -- the long-context case caching is made for.

    .venv/bin/python bench/llm_cost.py [--questions ../shared/financebench/questions_dev.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `finrag` and `tests.fakes` importable
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from finrag.llm import ContextBlock, LLMRequest, Usage  # noqa: E402
from finrag.llm.anthropic_provider import AnthropicProvider  # noqa: E402
from finrag.llm.prompting import SYSTEM_PROMPT  # noqa: E402
from finrag.settings import DEFAULT_ANTHROPIC_MODEL, DEFAULT_PRICES  # noqa: E402
from tests.fakes.anthropic_server import FakeAnthropic, create_app  # noqa: E402
from tests.fakes.fixtures import ServerThread  # noqa: E402

DEFAULT_QUESTIONS = ROOT.parent / "shared" / "financebench" / "questions_dev.jsonl"
SESSION_FILLERS = [
    "What was total revenue in the fiscal year, and how did it change from the prior year?",
    "What was the operating margin for the fiscal year?",
    "How much cash did the company return to shareholders through dividends and buybacks?",
    "What were capital expenditures for the year?",
    "What are the main risk factors management highlights?",
    "What was net income attributable to the company?",
    "How much long-term debt was outstanding at year end?",
    "What was free cash flow (operating cash flow minus capex)?",
    "Which segment grew fastest?",
    "What was the effective tax rate?",
]


@dataclass
class Totals:
    queries: int = 0
    usage: Usage | None = None
    cost: float = 0.0

    def add(self, u: Usage, cost: float) -> None:
        t = self.usage or Usage()
        self.usage = Usage(
            t.input_tokens + u.input_tokens,
            t.output_tokens + u.output_tokens,
            t.cache_creation_input_tokens + u.cache_creation_input_tokens,
            t.cache_read_input_tokens + u.cache_read_input_tokens,
        )
        self.cost += cost
        self.queries += 1


def load_questions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sized_blocks(q: dict[str, Any], pool: list[tuple[str, int, str]], n: int, chars: int) -> list[ContextBlock]:
    """n blocks of `chars` characters: the question's own evidence pages first, then other pages."""
    own = [(e["doc_name"], int(e["evidence_page_num"]), e["evidence_text_full_page"]) for e in q["evidence"]]
    pages = own + [p for p in pool if p not in own]
    blocks: list[ContextBlock] = []
    source = cycle(pages)
    while len(blocks) < n:
        doc, page, text = next(source)
        while len(text) < chars:  # a short page borrows the next one, as a merged parent chunk would
            text += "\n" + next(source)[2]
        blocks.append(ContextBlock(f"{doc} p.{page + 1}", text[:chars], f"page {page + 1}"))
    return blocks


def filing_pages(pdf: Path, tokens: int, fallback: list[str]) -> list[tuple[int, str]]:
    """(page number, text) from the start of the filing until ~`tokens` tokens."""
    texts: list[str] = []
    try:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(pdf))
        for i in range(len(doc)):
            texts.append(doc[i].get_textpage().get_text_range())
            if sum(len(t) for t in texts) >= tokens * 4:
                break
    except Exception:  # no PDF or no pypdfium2: repeat the evidence pages, size is what matters here
        texts = []
    if not texts:
        texts = [t for _, t in zip(range(10_000), cycle(fallback), strict=False)]
    out: list[tuple[int, str]] = []
    budget = tokens * 4
    for i, t in enumerate(texts):
        if budget <= 0:
            break
        t = re.sub(r"[ \t]+", " ", t).strip()[:budget]
        out.append((i, t))
        budget -= len(t)
    return out


def run(
    provider: AnthropicProvider, fake: FakeAnthropic, requests: list[LLMRequest], fresh_cache: bool = True
) -> Totals:
    if fresh_cache:
        fake.cache.clear()
    totals = Totals()
    for req in requests:
        r = provider.complete(req)
        totals.add(r.usage, r.cost_usd)
    return totals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    ap.add_argument("--pdfs", type=Path, default=None, help="default: pdfs/ next to the questions file")
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--block-tokens", type=int, default=1200)
    ap.add_argument("--answer-tokens", type=int, default=150, help="length of the fake's cited answer")
    ap.add_argument("--session-questions", type=int, default=10)
    ap.add_argument("--session-tokens", type=int, default=30_000)
    ap.add_argument("--model", default=DEFAULT_ANTHROPIC_MODEL)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    args = ap.parse_args(argv)

    questions = load_questions(args.questions)
    pool = [
        (e["doc_name"], int(e["evidence_page_num"]), e["evidence_text_full_page"])
        for q in questions
        for e in q["evidence"]
    ]

    def answer(body: dict[str, Any]) -> str:
        m = re.search(r'<source id=\\"([^"\\]+)\\"', json.dumps(body["messages"]))
        cite = f" [{m.group(1)}]" if m else ""
        sentence = f"The filing reports the figure as $1,234 million for the fiscal year{cite}. "
        return (sentence * (args.answer_tokens * 4 // len(sentence) + 1))[: args.answer_tokens * 4]

    fake = FakeAnthropic(answer=answer)
    rows: list[tuple[str, str, Totals]] = []
    with ServerThread(create_app(fake)) as srv:
        provider = AnthropicProvider("test-key", args.model, base_url=srv.url, prices=DEFAULT_PRICES)

        # One-off questions, 5 retrieved blocks each.
        def oneoff(**kw: Any) -> list[LLMRequest]:
            return [
                LLMRequest(
                    system=SYSTEM_PROMPT,
                    question=q["question"],
                    context=sized_blocks(q, pool, args.blocks, args.block_tokens * 4),
                    **kw,
                )
                for q in questions
            ]

        legend = {
            "one-off": f"{len(questions)} dev questions, each once: system + {args.blocks} retrieved blocks "
            f"of ~{args.block_tokens:,} tokens",
            "repeat": "the same requests again within the 5-minute cache TTL",
        }
        rows.append(("one-off", "no caching", run(provider, fake, oneoff(cache=False))))
        rows.append(("one-off", "cache system only", run(provider, fake, oneoff(cache_context=False))))
        rows.append(("one-off", "cache system + context", run(provider, fake, oneoff())))
        # Same questions again within the TTL: the cache written by the pass above is read.
        rows.append(("repeat", "cache system + context", run(provider, fake, oneoff(), fresh_cache=False)))
        rows.append(("repeat", "no caching", run(provider, fake, oneoff(cache=False))))

        # Session: 10 questions on the filing with the most dev questions, its pages as the context.
        doc = Counter(q["doc_name"] for q in questions).most_common(1)[0][0]
        own = [q["question"] for q in questions if q["doc_name"] == doc]
        session_qs = (own + [f for f in SESSION_FILLERS if f not in own])[: args.session_questions]
        pdfs = args.pdfs or args.questions.parent / "pdfs"
        fallback = [p[2] for p in pool if p[0] == doc] or [p[2] for p in pool]
        pages = filing_pages(pdfs / f"{doc}.pdf", args.session_tokens, fallback)
        context = [ContextBlock(f"{doc} p.{n + 1}", text, f"page {n + 1}") for n, text in pages]

        def session(**kw: Any) -> list[LLMRequest]:
            return [LLMRequest(system=SYSTEM_PROMPT, question=q, context=context, **kw) for q in session_qs]

        n_tokens = sum(len(t) for _, t in pages) // 4
        legend["session"] = (
            f"{len(session_qs)} questions on {doc}, its first {len(pages)} pages (~{n_tokens:,} tokens) "
            "as the context of each"
        )
        rows.append(("session", "no caching", run(provider, fake, session(cache=False))))
        rows.append(("session", "cache system + context", run(provider, fake, session())))

    show(rows, args.model, legend)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "scenario": s,
                        "variant": v,
                        "queries": t.queries,
                        **(t.usage or Usage()).as_dict(),
                        "cost_usd": t.cost,
                    }
                    for s, v, t in rows
                ],
                indent=2,
            )
        )
    return 0


def show(rows: list[tuple[str, str, Totals]], model: str, legend: dict[str, str]) -> None:
    p = DEFAULT_PRICES["claude-sonnet-4"]
    table = Table(
        title=f"LLM cost per query, {model} at ${p.input:.2f} in / ${p.output:.2f} out / "
        f"${p.cache_write:.2f} cache write / ${p.cache_read:.2f} cache read per MTok"
    )
    for col in ("scenario", "variant", "queries", "input", "cache write", "cache read", "output", "total $", "$/query"):
        table.add_column(col, justify="left" if col in ("scenario", "variant") else "right")
    table.add_column("vs no caching", justify="right")
    baseline: dict[str, float] = {s: t.cost for s, v, t in rows if v == "no caching"}
    for s, v, t in rows:
        u = t.usage or Usage()
        base = baseline.get(s)
        delta = "" if base is None or v == "no caching" else f"{(t.cost - base) / base:+.0%}"
        table.add_row(
            s,
            v,
            str(t.queries),
            f"{u.input_tokens:,}",
            f"{u.cache_creation_input_tokens:,}",
            f"{u.cache_read_input_tokens:,}",
            f"{u.output_tokens:,}",
            f"{t.cost:.4f}",
            f"{t.cost / max(1, t.queries):.5f}",
            delta,
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    for name, text in legend.items():
        console.print(f"  [bold]{name}[/]: {text}")
    console.print(
        "  Tokens ~= characters / 4; Sonnet caches prompts of 1,024+ tokens only (the system prompt alone is not)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
