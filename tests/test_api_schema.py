"""Property-based run of every documented operation (schemathesis): whatever the input, no 5xx.

Bounded (a few examples per operation) to stay quick; raise FINRAG_SCHEMA_EXAMPLES for a longer run."""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")
from hypothesis import HealthCheck, settings  # noqa: E402  (hypothesis comes with schemathesis)
from hypothesis.errors import Unsatisfiable  # noqa: E402

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("FINRAG_SCHEMA_EXAMPLES", "12"))


def fuzz(op, mode, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Up to EXAMPLES generated requests for one operation: never a 5xx, errors in the JSON shape."""
    from hypothesis import given

    @given(case=op.as_strategy(mode, headers=headers))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        where = (mode.value, case.method, case.formatted_path, case.body, case.query)
        assert response.status_code < 500, (*where, response.status_code, response.text[:500])
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            error = response.json()["error"]
            assert error["type"] and error["message"], where

    try:
        run()
    except Unsatisfiable:
        if mode.value != "negative":  # an operation without inputs has no invalid variant
            raise


def test_no_server_errors_on_any_operation(schema_api) -> None:  # type: ignore[no-untyped-def]
    # Plain hypothesis over schemathesis strategies (its pytest plugin does not support this pytest).
    from schemathesis import GenerationMode

    app, key = schema_api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(op, mode, {"Authorization": f"Bearer {key}"})
