"""The CLI's way in when a running `finrag serve` owns the data folder: its HTTP API on loopback.

The embedded store has one owner process (finrag.index.owner). A read-only CLI command on a served data
folder sends its request to that server, authenticated with FINRAG_SECURITY_API_KEY (a key with the query
scope; the answer is the key's tenant's). Without a key it stops with the owner's PID and port and opens
nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from finrag.index.owner import Holder, StoreLockedError, current_holder
from finrag.records import Answer, Citation
from finrag.settings import Settings


class RemoteError(RuntimeError):
    """The server could not be asked (no key, refused, an error status); the message says why."""


def embedded_owner(settings: Settings) -> Holder | None:
    """The other process owning this data folder's embedded store, if any (never for a Qdrant server)."""
    if settings.qdrant_url:
        return None
    return current_holder(settings.vector_dir)


def ask_server(
    settings: Settings, holder: Holder, question: str, top_k: int, mode: str | None, timeout_s: float = 300.0
) -> Answer:
    """POST /v1/query on the owner's port; the response turned back into an Answer."""
    locked = StoreLockedError(settings.data_dir, holder)
    if not holder.port:
        raise RemoteError(str(locked))
    key = settings.security.api_key
    if key is None:
        raise RemoteError(f"{locked}: set FINRAG_SECURITY_API_KEY to a query key to ask it through its API")
    body = {"question": question, "top_k": top_k, **({"mode": mode} if mode else {})}
    request = urllib.request.Request(
        f"http://127.0.0.1:{holder.port}/v1/query",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key.get_secret_value()}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = exc.reason
        raise RemoteError(f"the server ({holder.describe()}) answered {exc.code}: {message}") from None
    except OSError as exc:
        raise RemoteError(f"{locked}; its API did not answer: {exc}") from None
    return Answer(
        question=data["question"],
        text=data["answer"],
        citations=[Citation.model_validate(c) for c in data.get("citations", [])],
        pipeline=data.get("pipeline", ""),
        scope=data.get("scope") or {},
        faithfulness=data.get("faithfulness"),
        unsupported_figures=data.get("unsupported_figures", []),
        usage=data.get("usage", {}),
        cost_usd=data.get("cost_usd", 0.0),
        timings_ms=data.get("timings_ms", {}),
        trace=data.get("trace", {}),
        notes=[*data.get("notes", []), f"answered by the server that owns the data folder ({holder.describe()})"],
    )
