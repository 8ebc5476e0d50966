"""finrag's import graph follows the layer map (bench/imports.py, documented in docs/architecture.md): no
import cycles, no import from a lower layer to a higher one beyond the short, justified allow-list. The
checker itself is tested on a small tree written here."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bench import imports as ig


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_checker_classifies_imports_and_finds_cycles(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "finrag/__init__.py": "",
            "finrag/records.py": "from finrag.retrieve import search\n",  # core -> retrieve: upward
            "finrag/retrieve/__init__.py": "from .scope import resolve\n\ndef search(): ...\n",
            "finrag/retrieve/scope.py": """
                from typing import TYPE_CHECKING
                from finrag import records
                if TYPE_CHECKING:
                    from finrag.answer import engine
                def resolve():
                    from finrag.answer.engine import run  # lazy, upward
                    return run
            """,
            "finrag/answer/__init__.py": "",
            "finrag/answer/engine.py": "import finrag.retrieve.scope\n\ndef run(): ...\n",
        },
    )
    edges = ig.import_graph(root)
    got = {(e.src, e.dst, e.kind) for e in edges}
    assert ("finrag.retrieve", "finrag.retrieve.scope", "module") in got  # relative import in a package
    assert ("finrag.retrieve.scope", "finrag.records", "module") in got  # `from finrag import records`
    assert ("finrag.retrieve.scope", "finrag.answer.engine", "typing") in got
    assert ("finrag.retrieve.scope", "finrag.answer.engine", "lazy") in got
    assert ("finrag.answer.engine", "finrag.retrieve.scope", "module") in got
    assert ig.cycles(edges, ("module",)) == [["finrag.records", "finrag.retrieve", "finrag.retrieve.scope"]]
    # The lazy import closes a second loop through the same modules: one strongly connected component.
    lazy_cycles = ig.cycles(edges, ("module", "lazy"))
    assert lazy_cycles == [["finrag.answer.engine", "finrag.records", "finrag.retrieve", "finrag.retrieve.scope"]]
    assert [(e.src, e.dst) for e in ig.upward(edges, "module")] == [("finrag.records", "finrag.retrieve")]
    assert [(e.src, e.dst) for e in ig.upward(edges, "lazy")] == [("finrag.retrieve.scope", "finrag.answer.engine")]
    assert ig.unmapped(root) == []
    _tree(root, {"finrag/gadgets.py": ""})
    assert ig.unmapped(root) == ["gadgets"]
    problems, text = ig.report(ig.import_graph(root), root)
    assert problems == 4 and "gadgets" in text  # unmapped + 1 cycle (lazy edges included) + 2 upward


def test_every_package_has_a_layer() -> None:
    assert ig.unmapped() == []


def test_allow_list_is_short_justified_and_in_use() -> None:
    assert len(ig.ALLOWED) <= 2
    edges = ig.import_graph()
    used = ig.upward(edges, "module", include_allowed=True) + ig.upward(edges, "lazy", include_allowed=True)
    for (src, dst), reason in ig.ALLOWED.items():
        assert len(reason) > 20, (src, dst)
        assert any(e.src.startswith(src) and e.dst.startswith(dst) for e in used), f"stale entry {src} -> {dst}"


def test_no_import_cycles() -> None:
    edges = ig.import_graph()
    found = ig.cycles(edges, ("module",))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
    # A circle closed by an import inside a function still ties the modules together.
    found = ig.cycles(edges, ("module", "lazy"))
    assert not found, "import cycles through lazy imports:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    edges = ig.import_graph()
    found = ig.upward(edges, "module") + ig.upward(edges, "lazy")
    assert not found, "lower -> higher imports (see bench/imports.py LAYERS):\n" + "\n".join(
        f"{e.src}:{e.line} -> {e.dst} [{e.kind}]" for e in found
    )
