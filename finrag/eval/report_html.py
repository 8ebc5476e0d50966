"""The answer-grading report as one self-contained HTML file: inline SVG plots drawn here, inline CSS,
no script and nothing fetched, so it opens offline and can be mailed or archived as is."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

COLORS = {"correct": "#2e7d32", "incorrect": "#c62828", "refused": "#f9a825", "ungraded": "#9e9e9e"}
GRADES = ("correct", "incorrect", "refused", "ungraded")
W, H = 520, 300  # every chart's view box
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 28, 52


def _svg(chart_id: str, title: str, body: list[str]) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {W} {H}" '
        f'width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{W / 2}" y="18" text-anchor="middle" class="title">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def _axes(y_max: float, y_label: str, ticks: int = 5, fmt: str = "{:.0%}") -> list[str]:
    """Left axis with gridlines, from 0 to y_max."""
    out = []
    plot_h = H - PAD_T - PAD_B
    for i in range(ticks + 1):
        v = y_max * i / ticks
        y = H - PAD_B - plot_h * i / ticks
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{fmt.format(v)}</text>')
    out.append(
        f'<text x="12" y="{PAD_T + plot_h / 2:.1f}" transform="rotate(-90 12 {PAD_T + plot_h / 2:.1f})" '
        f'text-anchor="middle" class="tick">{escape(y_label)}</text>'
    )
    return out


def _y(v: float, y_max: float) -> float:
    return H - PAD_B - (H - PAD_T - PAD_B) * (v / y_max if y_max else 0.0)


def accuracy_chart(by_type: dict[str, dict[str, Any]], overall: dict[str, Any]) -> str:
    """Stacked bars per question type (and overall): share correct / incorrect / refused / ungraded."""
    groups = [*by_type.items(), ("overall", overall)]
    body = _axes(1.0, "share of questions")
    plot_w = W - PAD_L - PAD_R
    slot = plot_w / max(1, len(groups))
    for i, (name, s) in enumerate(groups):
        x = PAD_L + i * slot + slot * 0.2
        bottom = 0.0
        for g in GRADES:
            share = s[g] / s["n"] if s["n"] else 0.0
            if share > 0:
                y0, y1 = _y(bottom, 1.0), _y(bottom + share, 1.0)
                body.append(
                    f'<rect class="bar bar-{g}" x="{x:.1f}" y="{y1:.1f}" width="{slot * 0.6:.1f}" '
                    f'height="{y0 - y1:.1f}" fill="{COLORS[g]}"><title>{escape(name)}: {g} {s[g]}/{s["n"]}</title>'
                    "</rect>"
                )
            bottom += share
        body.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{H - PAD_B + 14}" text-anchor="middle" class="tick">'
            f"{escape(name)}</text>"
            f'<text x="{x + slot * 0.3:.1f}" y="{H - PAD_B + 27}" text-anchor="middle" class="tick">'
            f"{s['correct']}/{s['n']}</text>"
        )
    for j, g in enumerate(GRADES):  # legend
        lx = PAD_L + j * 110
        body.append(f'<rect x="{lx}" y="{H - 14}" width="10" height="10" fill="{COLORS[g]}"/>')
        body.append(f'<text x="{lx + 14}" y="{H - 5}" class="tick">{g}</text>')
    return _svg("chart-accuracy", "Answer grades by question type", body)


def recall_chart(retrieval: dict[str, Any] | None) -> str:
    """Page and document recall@k (k = 1, 5, 10, 20) as two lines."""
    body = _axes(1.0, "recall")
    if not retrieval:
        body.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">retrieval not measured</text>')
        return _svg("chart-recall", "Recall@k", body)
    ks = retrieval.get("ks") or [1, 5, 10, 20]
    plot_w = W - PAD_L - PAD_R

    def x_of(i: int) -> float:
        return PAD_L + plot_w * (i + 0.5) / len(ks)

    for i, k in enumerate(ks):
        body.append(f'<text x="{x_of(i):.1f}" y="{H - PAD_B + 14}" text-anchor="middle" class="tick">k={k}</text>')
    for key, color in (("page_recall", "#1565c0"), ("doc_recall", "#6a1b9a")):
        pts = [(x_of(i), _y(float(retrieval.get(f"{key}@{k}", 0.0)), 1.0)) for i, k in enumerate(ks)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        body.append(
            f'<polyline class="line line-{key}" points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
        )
        for (x, y), k in zip(pts, ks, strict=True):
            v = float(retrieval.get(f"{key}@{k}", 0.0))
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"><title>{key}@{k} {v:.3f}</title></circle>'
            )
    body.append(f'<text x="{PAD_L}" y="{H - 8}" class="tick" fill="#1565c0">— page recall@k</text>')
    body.append(f'<text x="{PAD_L + 150}" y="{H - 8}" class="tick" fill="#6a1b9a">— document recall@k</text>')
    return _svg("chart-recall", "Retrieval recall@k", body)


def reliability_chart(bins: Sequence[dict[str, Any]]) -> str:
    """Trust score bins vs the share of their answers graded correct; the diagonal is perfect calibration."""
    body = _axes(1.0, "share graded correct")
    plot_w = W - PAD_L - PAD_R
    n_bins = max(1, len(bins))
    body.append(f'<line x1="{PAD_L}" y1="{_y(0, 1):.1f}" x2="{W - PAD_R}" y2="{_y(1, 1):.1f}" class="diagonal"/>')
    for i, b in enumerate(bins):
        x = PAD_L + plot_w * i / n_bins
        if b["n"]:
            share = b["share_correct"] or 0.0
            y = _y(share, 1.0)
            body.append(
                f'<rect class="bar bar-bin" x="{x + 2:.1f}" y="{y:.1f}" width="{plot_w / n_bins - 4:.1f}" '
                f'height="{_y(0, 1) - y:.1f}" fill="#00838f"><title>trust {b["lo"]:.1f}–{b["hi"]:.1f}: '
                f"{b['correct']}/{b['n']} correct</title></rect>"
            )
            body.append(
                f'<text x="{x + plot_w / n_bins / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="tick">n={b["n"]}'
                "</text>"
            )
        if i % 2 == 0:
            body.append(
                f'<text x="{x:.1f}" y="{H - PAD_B + 14}" text-anchor="middle" class="tick">{b["lo"]:.1f}</text>'
            )
    body.append(f'<text x="{W - PAD_R}" y="{H - PAD_B + 14}" text-anchor="end" class="tick">1.0</text>')
    body.append(f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle" class="tick">trust score (faithfulness)</text>')
    return _svg("chart-reliability", "Trust score reliability", body)


def latency_chart(latencies_ms: Sequence[float], bins: int = 12) -> str:
    """Histogram of ask latency, with the p50 and p95 marked."""
    lat = sorted(latencies_ms)
    hi = lat[-1] if lat else 1.0
    width = (hi / bins) or 1.0
    counts = [0] * bins
    for v in lat:
        counts[min(bins - 1, int(v / width))] += 1
    ticks = min(5, max(1, max(counts)))
    top = -(-max(counts) // ticks) * ticks  # round the axis up to whole questions per tick
    body = _axes(float(top), "questions", ticks=ticks, fmt="{:.0f}")
    plot_w = W - PAD_L - PAD_R
    for i, c in enumerate(counts):
        x = PAD_L + plot_w * i / bins
        y = _y(c, top)
        if c:
            body.append(
                f'<rect class="bar bar-latency" x="{x + 1:.1f}" y="{y:.1f}" width="{plot_w / bins - 2:.1f}" '
                f'height="{_y(0, top) - y:.1f}" fill="#5d4037"><title>{i * width:.0f}–{(i + 1) * width:.0f} ms: {c}'
                "</title></rect>"
            )
        if i % 3 == 0:
            body.append(
                f'<text x="{x:.1f}" y="{H - PAD_B + 14}" text-anchor="middle" class="tick">{i * width:.0f}</text>'
            )
    for q, label in ((0.5, "p50"), (0.95, "p95")):
        if lat:
            v = lat[min(len(lat) - 1, int(q * len(lat)))]
            x = PAD_L + plot_w * min(1.0, v / (width * bins))
            body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_T}" y2="{H - PAD_B}" class="marker"/>')
            anchor, dx = ("end", -3) if x > W - PAD_R - 90 else ("start", 3)  # keep the label inside the chart
            y_text = PAD_T + (12 if label == "p50" else 26)
            body.append(
                f'<text x="{x + dx:.1f}" y="{y_text}" text-anchor="{anchor}" class="tick">{label} {v:.0f} ms</text>'
            )
    body.append(f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle" class="tick">ask latency (ms)</text>')
    return _svg("chart-latency", "Ask latency", body)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px} h2{font-size:17px;margin-top:28px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid #ddd;background:#fff}
.chart .title{font-size:14px;font-weight:600} .chart .tick{font-size:11px;fill:#444}
.chart .grid{stroke:#eee} .chart .diagonal{stroke:#999;stroke-dasharray:4 3} .chart .marker{stroke:#c62828}
table{border-collapse:collapse;font-size:12px;margin-top:8px} td,th{border:1px solid #ddd;padding:4px 6px;
vertical-align:top;text-align:left} th{background:#f5f5f5}
td.answer{max-width:420px;white-space:pre-wrap} .g-correct{color:#2e7d32} .g-incorrect{color:#c62828}
.g-refused{color:#b28704} .g-ungraded{color:#757575}
"""


def _summary_table(report: dict[str, Any]) -> str:
    parts = [("overall", report["overall"]), *((f"type {k}", v) for k, v in report["by_type"].items()),
             *((f"half {k}", v) for k, v in report["by_half"].items())]  # fmt: skip
    tol0, tol1 = report["tolerances"]
    head = (
        "<tr><th>part</th><th>n</th><th>correct</th><th>incorrect</th><th>refused</th><th>ungraded</th>"
        f"<th>numeric exact @{tol0:.0%}</th><th>numeric exact @{tol1:.1%}</th><th>yes/no polarity</th>"
        "<th>p50 ms</th><th>p95 ms</th><th>wrong at trust ≥ 0.9</th></tr>"
    )
    rows = []
    for name, s in parts:
        num, yn = s["numeric"], s["yes_no"]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{s['n']}</td><td>{s['correct']}</td><td>{s['incorrect']}</td>"
            f"<td>{s['refused']}</td><td>{s['ungraded']}</td>"
            f"<td>{num[f'exact@{tol0:.0%}']:.0%} of {num['n']}</td>"
            f"<td>{num[f'exact@{tol1:.1%}']:.0%} of {num['n']}</td>"
            f"<td>{yn['right_polarity']:.0%} of {yn['n']}</td><td>{s['latency_ms_p50']:.0f}</td>"
            f"<td>{s['latency_ms_p95']:.0f}</td><td>{s['wrong_with_trust>=0.9']}</td></tr>"
        )
    return f'<table id="summary">{head}{"".join(rows)}</table>'


def _question_table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "<tr><th>id</th><th>type</th><th>kind</th><th>grade</th><th>reason</th><th>question</th><th>gold</th>"
        "<th>answer</th><th>pipeline</th><th>trust</th><th>ms</th></tr>"
    )
    body = []
    for r in rows:
        trust = "" if r["trust"] is None else f"{r['trust']:.2f}"
        body.append(
            f"<tr><td>{escape(r['id'])}</td><td>{escape(r['question_type'])}</td><td>{escape(r['kind'])}</td>"
            f'<td class="g-{r["grade"]}">{r["grade"]}</td><td>{escape(r["reason"])}</td>'
            f"<td>{escape(r['question'][:300])}</td><td>{escape(r['gold'][:300])}</td>"
            f'<td class="answer">{escape(r["answer"][:600])}</td><td>{escape(r["pipeline"])}</td>'
            f"<td>{trust}</td><td>{r['latency_ms']:.0f}</td></tr>"
        )
    return f'<table id="questions">{head}{"".join(body)}</table>'


def render_html(report: dict[str, Any], title: str = "finrag answer grading") -> str:
    rows = report["questions"]
    charts = [
        accuracy_chart(report["by_type"], report["overall"]),
        recall_chart(report.get("retrieval")),
        reliability_chart(report["reliability"]),
        latency_chart([r["latency_ms"] for r in rows]),
    ]
    judge = report.get("judge") or "none (text answers are ungraded)"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{report['n']} questions; judge: {escape(str(judge))}; tolerances "
        f"{', '.join(f'{t:.1%}' for t in report['tolerances'])} relative.</p>"
        f'<div class="charts">{"".join(charts)}</div>'
        f"<h2>Summary</h2>{_summary_table(report)}<h2>Questions</h2>{_question_table(rows)}</body></html>"
    )
