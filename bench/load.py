"""Loopback load benchmark of the HTTP API: starts `finrag serve` on 127.0.0.1 in a subprocess on a
fresh data dir, uploads the generated sample filings through the API, then runs two bounded phases
with N concurrent httpx clients: `cached` (a few golden questions, all cache hits after the first
round) and `uncached` (every question unique, so each one retrieves and answers). Prints throughput,
p50/p95/p99 latency and errors per phase. The client shares the machine with the server: on small
machines the numbers are a floor.

    python bench/load.py                                  # 20 s per phase, 16 clients
    python bench/load.py --duration 30 --concurrency 32 --json load.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from finrag.db import open_database
from finrag.sample.generate import generate_samples
from finrag.serve.keys import KeyStore
from finrag.serve.testing import free_port
from finrag.settings import Settings


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def start_server(
    data_dir: Path, port: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **(extra_env or {}),
        "HF_HUB_OFFLINE": "1",
        "FINRAG_LOG_LEVEL": "WARNING",  # access logs would cost the server time we want to measure
        # The benchmark measures the service, not the limiter: lift per-key limits out of the way.
        "FINRAG_SERVE_RATE_LIMIT_PER_MINUTE": "10000000",
        "FINRAG_SERVE_MAX_CONCURRENT_PER_KEY": "10000",
    }
    code = (
        "import sys; from pathlib import Path; from finrag.cli.serve import serve_command; "
        f"serve_command(host='127.0.0.1', port={port}, data_dir=Path({str(data_dir)!r}))"
    )
    log = log_path.open("wb")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def upload_samples(base: str, key: str, sample_dir: Path) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        jobs = []
        for pdf in sorted(sample_dir.glob("*.pdf")):
            r = http.post("/v1/documents", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")})
            r.raise_for_status()
            jobs.append(r.json())
        pages = 0
        for job in jobs:
            while job["status"] in ("queued", "running"):
                time.sleep(0.2)
                job = http.get(job["url"]).json()
            if job["status"] != "succeeded":
                raise SystemExit(f"ingest failed: {job}")
            pages += job["pages"]
    return pages


async def phase(base: str, key: str, questions: list[str], unique: bool, duration: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    cached = 0
    counter = 0
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(http: httpx.AsyncClient, worker: int) -> None:
        nonlocal cached, counter
        rng = random.Random(worker)
        while time.monotonic() < stop_at:
            counter += 1
            q = rng.choice(questions)
            if unique:  # a new cache key every time, still a sensible question
                q = f"{q} (request {counter}-{worker})"
            t0 = time.perf_counter()
            try:
                r = await http.post("/v1/query", json={"question": q})
                ok = r.status_code == 200
                if ok and r.json().get("cached"):
                    cached += 1
                if not ok:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            if ok:
                latencies.append(time.perf_counter() - t0)

    t_start = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60, limits=limits
    ) as http:
        await asyncio.gather(*(client_loop(http, i) for i in range(concurrency)))
    wall = time.monotonic() - t_start
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "cached_fraction": round(cached / len(latencies), 3) if latencies else 0.0,
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "wall_s": round(wall, 1),
    }


PHASES = ("cached", "cached, 1 client", "uncached")


def run_backend(name: str, work: Path, env: dict[str, str], duration: float, concurrency: int) -> dict:
    """Start one API process on these backends, ingest the samples through it, run the phases."""
    data_dir, sample_dir = work / name / "data", work / "samples"
    questions = [json.loads(line)["question"] for line in (sample_dir / "golden.jsonl").read_text().splitlines()]
    settings = Settings(data_dir=data_dir, database_url=env.get("FINRAG_DATABASE_URL", ""))
    key, _ = KeyStore(open_database(settings.sqlite_url)).create("bench", "load")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(data_dir, port, work / f"{name}-server.log", env)
    try:
        wait_ready(base, proc)
        t0 = time.monotonic()
        pages = upload_samples(base, key, sample_dir)
        print(f"[{name}] ingested {pages} pages through the API in {time.monotonic() - t0:.1f}s")
        # Warm the cache with every question once (and every code path), outside the measurement.
        asyncio.run(phase(base, key, questions, unique=False, duration=2, concurrency=min(4, concurrency)))
        return {
            "cached": asyncio.run(phase(base, key, questions, False, duration, concurrency)),
            "cached, 1 client": asyncio.run(phase(base, key, questions, False, min(duration, 10.0), 1)),
            "uncached": asyncio.run(phase(base, key, questions, True, duration, concurrency)),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per phase (bounded: 5-60)")
    ap.add_argument("--concurrency", type=int, default=16, help="concurrent clients (1-64)")
    ap.add_argument("--backends", default="embedded", help="comma-separated: embedded, pg-redis, servers")
    ap.add_argument("--qdrant-url", default=":memory:", help="Qdrant for the servers backend (default: local mode)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = ap.parse_args()
    duration = min(max(args.duration, 5.0), 60.0)
    concurrency = min(max(args.concurrency, 1), 64)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"embedded", "pg-redis", "servers"}
    if unknown:
        raise SystemExit(f"unknown backend(s): {', '.join(sorted(unknown))} (embedded, pg-redis, servers)")

    work = Path(tempfile.mkdtemp(prefix="finrag-load-"))
    generate_samples(work / "samples")
    results: dict = {"config": {"duration_s": duration, "concurrency": concurrency, "cpus": os.cpu_count()}}
    with contextlib.ExitStack() as stack:
        for name in backends:
            env: dict[str, str] = {}
            if name != "embedded":
                # Real servers from Debian's packages, started as the integration tests start them.
                root = str(Path(__file__).resolve().parents[1])
                if root not in sys.path:  # run as a script: make `tests.servers` importable
                    sys.path.insert(0, root)
                from tests.servers import PostgresServer, RedisServer

                pg = stack.enter_context(contextlib.closing(PostgresServer().start()))
                redis = stack.enter_context(contextlib.closing(RedisServer().start()))
                env = {
                    "FINRAG_DATABASE_URL": pg.create_database("finrag_load"),
                    "FINRAG_SERVE_REDIS_URL": redis.url,
                }
                if name == "servers":
                    env["FINRAG_QDRANT_URL"] = args.qdrant_url
            results[name] = run_backend(name, work, env, duration, concurrency)

    print(f"\n{concurrency} clients, {duration:.0f} s per phase, {os.cpu_count()} CPUs (client and server share them)")
    header = f"{'backend':<10}{'phase':<18}{'requests':>9}{'rps':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    print(header + f"{'errors':>7}{'cached':>7}{'p50 vs embedded':>17}")
    for name in backends:
        for ph in PHASES:
            r = results[name][ph]
            ratio = ""
            if name != "embedded" and "embedded" in results:
                ratio = f"{r['p50_ms'] / results['embedded'][ph]['p50_ms']:.2f}x"
            print(
                f"{name:<10}{ph:<18}{r['requests']:>9}{r['throughput_rps']:>8}{r['p50_ms']:>8}{r['p95_ms']:>8}"
                f"{r['p99_ms']:>8}{r['errors']:>7}{r['cached_fraction']:>7}{ratio:>17}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"data kept in {work}")


if __name__ == "__main__":
    main()
