"""What a command imports and opens before it can answer: `finrag --help` and `documents list` never
import a model runtime, the vector store, the web stack or SQLAlchemy; an unchanged re-ingest opens
neither the model nor the store; the LLM SDKs are imported only when a provider has credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finrag.records import DocStatus, DocType, DocumentRecord, Filing
from finrag.registry.sql import SqlRegistry
from finrag.registry.sqlite_read import list_documents, sqlite_path

# Tenths of a second to seconds each to import: model runtimes, the vector store, the web stack, the LLM SDKs.
HEAVY = {
    "torch", "sentence_transformers", "transformers", "onnxruntime", "tokenizers", "qdrant_edge", "fastapi",
    "uvicorn", "starlette", "anthropic", "openai", "pypdfium2", "numpy", "finrag.service", "finrag.answer",
}  # fmt: skip

# Run the CLI as `finrag ARGS` does and write the modules loaded by the end to a file.
_RUN = """
import atexit, json, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["finrag", *args]
from finrag.cli import app
app()
"""


def _modules_after(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    out = tmp_path / "modules.json"
    run_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *args], capture_output=True, text=True, env=run_env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(out.read_text())), proc.stdout


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | {".".join(m.split(".")[:2]) for m in modules}


def test_help_imports_no_heavy_module_nor_the_settings(tmp_path: Path) -> None:
    modules, out = _modules_after(["--help"], tmp_path)
    assert "ingest" in out and "documents" in out
    unwanted = (HEAVY | {"sqlalchemy", "pydantic_settings", "finrag.settings"}) & _top(modules)
    assert not unwanted, sorted(unwanted)


def test_keys_list_imports_no_heavy_module(tmp_path: Path) -> None:
    modules, out = _modules_after(["keys", "list", "--data-dir", str(tmp_path / "data")], tmp_path)
    assert "API keys" in out
    unwanted = HEAVY & _top(modules)
    assert not unwanted, sorted(unwanted)


def _docs() -> list[DocumentRecord]:
    def doc(doc_id: str, tenant: str, name: str, status: DocStatus, company: str, fy: int) -> DocumentRecord:
        filing = Filing(company=company, doc_type=DocType.TEN_K, fiscal_year=fy, aliases=[company.split()[0]])
        return DocumentRecord(doc_id=doc_id, tenant=tenant, name=name, source_path=f"/f/{name}.pdf",
                              content_hash=doc_id * 4, status=status, pages=10, chunks=40, filing=filing)  # fmt: skip

    return [
        doc("b2", "acme", "Zeta_2022_10K", DocStatus.READY, "Zeta Corp", 2022),
        doc("a1", "acme", "Alpha_2023_10K", DocStatus.FAILED, "Alpha Inc", 2023),
        doc("c3", "other", "Beta_2021_10K", DocStatus.READY, "Beta plc", 2021),
    ]


def test_documents_list_reads_sqlite_without_sqlalchemy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    reg = SqlRegistry(f"sqlite:///{data / 'registry.sqlite3'}")
    for d in _docs():
        reg.upsert(d)
    reg.set_status("acme", "a1", DocStatus.FAILED, error="unreadable PDF")
    reg.engine.dispose()

    modules, out = _modules_after(
        ["documents", "list", "--json", "--data-dir", str(data), "--tenant", "acme"], tmp_path
    )
    unwanted = (HEAVY | {"sqlalchemy"}) & _top(modules)
    assert not unwanted, sorted(unwanted)
    listed = json.loads(out)
    assert [d["doc_id"] for d in listed] == ["a1", "b2"]  # this tenant only, by name
    assert listed[0]["status"] == "failed" and listed[0]["error"] == "unreadable PDF"
    assert listed[1]["filing"]["company"] == "Zeta Corp" and listed[1]["filing"]["doc_type"] == "10-K"


def test_the_sqlite_reader_returns_what_the_registry_returns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    path = sqlite_path(url)
    assert path == tmp_path / "registry.sqlite3"
    assert list_documents(path) == []  # no file yet: nothing ingested
    reg = SqlRegistry(url)
    assert list_documents(path) == [] == reg.list()  # tables, no rows
    for d in _docs():
        reg.upsert(d)
    for tenant in (None, "acme", "other", "nobody"):
        for status in (None, DocStatus.READY, DocStatus.FAILED):
            assert list_documents(path, tenant, status) == reg.list(tenant, status), (tenant, status)
    assert sqlite_path("postgresql+psycopg://db/finrag") is None
    assert sqlite_path("sqlite:///:memory:") is None


def test_llm_sdks_are_imported_only_with_credentials() -> None:
    code = """
import sys
from finrag.llm.fallback import build_chain
from finrag.settings import LLMSettings
chain, notes = build_chain(LLMSettings(providers=["anthropic", "openai", "extractive"]), offline=lambda r: None)
print(sorted({"anthropic", "openai"} & set(sys.modules)))
print("|".join(notes))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINRAG_LLM_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    imported, notes = proc.stdout.splitlines()
    assert imported == "[]"
    assert "anthropic skipped: FINRAG_LLM_ANTHROPIC_API_KEY is not set" in notes
    assert "openai skipped: set FINRAG_LLM_OPENAI_API_KEY or FINRAG_LLM_OPENAI_BASE_URL" in notes


@pytest.mark.slow
def test_unchanged_reingest_opens_neither_the_model_nor_the_store(service_factory, sample_dir: Path) -> None:
    from finrag.service import QAService

    first = service_factory()
    assert not first.ingest([sample_dir]).failed
    first.close()

    svc = QAService(first.settings)  # a fresh process's service: nothing loaded yet
    try:
        again = svc.ingest([sample_dir])
        assert again.events and again.count("skipped") == len(again.events)
        assert svc.c.store._shard is None  # type: ignore[attr-defined]
        assert not svc.c.embedder._warm  # type: ignore[attr-defined]
        assert "engine" not in svc.__dict__ and "retriever" not in svc.__dict__
    finally:
        svc.close()
