"""Found by the soak (bench/reliability.py --soak): identical questions answered at once raced in the
response cache (select then insert: a UNIQUE violation) and the request failed with a 500 although its
answer was ready. The embedded cache writes with one atomic upsert; a tenant's clear-out may interleave."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from finrag.cache.disk import DiskCache


def test_concurrent_writes_of_one_key_and_drops_never_raise(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache" / "responses.sqlite3")
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def writer(i: int) -> None:
        start.wait()
        for n in range(40):
            try:
                cache.set("acme", f"k{n % 3}", json.dumps({"answer": i, "n": n}), 60)
                if i == 0 and n % 5 == 0:
                    cache.invalidate_tenant("acme")
            except BaseException as exc:  # what used to reach the request handler
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    # and not by swallowing them: no write failed inside the cache either
    assert cache.healthy() and not cache.status().get("error")
    cache.set("acme", "k0", json.dumps({"answer": "last"}), 60)
    assert json.loads(cache.get("acme", "k0") or "null") == {"answer": "last"}
    cache.close()
