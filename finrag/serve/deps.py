"""FastAPI dependencies: the app state, and API-key authentication with scopes and rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from finrag.serve.errors import ApiError
from finrag.serve.keys import Principal
from finrag.serve.state import ServeState


def get_state(request: Request) -> ServeState:
    return request.app.state.finrag


StateDep = Annotated[ServeState, Depends(get_state)]


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return credential.strip()
    return request.headers.get("x-api-key") or None


async def authenticate(request: Request, state: StateDep) -> Principal:
    secret = presented_key(request)
    if not secret:
        raise ApiError(
            401,
            "unauthorized",
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            {"WWW-Authenticate": "Bearer"},
        )
    principal = await run_in_threadpool(state.keys.verify, secret)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
    request.state.tenant = principal.tenant
    request.state.key_id = principal.key_id
    return principal


def require(*scopes: str) -> Callable[..., AsyncIterator[Principal]]:
    """A dependency admitting keys with any of `scopes` (admin keys pass everywhere), within their
    rate limit; the concurrency slot is held until the response (streams included) has been sent."""

    async def dependency(
        state: StateDep, principal: Annotated[Principal, Depends(authenticate)]
    ) -> AsyncIterator[Principal]:
        if not principal.allows(*scopes):
            raise ApiError(403, "forbidden", f"this key lacks the scope this route needs ({' or '.join(scopes)})")
        limiter = state.limiter
        refused = (
            limiter.hit(principal.key_id, principal.tenant)
            if not limiter.redis_url
            else await run_in_threadpool(limiter.hit, principal.key_id, principal.tenant)  # Redis: network I/O
        )
        if refused is not None:
            wait = int(refused.retry_after)
            raise ApiError(
                429,
                "rate_limited",
                f"rate limit of {refused.per_minute} requests per minute per {refused.window} exceeded; "
                f"retry in {wait} s",
                {"Retry-After": str(wait)},
            )
        if not limiter.acquire(principal.key_id):
            raise ApiError(
                429,
                "too_many_concurrent_requests",
                f"at most {limiter.max_concurrent} requests of one key may run at once",
                {"Retry-After": "1"},
            )
        try:
            yield principal
        finally:
            limiter.release(principal.key_id)

    return dependency


QueryKey = Annotated[Principal, Depends(require("query"))]
IngestKey = Annotated[Principal, Depends(require("ingest"))]
ReadKey = Annotated[Principal, Depends(require("query", "ingest"))]
AdminKey = Annotated[Principal, Depends(require("admin"))]
