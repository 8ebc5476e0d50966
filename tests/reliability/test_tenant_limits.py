"""Issue 15.6: rate limits per tenant as well as per key, and a cap on a tenant's live keys.

Before: each new key brought a fresh per-key window, so a tenant could mint keys for more throughput."""

from __future__ import annotations

from fastapi.testclient import TestClient

from finrag.serve.app import create_app
from finrag.settings import SecuritySettings, ServeSettings


def test_a_tenants_keys_share_one_window_and_other_tenants_are_untouched(service_factory) -> None:  # type: ignore[no-untyped-def]
    svc = service_factory(security=SecuritySettings(tenant_rate_limit_per_minute=5))
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100))
    keys = app.state.finrag.keys
    mine = [keys.create("acme", f"k{i}", ["query"])[0] for i in range(3)]
    other, _ = keys.create("globex", "g", ["query"])
    with TestClient(app) as c:
        codes = [c.get("/v1/documents", headers={"X-API-Key": mine[i % 3]}).status_code for i in range(7)]
        assert codes == [200] * 5 + [429] * 2, codes
        refused = c.get("/v1/documents", headers={"X-API-Key": mine[0]})
        assert "5 requests per minute per tenant" in refused.json()["error"]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert c.get("/v1/documents", headers={"X-API-Key": other}).status_code == 200


def test_live_keys_per_tenant_are_capped(service_factory) -> None:  # type: ignore[no-untyped-def]
    svc = service_factory(security=SecuritySettings(max_keys_per_tenant=3))
    app = create_app(svc.settings, svc)
    admin, _ = app.state.finrag.keys.create("acme", "admin", ["admin"])
    with TestClient(app) as c:
        auth = {"Authorization": f"Bearer {admin}"}
        made = [c.post("/v1/keys", json={"name": f"k{i}"}, headers=auth) for i in range(3)]
        assert [r.status_code for r in made] == [201, 201, 409]
        assert "FINRAG_SECURITY_MAX_KEYS_PER_TENANT" in made[-1].json()["error"]["message"]
        assert c.delete(f"/v1/keys/{made[0].json()['key_id']}", headers=auth).status_code == 200
        assert c.post("/v1/keys", json={"name": "again"}, headers=auth).status_code == 201  # revoked ones free a slot
