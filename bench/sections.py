"""Section-label accuracy: the sections finrag/ingest/sections.py puts on pages against pages labelled by
hand (bench/data/section_labels.tsv: page ids and labels only). The filings are read at run time from
the FinanceBench folder; the form comes from the cover page (CoverPageDescriber), as at ingest.

    python bench/sections.py --pdf-dir ../shared/financebench/pdfs
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from finrag.ingest.describe import CoverPageDescriber
from finrag.ingest.parse import PdfiumParser
from finrag.ingest.sections import label_pages

LABELS = Path(__file__).resolve().parent / "data" / "section_labels.tsv"


def load_labels(path: Path = LABELS) -> dict[str, dict[int, tuple[str, str]]]:
    """doc -> page -> (label, sample)."""
    out: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            doc, page, label, sample = line.split("\t")
            out[doc][int(page)] = (label.strip(), sample.strip())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf-dir", type=Path, required=True)
    ap.add_argument("--labels", type=Path, default=LABELS)
    args = ap.parse_args()
    parser, describer = PdfiumParser(tables=False), CoverPageDescriber()
    total: Counter[str] = Counter()
    primary_ok: Counter[str] = Counter()
    any_ok: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for doc, pages in sorted(load_labels(args.labels).items()):
        parsed = list(parser.parse(args.pdf_dir / f"{doc}.pdf"))
        form = str(describer.describe(parsed, "").doc_type)
        labels = label_pages([p.text for p in parsed], form)
        for page, (truth, sample) in sorted(pages.items()):
            got = labels[page]
            for part in (sample, "all"):
                total[part] += 1
                primary_ok[part] += got.primary == truth
                any_ok[part] += truth in got.keys
            if got.primary != truth:
                confusion[(truth, got.primary)] += 1
                print(f"miss [{sample}] {doc} p{page}: labelled {truth}, got {got.primary} {list(got.keys)}")
    print()
    for part in sorted(total):
        n = total[part]
        print(f"sample {part}: {n} pages, primary section correct {primary_ok[part] / n:.3f} ({primary_ok[part]}/{n}); "
              f"among the page's sections {any_ok[part] / n:.3f} ({any_ok[part]}/{n})")  # fmt: skip
    for (truth, got), n in confusion.most_common():
        print(f"  {truth} -> {got}: {n}")


if __name__ == "__main__":
    main()
