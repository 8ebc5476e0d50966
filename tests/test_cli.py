"""The `finrag` command line: every command registered in one place, every entry point through
`load_settings` (a bad variable gives the message naming it, never a traceback)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from finrag.cli import app

COMMANDS = ["ingest", "ask", "documents", "eval", "demo", "keys", "serve", "worker", "updater", "migrate",
            "rerank-server"]  # fmt: skip


def test_every_command_is_registered() -> None:
    out = CliRunner().invoke(app, ["--help"])
    assert out.exit_code == 0, out.output
    for name in COMMANDS:
        assert name in out.output, name
    for group, subs in (("documents", ["list", "show", "delete"]), ("eval", ["financebench", "ablate"]),
                        ("keys", ["create", "list", "revoke"])):  # fmt: skip
        help_out = CliRunner().invoke(app, [group, "--help"])
        assert help_out.exit_code == 0 and all(s in help_out.output for s in subs), help_out.output


@pytest.mark.parametrize(
    "argv",
    [["worker", "--max-jobs", "1"], ["migrate", "upgrade"], ["migrate", "current"], ["updater", "/tmp", "--once"],
     ["serve"], ["rerank-server"], ["ask", "q"], ["documents", "list"], ["keys", "list"]],
)  # fmt: skip
def test_a_bad_variable_gives_the_clear_message(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINRAG_RETRIEVAL_TOP_K", "many")
    monkeypatch.setenv("FINRAG_WORKER_METRICS_PORT", "-3")
    out = CliRunner().invoke(app, argv)
    assert out.exit_code == 2, out.output
    assert "invalid settings" in out.output
    assert "FINRAG_RETRIEVAL_TOP_K" in out.output or "FINRAG_WORKER_METRICS_PORT" in out.output
    assert "Traceback" not in out.output
    assert isinstance(out.exception, SystemExit)  # a clean exit, not an error escaping the command


def test_nested_sections_name_their_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from finrag.settings import SettingsError, load_settings

    for var, value in (("FINRAG_WORKER_METRICS_PORT", "-3"), ("FINRAG_SERVE_MAX_UPLOAD_MB", "0"),
                       ("FINRAG_BUDGET_MONTHLY_USD", "-1"), ("FINRAG_LLM_PROVIDERS", "nope")):  # fmt: skip
        with monkeypatch.context() as m:
            m.setenv(var, value)
            with pytest.raises(SettingsError, match=var):
                load_settings()


def test_settings_module_imports_nothing_of_finrag_above_it() -> None:
    import ast
    from pathlib import Path

    import finrag.settings

    tree = ast.parse(Path(finrag.settings.__file__).read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    runtime = [m for m in imported if m.startswith("finrag")]
    assert runtime == ["finrag.llm.base"]  # only under TYPE_CHECKING (an annotation), checked below
    assert "if TYPE_CHECKING:\n    from finrag.llm.base import Usage" in Path(finrag.settings.__file__).read_text()
