"""`finrag demo`"""

from __future__ import annotations

from pathlib import Path

from finrag.cli.common import (
    DataDir,
    console,
    ingest_with_progress,
    print_answer,
    print_eval,
    print_report,
    service,
    settings_or_exit,
)

# ✓ right, ✗ wrong, ∅ refused, ? a text answer no rule can grade (no judge model offline)
_MARKS = {"correct": "✓", "incorrect": "✗", "refused": "∅", "ungraded": "?"}


def demo(data_dir: DataDir = None) -> None:
    """Generate the sample filings, ingest them and answer the golden questions (offline)."""
    from finrag.eval.financebench import evaluate
    from finrag.eval.grading import grade_answer
    from finrag.eval.metrics import load_questions
    from finrag.ingest.pipeline import FilingOverrides
    from finrag.sample.generate import generate_samples

    settings = settings_or_exit(data_dir or Path(".finrag") / "demo")
    sample_dir = settings.data_dir / "samples"
    generate_samples(sample_dir)
    svc = service(settings)
    try:
        report = ingest_with_progress(svc, [sample_dir], None, FilingOverrides())
        print_report(report)
        golden = load_questions(sample_dir / "golden.jsonl")
        marks: list[str] = []
        for i, q in enumerate(golden):
            answer = svc.ask(q.question, top_k=5)
            if i < 4:
                print_answer(answer)
                console.rule()
            grade = grade_answer(q.question, answer.text, q.answer)
            mark = _MARKS.get(grade.grade, "?")
            marks.append(f"{mark} {q.question}  [dim]({grade.grade}: {grade.reason})[/dim]")
        console.print(f"[bold]golden questions[/bold] ({sum(m[0] == '✓' for m in marks)}/{len(marks)} right)")
        for line in marks:
            console.print(line, highlight=False)
        result = evaluate(svc, golden)
    finally:
        svc.close()
    print_eval(result)
