"""`finrag ask QUESTION`"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from finrag.cli.common import DataDir, Tenant, err, print_answer, service, settings_or_exit

if TYPE_CHECKING:
    from finrag.records import Answer
    from finrag.settings import Settings


def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="include the retrieval trace")] = False,
    mode: Annotated[
        str, typer.Option("--mode", help="auto, easy, agentic, vision or long_context (FINRAG_ANSWER_MODE)")
    ] = "",
) -> None:
    """Answer a question from the indexed filings, with citations."""
    from finrag.service import QuestionError

    settings = settings_or_exit(data_dir, tenant=tenant)
    answer = _ask_owner(settings, question, top_k, mode)
    if answer is None:
        svc = service(settings)
        try:
            answer = svc.ask(question, top_k=top_k, mode=mode or None)
        except (QuestionError, ValueError) as exc:  # ValueError: an unknown --mode
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        finally:
            svc.close()
    if as_json:
        data = answer.model_dump()
        if not trace:
            data.pop("trace", None)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    print_answer(answer, trace)


def _ask_owner(settings: Settings, question: str, top_k: int, mode: str) -> Answer | None:
    """When a server owns the data folder: its answer through its API, or a clear stop. None otherwise."""
    from finrag.serve.remote import RemoteError, ask_server, embedded_owner

    holder = embedded_owner(settings)
    if holder is None:
        return None
    try:
        return ask_server(settings, holder, question, top_k, mode or None)
    except RemoteError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from None
