"""Ingest throughput through the job queue with 1 worker vs 2 (or any counts), on the server backends.

Starts a real Postgres (registry) and redis-server (the job queue) from Debian's binaries, then for each
worker count: starts that many `finrag worker` processes, waits until each is up, enqueues one ingest
job per filing and times until every job is done. Prints pages/s and the ratio to the first count.

    python bench/workers.py                                        # the generated sample filings, 1 vs 2
    python bench/workers.py --pdf-dir ../shared/financebench/pdfs --limit 6 --workers 1,2
    python bench/workers.py --qdrant-url http://qdrant:6333        # all workers write to one Qdrant server

The vector store: with --qdrant-url every worker writes to that server (the production layout). No
Qdrant server installs on this machine and the embedded stores (Qdrant edge, qdrant-client's local
mode) are single-process, so without it each worker indexes into its own embedded store in its own
data dir; the index stage is a few per cent of ingest time, so the throughput ratio still says how
the queue, the shared Postgres registry and the embedding work scale with workers on this machine.

Workers sharing a host split its cores: each gets FINRAG_EMBED_THREADS = cores // workers (the rule the
deployment docs give); `--threads-per-worker 0` leaves every worker on all cores, to show why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `tests.servers` importable
    sys.path.insert(0, str(ROOT))

from finrag.ingest.pipeline import discover  # noqa: E402
from finrag.queue import JobStatus, build_queue  # noqa: E402
from finrag.sample.generate import generate_samples  # noqa: E402
from tests.servers import PostgresServer, RedisServer  # noqa: E402

WORKER = "from finrag.cli.worker import worker_command; worker_command()"


def start_workers(n: int, work: Path, env: dict[str, str], per_worker_store: bool) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        data_dir = work / f"w{n}-{i}" if per_worker_store else work / f"w{n}"
        log = (work / f"worker-{n}-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER],
                env={**os.environ, **env, "FINRAG_DATA_DIR": str(data_dir), "FINRAG_LOG_LEVEL": "INFO"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 180
    for i, p in enumerate(procs):
        log_path = work / f"worker-{n}-{i}.log"
        while "worker started" not in log_path.read_text(errors="replace"):
            if p.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {i} did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf-dir", type=Path, default=None, help="filings to ingest (default: the generated samples)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N filings")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare, comma-separated")
    ap.add_argument("--qdrant-url", default="", help="a Qdrant server all workers share")
    ap.add_argument(
        "--threads-per-worker", default="auto", help="embedding threads per worker: auto = cores // workers, 0 = all"
    )
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",") if x.strip()]

    work = Path(tempfile.mkdtemp(prefix="finrag-workers-"))
    if args.pdf_dir is None:
        generate_samples(work / "samples")
        files = discover([work / "samples"])
    else:
        files = discover([args.pdf_dir])
    if args.limit:
        files = files[: args.limit]

    rows: list[tuple[int, int, float, int]] = []
    with contextlib.closing(PostgresServer().start()) as pg, contextlib.closing(RedisServer().start()) as redis:
        env = {
            "HF_HUB_OFFLINE": "1",
            "FINRAG_DATABASE_URL": pg.create_database("finrag_workers"),
            "FINRAG_SERVE_REDIS_URL": redis.url,
        }
        if args.qdrant_url:
            env["FINRAG_QDRANT_URL"] = args.qdrant_url
        queue = build_queue(redis.url)
        cores = os.cpu_count() or 1
        for n in counts:
            threads = max(1, cores // n) if args.threads_per_worker == "auto" else int(args.threads_per_worker)
            procs = start_workers(n, work, {**env, "FINRAG_EMBED_THREADS": str(threads)}, not args.qdrant_url)
            try:
                tenant = f"bench-{n}w"  # a fresh tenant per count: nothing is skipped as already ingested
                t0 = time.perf_counter()
                jobs = [queue.enqueue("ingest", {"tenant": tenant, "path": str(f.resolve())}) for f in files]
                pending = {j.id for j in jobs}
                pages = failed = 0
                while pending:
                    for job_id in list(pending):
                        job = queue.get(job_id)
                        if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                            pending.discard(job_id)
                            pages += int(job.result.get("pages", 0)) if job.status is JobStatus.SUCCEEDED else 0
                            failed += job.status is JobStatus.FAILED
                    time.sleep(0.1)
                wall = time.perf_counter() - t0
            finally:
                stop_workers(procs)
            rows.append((n, pages, wall, failed))
            print(f"{n} worker(s): {len(files)} filings, {pages} pages in {wall:.1f}s")
        queue.close()

    store = "one Qdrant server" if args.qdrant_url else "an embedded store per worker"
    print(f"\n{len(files)} filings, Postgres registry + Redis queue, {store}, {os.cpu_count()} CPUs")
    print(f"embedding threads per worker: {args.threads_per_worker} (auto = cores // workers)")
    print(f"{'workers':>8}{'pages':>8}{'wall s':>9}{'pages/s':>9}{'vs first':>10}{'failed':>8}")
    base = rows[0][1] / rows[0][2] if rows else 0.0
    for n, pages, wall, failed in rows:
        rate = pages / wall if wall else 0.0
        print(f"{n:>8}{pages:>8}{wall:>9.1f}{rate:>9.1f}{rate / base if base else 0:>9.2f}x{failed:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
