"""Where an answer's time goes: ask every question of a file through `QAService.ask` in one warm process
and print p50 / p95 / max of each stage in `Answer.timings_ms` (scope, search, rerank, generate, judge,
boxes, ...), of the wall time and of the process's CPU time per question, and the slowest questions. On a
machine shared with other work the CPU time is the steadier figure of the work an answer costs (wall
time there includes waiting for a core).

    python bench/ask_stages.py --index-dir ~/.cache/finrag/fb-final --questions questions_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from finrag.eval.answers import WARM_UP_QUESTION
from finrag.service import QAService
from finrag.settings import load_settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="a data folder built by `finrag eval financebench`")
    ap.add_argument("--questions", type=Path, required=True, help="JSON lines with a `question` field")
    ap.add_argument("--slowest", type=int, default=5)
    args = ap.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    svc = QAService(load_settings(data_dir=args.index_dir))
    svc.ask(WARM_UP_QUESTION)  # model load and store open are not what is measured
    rows = []
    for q in questions:
        c0, t0 = time.process_time(), time.perf_counter()
        answer = svc.ask(q["question"])
        wall = (time.perf_counter() - t0) * 1000
        timings = {**answer.timings_ms, "cpu": (time.process_time() - c0) * 1000}
        rows.append((q.get("id") or q.get("financebench_id", ""), wall, timings, answer.pipeline))
    svc.close()
    stages = sorted({k for _, _, t, _ in rows for k in t})
    print(f"{len(rows)} questions, ms per ask")
    for stage in [*stages, "wall"]:
        values = [wall if stage == "wall" else t.get(stage, 0.0) for _, wall, t, _ in rows]
        p50, p95 = np.percentile(values, [50, 95])
        print(f"  {stage:14s} p50 {p50:7.1f}  p95 {p95:7.1f}  max {max(values):7.1f}")
    print("slowest:")
    for qid, wall, t, pipeline in sorted(rows, key=lambda r: -r[1])[: args.slowest]:
        big = {k: round(v) for k, v in t.items() if v >= 20 and k not in ("total", "answer", "cpu")}
        print(f"  {qid} {wall:.0f} ms {pipeline} {big}")


if __name__ == "__main__":
    main()
