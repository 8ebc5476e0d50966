"""examples/*.ipynb: valid nbformat v4, and their code runs offline on the sample filings. The code
cells are run in order as one script (no Jupyter needed); with FINRAG_EXECUTE_NOTEBOOKS=1 and nbclient
+ ipykernel installed, the notebooks also run through a real kernel."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = ["walkthrough.ipynb", "retrieval_ablation.ipynb"]


def load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def code_of(nb: dict[str, Any]) -> list[str]:
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_valid_nbformat_v4(name: str) -> None:
    nb = load(name)
    assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["name"] == "python3"
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds[0] == "markdown" and kinds.count("code") >= 4
    for cell in nb["cells"]:
        assert {"cell_type", "metadata", "source"} <= set(cell)
        if cell["cell_type"] == "code":
            assert "outputs" in cell and "execution_count" in cell
            compile("".join(cell["source"]), name, "exec")  # plain Python: no magics
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))


@pytest.fixture()
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The notebooks make their work folder with tempfile.mkdtemp: keep it under pytest's tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_walkthrough_runs(private_tmp: Path) -> None:
    ns: dict[str, Any] = {"__name__": "__notebook__"}
    for i, source in enumerate(code_of(load("walkthrough.ipynb"))):
        exec(compile(source, f"walkthrough.ipynb cell {i}", "exec"), ns)  # our own notebook
    answer, ratio = ns["answer"], ns["ratio"]
    assert "4,295" in answer.text and answer.citations and answer.citations[0].page == 9
    assert answer.trace["hits"] and answer.trace["route"]["route"] == "easy"
    assert ratio.pipeline == "agentic" and ratio.trace["calculations"] and "26.0%" in ratio.text
    assert ns["report"].count("ingested") == 8 and not ns["report"].failed
    assert str(ns["work"]).startswith(str(private_tmp))


@pytest.mark.slow
def test_retrieval_ablation_runs(private_tmp: Path) -> None:
    from finrag.eval.ablate import ABLATIONS

    ns: dict[str, Any] = {"__name__": "__notebook__"}
    for i, source in enumerate(code_of(load("retrieval_ablation.ipynb"))):
        exec(compile(source, f"retrieval_ablation.ipynb cell {i}", "exec"), ns)
    rows = ns["rows"]
    assert [r["config"] for r in rows] == [name for name, _ in ABLATIONS]
    default = rows[0]
    assert default["n"] == 20 and default["page_recall@5"] >= 0.8 and 0 < default["mrr"] <= 1


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("FINRAG_EXECUTE_NOTEBOOKS") != "1", reason="set FINRAG_EXECUTE_NOTEBOOKS=1")
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_in_a_kernel(name: str, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
