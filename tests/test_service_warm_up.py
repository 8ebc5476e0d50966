"""QAService.warm_up opens what a question needs before the first one, the vector store before the model:
a large shard's open peaks above what it keeps resident, and that peak should not stack on a loaded model
(the 1M-chunk serve figures in docs/performance.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def test_warm_up_opens_registry_store_then_model(service_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = service_factory()
    order: list[str] = []
    for name in ("registry", "store", "embedder"):
        component = getattr(svc.c, name)

        def record(original: Callable[[], None] = component.warm_up, name: str = name) -> None:
            order.append(name)
            original()

        monkeypatch.setattr(component, "warm_up", record)
    svc.warm_up()
    assert order == ["registry", "store", "embedder"]
    assert svc.c.store.count() == 0  # open for real: an empty index answers
    assert svc.c.embedder.embed_query("capital expenditure").shape == (svc.c.embedder.dim,)
