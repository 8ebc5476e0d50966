"""Found by the soak (bench/reliability.py --soak): identical questions answered at once raced in the
SQL response cache (merge = SELECT then INSERT: UNIQUE violation; UPDATE after a tenant's entries were
dropped: StaleDataError), and the request failed with a 500 although its answer was ready."""

from __future__ import annotations

import threading
from pathlib import Path

from finrag.serve.cache import SqlCache
from finrag.serve.db import make_engine


def test_concurrent_writes_of_one_key_and_drops_never_raise(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    cache = SqlCache(make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}"))
    cache.check()
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def writer(i: int) -> None:
        start.wait()
        for n in range(40):
            try:
                cache.set(f"k{n % 3}", "acme", {"answer": i, "n": n}, 60)
                if i == 0 and n % 5 == 0:
                    cache.forget_tenant("acme")
            except BaseException as exc:  # what used to reach the request handler
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    # and not by swallowing them: the upsert itself never failed
    assert not [r for r in caplog.records if "cache write failed" in r.getMessage()]
    cache.set("k0", "acme", {"answer": "last"}, 60)
    assert cache.get("k0") == {"answer": "last"}
