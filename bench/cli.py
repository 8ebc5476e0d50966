"""The command line as a person feels it: each command a fresh process, timed from start to exit,
against the same command on an earlier revision in the same run.

    python bench/cli.py --index-dir ~/.cache/finrag/fb-cli [--baseline c06b57b] [--repeat 5]
        [--pdf-dir ../shared/financebench/pdfs] [--question "..."] [--json out.json]

The baseline revision is exported with `git archive` into a temporary folder and run with PYTHONPATH
pointing there (same interpreter and packages), through the installed `finrag` script when there is
one, so both revisions start the way `finrag ...` does. Each repetition runs the current and the
baseline revision back to back, so both see the same machine load; the load average is printed before
each command and at the end. Reported: best and median wall seconds of `--repeat` runs.

Commands: `finrag --help`, `finrag documents list`, `finrag ask QUESTION` (cold: the whole process),
`finrag ingest` of one unchanged filing and of every filing in `--pdf-dir` (all already in the index:
nothing to do but hash). The answer text of `ask --json` to each question is compared between the two
revisions; the exit status is 1 when one differs.

`--index-dir` must be an index no other process uses (the embedded store has one owner): copy one,
e.g. `cp -a ~/.cache/finrag/fb-base ~/.cache/finrag/fb-cli`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Our own phrasings (no benchmark text in the repository); the first is the one timed.
DEFAULT_QUESTIONS = (
    "What were 3M's capital expenditures in fiscal 2018?",
    "What was Nike's total revenue in fiscal 2019?",
    "How much cash did Walmart hold at the end of fiscal 2020?",
)


@dataclass(slots=True)
class Row:
    command: str
    current_best_s: float
    current_median_s: float
    baseline_best_s: float | None
    baseline_median_s: float | None
    load_before: float


def export_revision(rev: str, into: Path) -> Path:
    """`rev`'s tree (tracked files only) under `into`, without touching the repository's worktrees."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def launcher() -> list[str]:
    """`finrag` as installed next to this interpreter (what a person types), else `python -m finrag.cli`."""
    script = Path(sys.executable).parent / "finrag"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "finrag.cli"]


def env_for(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(root), HF_HUB_OFFLINE="1", COLUMNS="120")
    return env


def check_import_root(root: Path) -> None:
    """Refuse to time the wrong code: `finrag` must resolve to `root` under its PYTHONPATH."""
    out = subprocess.run(
        [sys.executable, "-c", "import finrag; print(finrag.__file__)"],
        env=env_for(root),
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout.strip()
    if not Path(out).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"finrag resolves to {out}, not under {root}: an install shadows PYTHONPATH")


def run_once(root: Path, args: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([*launcher(), *args], env=env_for(root), capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"`finrag {' '.join(args)}` failed in {root} ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, proc.stdout


def answer_text(root: Path, data_dir: Path, question: str) -> str:
    _, out = run_once(root, ["ask", question, "--data-dir", str(data_dir), "--json"])
    return str(json.loads(out)["text"])


# Where a cold `finrag ask` spends its time, phase by phase, in a fresh process of the current revision.
_PHASES = """
import json, sys, time
t = [time.perf_counter()]
def mark():
    t.append(time.perf_counter())
from pathlib import Path
import finrag.cli; mark()
from finrag.cli.common import settings_or_exit
settings = settings_or_exit(Path(sys.argv[1])); mark()
from finrag.service import QAService
svc = QAService(settings); mark()
svc.c.store.warm_up(); mark()
svc.c.embedder.warm_up(); mark()
answer = svc.ask(sys.argv[2]); mark()
svc.ask(sys.argv[2]); mark()
svc.close(); mark()
names = ["import the CLI", "settings", "service (imports, components)", "open the store", "load the model",
         "first question", "same question again (warm)", "close"]
print(json.dumps({n: round(b - a, 3) for n, a, b in zip(names, t, t[1:])}))
"""


def ask_phases(root: Path, data_dir: Path, question: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PHASES, str(data_dir), question],
        env=env_for(root),
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=Path.home() / ".cache" / "finrag" / "fb-cli")
    ap.add_argument("--baseline", default="c06b57b", help="git revision to compare with ('' = none)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pdf-dir", type=Path, default=Path("../shared/financebench/pdfs"), help="indexed filings")
    ap.add_argument(
        "--question",
        action="append",
        help="repeatable; the first is timed, every one's answer is compared (default: three built in)",
    )
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--phases", action="store_true", help="also break a cold ask of the current revision down")
    a = ap.parse_args(argv)
    questions: list[str] = a.question or list(DEFAULT_QUESTIONS)

    index = a.index_dir.expanduser()
    if not (index / "registry.sqlite3").is_file():
        raise SystemExit(f"no index at {index} (copy one: cp -a ~/.cache/finrag/fb-base {index})")
    pdfs = sorted(a.pdf_dir.glob("*.pdf"))
    if not pdfs:
        raise SystemExit(f"no PDFs in {a.pdf_dir}")
    commands: list[tuple[str, list[str]]] = [
        ("finrag --help", ["--help"]),
        ("finrag documents list", ["documents", "list", "--data-dir", str(index)]),
        ("finrag ask (cold)", ["ask", questions[0], "--data-dir", str(index)]),
        ("finrag ingest, 1 unchanged filing", ["ingest", str(pdfs[0]), "--data-dir", str(index)]),
        (f"finrag ingest, {len(pdfs)} unchanged filings", ["ingest", str(a.pdf_dir), "--data-dir", str(index)]),
    ]

    tmp = Path(tempfile.mkdtemp(prefix="finrag-bench-cli-"))
    try:
        roots = {"current": ROOT}
        if a.baseline:
            roots["baseline"] = export_revision(a.baseline, tmp)
        for root in roots.values():
            check_import_root(root)
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} (1 min) at start", flush=True)
        # Also warms the page cache: every timed run then reads the index from memory, as a person's second
        # command does.
        answers = {name: [answer_text(root, index, q) for q in questions] for name, root in roots.items()}
        rows: list[Row] = []
        for label, args in commands:
            load = os.getloadavg()[0]
            walls: dict[str, list[float]] = {name: [] for name in roots}
            for _ in range(a.repeat):
                for name, root in roots.items():  # back to back: both revisions see the same load
                    walls[name].append(run_once(root, args)[0])
            base = walls.get("baseline")
            row = Row(
                label,
                min(walls["current"]),
                statistics.median(walls["current"]),
                min(base) if base else None,
                statistics.median(base) if base else None,
                load,
            )
            rows.append(row)
            print(
                f"{label:<40} best {row.current_best_s:5.2f} s  median {row.current_median_s:5.2f} s"
                + (
                    f"  | {a.baseline}: best {row.baseline_best_s:5.2f} s  median {row.baseline_median_s:5.2f} s"
                    f"  ({row.baseline_best_s / row.current_best_s:.1f}x)"
                    if row.baseline_best_s is not None
                    else ""
                )
                + f"  [load {load:.2f}]",
                flush=True,
            )
        phases = ask_phases(ROOT, index, questions[0]) if a.phases else {}
        if phases:
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
            print(f"cold ask of the current revision, in process: {steps}")
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
        same = all(len({answers[name][i] for name in roots}) == 1 for i in range(len(questions)))
        for i, q in enumerate(questions):
            print(f"Q: {q}\n  current: {answers['current'][i]}")
            if "baseline" in answers:
                verdict = "identical" if answers["baseline"][i] == answers["current"][i] else "DIFFERS"
                print(f"  {a.baseline} ({verdict}): {answers['baseline'][i]}")
        if a.json:
            report = {
                "baseline": a.baseline,
                "repeat": a.repeat,
                "cores": os.cpu_count(),
                "rows": [asdict(r) for r in rows],
                "answers": answers,
                "ask_phases": phases,
                "load_end": os.getloadavg(),
            }
            a.json.write_text(json.dumps(report, indent=2))
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
