"""API keys of the caller's tenant (admin scope). Keys of other tenants are invisible."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from finrag.serve.deps import AdminKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, NOT_FOUND, TOO_LARGE, ApiError, ErrorResponse, not_found
from finrag.serve.keys import KeyInfo, KeyRequestError
from finrag.serve.schemas import Deleted, KeyCreate, KeyCreated, KeyList, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


def key_out(info: KeyInfo) -> KeyOut:
    return KeyOut(
        key_id=info.key_id,
        tenant=info.tenant,
        name=info.name,
        prefix=info.prefix,
        scopes=info.scopes,
        created_at=info.created_at,
        revoked_at=info.revoked_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create a key (secret shown once)",
    responses={
        **ERROR_RESPONSES,
        **TOO_LARGE,
        409: {"model": ErrorResponse, "description": "the tenant has the most keys allowed"},
    },
)
async def create_key(body: KeyCreate, state: StateDep, who: AdminKey) -> KeyCreated:
    try:
        secret, info = await run_in_threadpool(state.keys.create, who.tenant, body.name, list(body.scopes))
    except KeyRequestError as exc:  # e.g. the tenant's cap on live keys
        raise ApiError(409, "key_limit", str(exc)) from None
    return KeyCreated(**key_out(info).model_dump(), key=secret)


@router.get("", response_model=KeyList, summary="Live keys of this tenant", responses=ERROR_RESPONSES)
async def list_keys(state: StateDep, who: AdminKey) -> KeyList:
    return KeyList(keys=[key_out(k) for k in await run_in_threadpool(state.keys.list, who.tenant)])


@router.delete("/{key_id}", response_model=Deleted, summary="Revoke a key", responses={**ERROR_RESPONSES, **NOT_FOUND})
async def revoke_key(key_id: Annotated[str, PathParam(max_length=64)], state: StateDep, who: AdminKey) -> Deleted:
    if not await run_in_threadpool(state.keys.revoke, key_id, who.tenant):
        raise not_found(f"key {key_id!r}")
    return Deleted(deleted=True, id=key_id)
