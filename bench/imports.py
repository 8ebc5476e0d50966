"""finrag's import graph, checked against the layer map (docs/architecture.md).

    python bench/imports.py            # print cycles and lower -> higher imports; exit 1 when there are any

Built with `ast` from the source files (nothing is imported). Each `import` of a finrag module is an edge,
classified by where it sits:

* ``module``: at module level (inside ``try``/``if`` too) — runs when the module is imported; these make
  import cycles and are what the layer rule is about;
* ``lazy``: inside a function or method body — runs on call; reported apart (a lazy import that climbs the
  layers is still a dependency on the higher layer, merely deferred);
* ``typing``: under ``if TYPE_CHECKING:`` — never runs; ignored.

A layer may import its own layer and any lower one, never a higher one. `ALLOWED` lists the only
lower -> higher imports accepted, each with its reason (kept to two at most).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "finrag"

# Low -> high. Keys are the first name under finrag/ (a package or a top-level module); anything not
# listed is reported as unmapped, so a new package has to be placed on purpose.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("__init__", "records", "settings", "protocols", "logs")),
    ("finance", ("finance",)),
    (
        "roles",
        (
            "ingest",
            "embed",
            "index",
            "registry",
            "storage",
            "queue",
            "cache",
            "db",
            "llm",
            "observability",
            "sample",
        ),
    ),
    ("retrieve", ("retrieve", "graph")),
    ("answer", ("answer",)),
    ("service", ("service",)),
    (
        "entry",
        ("serve", "cli", "eval", "jobs", "updater", "worker", "rerank_server", "envdoc"),
    ),
]

# (importing module prefix, imported module prefix) -> why it is accepted. At most two.
ALLOWED: dict[tuple[str, str], str] = {}

LAYER_OF: dict[str, int] = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    kind: str  # module | lazy | typing
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path = ROOT) -> Iterator[Path]:
    yield from sorted((root / PACKAGE).rglob("*.py"))


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.module = module
        self.is_package = is_package
        self.known = known
        self.edges: list[Edge] = []
        self._depth = 0  # function nesting
        self._typing = 0  # inside `if TYPE_CHECKING:`

    def _kind(self) -> str:
        return "typing" if self._typing else "lazy" if self._depth else "module"

    def _add(self, target: str, line: int) -> None:
        # The longest known module that `target` names (a.b.c where c is a function -> a.b).
        while target and target not in self.known:
            target = target.rpartition(".")[0]
        edge = Edge(self.module, target, self._kind(), line)
        if target and target != self.module and edge not in self.edges:
            self.edges.append(edge)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
        if name == "TYPE_CHECKING":
            self._typing += 1
            for child in node.body:
                self.visit(child)
            self._typing -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.module.split(".")
            base = base[: len(base) - node.level + (1 if self.is_package else 0)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        if not (prefix == PACKAGE or prefix.startswith(PACKAGE + ".")):
            return
        for alias in node.names:
            full = f"{prefix}.{alias.name}"
            # `from pkg import submodule` depends on the submodule; `from mod import name` on mod.
            self._add(full if full in self.known else prefix, node.lineno)


def import_graph(root: Path = ROOT) -> list[Edge]:
    files = list(source_files(root))
    known = {module_name(f, root) for f in files}
    edges: list[Edge] = []
    for f in files:
        collector = _Collector(module_name(f, root), f.name == "__init__.py", known)
        collector.visit(ast.parse(f.read_text(), str(f)))
        edges += collector.edges
    return edges


def cycles(edges: Iterable[Edge], kinds: tuple[str, ...] = ("module",)) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        if e.kind in kinds:
            graph[e.src].add(e.dst)
            graph.setdefault(e.dst, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def top_name(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(module: str) -> int | None:
    # `python -m pkg` runs pkg/__main__.py: a command-line entry point, whatever package it sits in.
    if module.endswith(".__main__"):
        return LAYER_OF["cli"]
    return LAYER_OF.get(top_name(module))


def unmapped(root: Path = ROOT) -> list[str]:
    names = {top_name(module_name(f, root)) for f in source_files(root)}
    return sorted(n for n in names if n not in LAYER_OF)


def _allowed(e: Edge) -> bool:
    return any(
        (e.src == s or e.src.startswith(s + ".")) and (e.dst == d or e.dst.startswith(d + ".")) for s, d in ALLOWED
    )


def upward(edges: Iterable[Edge], kind: str = "module", include_allowed: bool = False) -> list[Edge]:
    """Imports from a lower layer to a higher one, of one kind (module-level or lazy)."""
    out = []
    for e in edges:
        src, dst = layer(e.src), layer(e.dst)
        climbs = e.kind == kind and src is not None and dst is not None and src < dst
        if climbs and (include_allowed or not _allowed(e)):
            out.append(e)
    return sorted(out, key=lambda e: (e.src, e.dst, e.line))


def _layer_name(module: str) -> str:
    i = layer(module)
    return LAYERS[i][0] if i is not None else "?"


def report(edges: list[Edge], root: Path = ROOT) -> tuple[int, str]:
    lines: list[str] = []
    problems = 0
    missing = unmapped(root)
    if missing:
        problems += len(missing)
        lines.append(f"unmapped top-level names (add them to LAYERS): {', '.join(missing)}")
    for kinds, title in ((("module",), "module-level"), (("module", "lazy"), "module-level + lazy")):
        found = cycles(edges, kinds)
        if kinds == ("module", "lazy"):  # a circle closed by a lazy import is still a circle
            problems += len(found)
        lines.append(f"import cycles ({title}): {len(found)}")
        lines += [f"  {' <-> '.join(c)}" for c in found]
    for kind in ("module", "lazy"):
        found = upward(edges, kind)
        problems += len(found)
        lines.append(f"lower -> higher imports ({kind}): {len(found)}")
        lines += [f"  {e.src}:{e.line} ({_layer_name(e.src)}) -> {e.dst} ({_layer_name(e.dst)})" for e in found]
    accepted = [e for e in upward(edges, "module", True) + upward(edges, "lazy", True) if _allowed(e)]
    lines.append(f"accepted by ALLOWED: {len(accepted)}")
    lines += [f"  {e.src}:{e.line} -> {e.dst} [{e.kind}]" for e in accepted]
    return problems, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root holding finrag/")
    args = parser.parse_args(argv)
    edges = import_graph(args.root)
    problems, text = report(edges, args.root)
    print(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
