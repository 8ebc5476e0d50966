"""What answering costs per query at Claude Sonnet rates: with and without the router, with and without
prompt caching (offline: the fake Anthropic server reports usage the way the API does).

The FinanceBench dev questions (question text only) go through real retrieval on an existing index,
then the router and the easy / agentic pipelines with the real AnthropicProvider. The fake model answers
with ~150 tokens quoting the most relevant sentences of its sources (grounded, as a good model's answers
usually are; a last scenario makes every draft ungrounded to show the bounded worst case); prompt
caching is simulated from the request's cache_control breakpoints.

Scenarios
- no router: every question takes the easy pipeline (one LLM call; the easy -> agentic fallback stays on)
- router: rules send metric questions to the agentic pipeline, which answers from the calculator without
  an LLM call when every input is found and cited, and drafts/corrects with the LLM otherwise
- filing prefix (FINRAG_LLM_PROMPT_CACHE_FILING_PREFIX, opt-in): once a filing has had
  `--prefix-after` questions (default: the setting, 3) within the cache's 5 minutes, the easy path sends its
  statement + cover pages (at most `--prefix-max-tokens`) as a cached prefix after the system prompt

`--by-filing` asks the questions grouped by filing (each filing's questions one after another, as an
analyst's session on one filing would), instead of the file's order. All figures are the fake server's
token accounting at Sonnet prices, not a bill.

    .venv/bin/python bench/answer_cost.py [--index-dir ~/.cache/finrag/fb-v1] [--limit N] [--by-filing]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `finrag` and `tests.fakes` importable
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from finrag.answer.router import Route, RouteDecision, Router  # noqa: E402

DEFAULT_QUESTIONS = ROOT.parent / "shared" / "financebench" / "questions_dev.jsonl"
DEFAULT_INDEX = Path.home() / ".cache" / "finrag" / "fb-v1"
GOAL_USD = 0.01
console = Console(width=200)  # wide enough for the table when piped to a file


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())}


def grounded_reply(body: dict[str, Any]) -> str:
    """~150 tokens quoting the sources' sentences that share most words with the question, each cited:
    a concise answer that the grounding check accepts, as a good model's usually is."""
    content = body["messages"][0]["content"]
    question = _words(content[-1]["text"].split("\n\nAnswer from")[0])
    scored: list[tuple[int, int, str]] = []
    for i, block in enumerate(content):
        m = re.match(r'<source id="([^"]+)"[^>]*>\n(.*)\n</source>$', block.get("text", ""), flags=re.S)
        if not m or m.group(1) == "calculator":
            continue
        label, source = m.group(1), re.sub(r"\s+", " ", m.group(2))
        for s in re.split(r"(?<=[.!?])\s+", source):
            # prose, as a model writes it: not a flattened table row ("Net sales $ 6,536 $ 6,076 ...")
            if len(s.split()) >= 8 and len(re.findall(r"\d[\d,.]*", s)) <= 3 and "[...]" not in s:
                scored.append((len(question & _words(s)), -i, f"{s.strip().rstrip('.')} [{label}]."))
    picked: list[str] = []
    for _, _, s in sorted(scored, reverse=True):
        if sum(len(p) for p in picked) + len(s) > 600:
            continue
        picked.append(s)
    return " ".join(picked) or "I don't know based on the provided sources."


def ungrounded_reply(body: dict[str, Any]) -> str:
    """The worst case: every draft states a figure no source prints, so every check fails."""
    return grounded_reply(body).replace(". ", ", which was $123,457 million. ", 1)


class EasyOnlyRouter(Router):
    """No router: every question is routed easy, as an automatic decision, so the easy -> agentic
    fallback still applies (an explicit mode would switch it off)."""

    def route(self, question: str, mode: str = "auto", scope: Any = None, facts: Any = None) -> RouteDecision:
        return RouteDecision(Route.EASY, "router off")


@dataclass
class Tally:
    queries: int = 0
    cost: float = 0.0
    calls: int = 0
    usage: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    pipelines: Counter[str] = field(default_factory=Counter)
    no_llm: int = 0
    fallbacks: int = 0
    grounded: int = 0
    seconds: float = 0.0

    def add(self, a: Any, seconds: float) -> None:
        self.queries += 1
        self.cost += a.cost_usd
        calls = [c for c in a.trace.get("llm_calls", []) if c.get("provider") != "extractive"]
        self.calls += len(calls)
        self.no_llm += not calls
        self.usage.update(a.usage)
        self.routes[a.trace["route"]["route"]] += 1
        self.pipelines[a.pipeline] += 1
        self.fallbacks += "fallback" in a.trace
        self.grounded += bool(a.supported)
        self.seconds += seconds

    def per_query(self, key: str) -> float:
        return self.usage[key] / max(1, self.queries)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX, help="a data dir with an ingested index")
    ap.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    ap.add_argument("--limit", type=int, default=0, help="first N questions only (0 = all)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--by-filing", action="store_true", help="ask each filing's questions one after another")
    ap.add_argument("--prefix-max-tokens", type=int, default=None, help="filing prefix size (default: settings)")
    ap.add_argument("--prefix-after", type=int, default=None, help="earlier questions on a filing before its prefix")
    ap.add_argument("--scenario", default="", help="only scenarios whose name contains this")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="with --by-filing: each filing's questions N times in a row (a stand-in for N times as many "
        "questions per filing)",
    )
    args = ap.parse_args()

    if not (args.index_dir / "qdrant").exists():
        console.print(f"[yellow]skipped:[/] no index at {args.index_dir} (ingest the filings there first)")
        return 0
    if not args.questions.exists():
        console.print(f"[yellow]skipped:[/] no questions at {args.questions}")
        return 0
    rows = [json.loads(x) for x in args.questions.read_text().splitlines() if x.strip()]
    if args.limit:
        rows = rows[: args.limit]
    if args.by_filing:
        first = {r.get("doc_name", ""): i for i, r in reversed(list(enumerate(rows)))}
        rows = sorted(rows, key=lambda r: first[r.get("doc_name", "")])  # stable: file order within a filing
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(r.get("doc_name", ""), []).append(r)
        rows = [r for g in groups.values() for r in g * max(1, args.repeat)]
    questions = [r["question"] for r in rows]
    unique = list(dict.fromkeys(questions))

    from finrag.answer.context import service_context
    from finrag.answer.engine import AnswerEngine
    from finrag.answer.llm_answerer import LLMAnswerer
    from finrag.llm import LLMSettings
    from finrag.service import QAService
    from finrag.settings import DEFAULT_ANTHROPIC_MODEL, SONNET_PRICE, AnswerSettings, Settings
    from tests.fakes.anthropic_server import FakeAnthropic, create_app
    from tests.fakes.fixtures import ServerThread

    try:
        service = QAService(Settings(data_dir=args.index_dir))
        tenant = service.settings.tenant
        t0 = time.perf_counter()
        retrieved = {q: service.retrieve(q) for q in unique}
    except Exception as e:  # e.g. another process holds the embedded index's lock
        console.print(f"[red]cannot open the index at {args.index_dir}:[/] {e}")
        console.print("(an embedded Qdrant index opens in one process at a time: copy it, or stop the other one)")
        return 1
    retrieval_s = time.perf_counter() - t0
    ctx = service_context(service, tenant)

    fake = FakeAnthropic()
    server = ServerThread(create_app(fake)).start()
    fake.url = server.url
    scenarios = [  # name, router, prompt caching, filing prefix, the fake model's reply
        ("no router, no caching", "easy_auto", False, False, grounded_reply),
        ("no router, prompt caching, no filing prefix", "easy_auto", True, False, grounded_reply),
        ("no router, prompt caching + filing prefix", "easy_auto", True, True, grounded_reply),
        ("router, no caching", "auto", False, False, grounded_reply),
        ("router, prompt caching, no filing prefix", "auto", True, False, grounded_reply),
        ("router, prompt caching + filing prefix", "auto", True, True, grounded_reply),
        ("worst case: drafts never grounded (router, caching + prefix)", "auto", True, True, ungrounded_reply),
    ]
    scenarios = [s for s in scenarios if args.scenario in s[0]]
    prefix_opts = {
        k: v
        for k, v in (
            ("prompt_cache_prefix_max_tokens", args.prefix_max_tokens),
            ("prompt_cache_prefix_after", args.prefix_after),
        )
        if v is not None
    }
    results: list[tuple[str, Tally]] = []
    try:
        for name, mode, cache, prefix, reply in scenarios:
            fake.reset()  # no cache entries carried over from the previous scenario
            fake.answer = reply
            llm = LLMSettings(
                providers=["anthropic", "extractive"],
                anthropic_api_key="test-key",
                anthropic_base_url=server.url,
                anthropic_model=DEFAULT_ANTHROPIC_MODEL,
                prompt_cache=cache,
                prompt_cache_filing_prefix=prefix,
                **prefix_opts,
                max_retries=0,
            )
            router = EasyOnlyRouter() if mode == "easy_auto" else None
            eng = AnswerEngine(LLMAnswerer.from_settings(llm), AnswerSettings(online_eval_share=0), router=router)
            tally = Tally()
            for q in questions:
                t = time.perf_counter()
                a = eng.answer(q, retrieved[q], "auto", ctx)
                tally.add(a, time.perf_counter() - t)
            results.append((name, tally))
    finally:
        server.stop()
        service.close()

    table = Table(
        title=f"Answer cost at Sonnet rates (${SONNET_PRICE.input}/${SONNET_PRICE.output} per M in/out, cache "
        f"write ${SONNET_PRICE.cache_write}, read ${SONNET_PRICE.cache_read}); {len(questions)} FinanceBench dev "
        f"questions{', grouped by filing' if args.by_filing else ''}"
        f"{f', each filing asked {args.repeat}x' if args.by_filing and args.repeat > 1 else ''}, "
        "fake-server token accounting, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    for col in (
        "scenario",
        "$/query",
        "goal ≤ $0.01",
        "LLM calls/q",
        "no-LLM answers",
        "input tok/q",
        "cache write/q",
        "cache read/q",
        "output tok/q",
        "fallbacks",
        "grounded",
        "routes (easy/agentic/vision)",
        "answer ms/q",
    ):
        table.add_column(col, justify="right")
    out: dict[str, Any] = {
        "questions": len(questions),
        "by_filing": args.by_filing,
        "retrieval_s": round(retrieval_s, 1),
        "scenarios": {},
    }
    for name, t in results:
        per_q = t.cost / max(1, t.queries)
        table.add_row(
            name,
            f"{per_q:.4f}",
            "[green]yes[/]" if per_q <= GOAL_USD else "[red]no[/]",
            f"{t.calls / t.queries:.2f}",
            f"{t.no_llm}/{t.queries}",
            f"{t.per_query('input_tokens'):,.0f}",
            f"{t.per_query('cache_creation_input_tokens'):,.0f}",
            f"{t.per_query('cache_read_input_tokens'):,.0f}",
            f"{t.per_query('output_tokens'):,.0f}",
            str(t.fallbacks),
            f"{t.grounded}/{t.queries}",
            f"{t.routes['easy']}/{t.routes['agentic']}/{t.routes['vision']}",
            f"{1000 * t.seconds / t.queries:.0f}",
        )
        out["scenarios"][name] = {
            "usd_per_query": round(per_q, 6),
            "llm_calls_per_query": round(t.calls / t.queries, 3),
            "no_llm_answers": t.no_llm,
            "usage_per_query": {k: round(v / t.queries, 1) for k, v in t.usage.items()},
            "fallbacks": t.fallbacks,
            "grounded": t.grounded,
            "routes": dict(t.routes),
            "pipelines": dict(t.pipelines),
        }
    console.print(table)
    console.print(
        "Easy answers send one-off sources uncached (a cache write costs 1.25x input and is never read); the "
        "system prompt alone is under Sonnet's 1,024-token cache minimum, so the filing prefix (statement + cover "
        "pages of a filing asked about repeatedly) is what makes the easy path's prefix cacheable. Caching "
        "also pays in the agentic draft -> correct loop, which re-sends the same sources."
    )
    console.print(f"retrieval for {len(questions)} questions: {retrieval_s:.1f} s (not in the answer ms)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
