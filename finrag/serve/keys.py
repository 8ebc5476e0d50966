"""API keys: `frk_` + a random secret, stored only as its sha256; each key belongs to one tenant."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from finrag.db import now_iso, session
from finrag.db.models import ApiKeyRow

KEY_PREFIX = "frk_"
SCOPES = ("query", "ingest", "admin")
DEFAULT_SCOPES = ("query", "ingest")
# Tenants become folder names (uploads, page cache) and cache-key parts: keep them boring.
TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class KeyRequestError(ValueError):
    """A key request we refuse (bad tenant, unknown scope)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from the key on every request."""

    key_id: str
    tenant: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    def allows(self, *any_of: str) -> bool:
        return "admin" in self.scopes or any(s in self.scopes for s in any_of)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    tenant: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.key_id, row.tenant, row.name, row.prefix, row.scopes.split(","), row.created_at, row.revoked_at)


class KeyStore:
    def __init__(self, engine: Engine, cache_s: float = 5.0, max_per_tenant: int | None = None) -> None:
        self.engine = engine
        self.cache_s = cache_s
        self.max_per_tenant = max_per_tenant
        # hash -> (principal or None, expiry): spares a database read per request under load.
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    def create(
        self, tenant: str, name: str, scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES
    ) -> tuple[str, KeyInfo]:
        """Returns (secret, info). The secret is shown once; only its hash is kept."""
        if not TENANT_RE.match(tenant):
            raise KeyRequestError(f"tenant {tenant!r} must be 1-64 characters of a-z, 0-9, '-' or '_'")
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise KeyRequestError(f"unknown scopes {sorted(unknown)}; choose from {list(SCOPES)}")
        name = (name or "unnamed").strip()[:128]
        if self.max_per_tenant is not None:
            live = select(func.count()).select_from(ApiKeyRow)
            live = live.where(ApiKeyRow.tenant == tenant, ApiKeyRow.revoked_at.is_(None))
            with session(self.engine) as s:
                if s.scalar(live) >= self.max_per_tenant:
                    raise KeyRequestError(
                        f"tenant {tenant!r} already has {self.max_per_tenant} live keys, the most allowed "
                        "(FINRAG_SECURITY_MAX_KEYS_PER_TENANT); revoke one first"
                    )
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            key_id="key_" + secrets.token_hex(6),
            tenant=tenant,
            name=name,
            key_hash=hash_key(secret),
            prefix=secret[:10],
            scopes=",".join(s for s in SCOPES if s in scopes),
            created_at=now_iso(),
        )
        with session(self.engine) as s, s.begin():
            s.add(row)
        return secret, _info(row)

    def list(self, tenant: str | None = None, include_revoked: bool = False) -> list[KeyInfo]:
        stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        if tenant is not None:
            stmt = stmt.where(ApiKeyRow.tenant == tenant)
        if not include_revoked:
            stmt = stmt.where(ApiKeyRow.revoked_at.is_(None))
        with session(self.engine) as s:
            return [_info(r) for r in s.scalars(stmt).all()]

    def get(self, key_id: str, tenant: str | None = None) -> KeyInfo | None:
        with session(self.engine) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or (tenant is not None and row.tenant != tenant):
                return None
            return _info(row)

    def revoke(self, key_id: str, tenant: str | None = None) -> bool:
        """Revoke a key (of `tenant` when given). False if there is no such live key."""
        with session(self.engine) as s, s.begin():
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None or (tenant is not None and row.tenant != tenant):
                return False
            row.revoked_at = now_iso()
            digest = row.key_hash
        with self._lock:
            self._cache.pop(digest, None)
        return True

    def verify(self, secret: str) -> Principal | None:
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        digest = hash_key(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        with session(self.engine) as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
            principal = (
                Principal(row.key_id, row.tenant, row.name, frozenset(row.scopes.split(",")))
                if row is not None and row.revoked_at is None
                else None
            )
        if self.cache_s > 0:
            with self._lock:
                if len(self._cache) > 10_000:  # bounded: random wrong keys must not grow memory
                    self._cache.clear()
                self._cache[digest] = (principal, now + self.cache_s)
        return principal
