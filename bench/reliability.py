"""The red team's fault set, end to end on the real embedded stack, and a bounded soak.

A real `finrag serve` process (embedded Qdrant + SQLite, the packaged MiniLM) on loopback, a fresh data
folder with the sample filings; every request goes over HTTP.

    .venv/bin/python bench/reliability.py                 # fault set: one table
    .venv/bin/python bench/reliability.py --soak 600      # + 8 clients of mixed ingest/query/delete

Faults: a second process on the served folder (read-only and writing CLI commands), a 200 MB claimed body
without a key and with one, an oversized upload, a non-PDF, a corrupt PDF, two different files under
names that sanitise alike, the same bytes twice, an injected filing, bad inputs (malformed JSON, wrong
types, unknown fields, odd ids), a kill -9 of the server in the middle of an ingest and a restart. After
all of it: documents lost (every accepted, undeleted filing READY), 5xx responses, and whether the index
is healthy (readyz ok incl. store writes, a query cites, an upload and a delete work)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOG = Path(tempfile.gettempdir()) / "finrag-reliability-server.log"  # kept after the run
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINRAG_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", FINRAG_DATA_DIR=str(data_dir), **extra)
    if "FINRAG_CACHE_DIR" in os.environ:
        env["FINRAG_CACHE_DIR"] = os.environ["FINRAG_CACHE_DIR"]
    return env


def cli(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finrag.cli", *args],
        env=env_for(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )


@dataclass
class Tally:
    requests: int = 0
    status: Counter[int] = field(default_factory=Counter)
    faults: list[tuple[str, bool, str]] = field(default_factory=list)  # (fault, held, detail)
    bad_inputs: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, name: str, held: bool, detail: str = "") -> None:
        self.faults.append((name, held, detail))
        print(f"  {'ok  ' if held else 'FAIL'} {name} {detail}", file=sys.stderr)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.status.items() if s >= 500)


class Server:
    def __init__(self, data_dir: Path, key: str = "") -> None:
        self.data_dir = data_dir
        self.key = key
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        self.port = free_port()
        log = LOG.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "finrag.cli", "serve", "--port", str(self.port)],
            env=env_for(self.data_dir, FINRAG_SERVE_RATE_LIMIT_PER_MINUTE="100000",
                        FINRAG_SECURITY_TENANT_RATE_LIMIT_PER_MINUTE="100000",
                        FINRAG_SERVE_MAX_CONCURRENT_PER_KEY="64", FINRAG_SERVE_MAX_UPLOAD_MB="5"),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {LOG}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("server did not become ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def call(
        self,
        tally: Tally,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        timeout: float = 300,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None and raw is None else {}
        h.update(headers or {})
        if auth and self.key:
            h["Authorization"] = f"Bearer {self.key}"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=h)
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        elapsed = time.perf_counter() - t0
        with tally.lock:
            tally.requests += 1
            tally.status[status] += 1
            tally.latencies.append(elapsed)
        try:
            return status, json.loads(payload) if payload[:1] in (b"{", b"[") else payload
        except ValueError:
            return status, payload

    def upload(self, tally: Tally, name: str, data: bytes) -> tuple[int, Any]:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call(
            tally,
            "POST",
            "/v1/documents",
            raw=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def wait_job(self, tally: Tally, job_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, job = self.call(tally, "GET", f"/v1/jobs/{job_id}")
            if status == 200 and job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.5)
        raise TimeoutError(job_id)


def claimed_huge_body(
    port: int,
    headers: dict[str, str],
    path: str = "/v1/query",
    length: int = 200 * 2**20,
    ctype: str = "application/json",
) -> tuple[int, float]:
    """Headers claiming a huge body, then 1 MB of it: the answer must come without the rest being read
    (a plain client still sending would see the connection reset instead of the early answer)."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Type: {ctype}", f"Content-Length: {length}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        with contextlib.suppress(OSError):  # it may answer and close before taking it all
            s.sendall(b'{"question": "' + b"a" * 2**20)
        data = s.recv(4096)
    return int(data.split(b" ", 2)[1]), time.perf_counter() - t0


BAD_INPUTS: list[tuple[str, str, Any]] = [
    ("POST", "/v1/query", {}),
    ("POST", "/v1/query", {"question": ""}),
    ("POST", "/v1/query", {"question": 42}),
    ("POST", "/v1/query", {"question": None}),
    ("POST", "/v1/query", {"question": ["a"]}),
    ("POST", "/v1/query", {"question": "x" * 5000}),
    ("POST", "/v1/query", {"question": "revenue?", "top_k": 0}),
    ("POST", "/v1/query", {"question": "revenue?", "top_k": 10_000}),
    ("POST", "/v1/query", {"question": "revenue?", "top_k": "many"}),
    ("POST", "/v1/query", {"question": "revenue?", "mode": "telepathy"}),
    ("POST", "/v1/query", {"question": "revenue?", "filters": {"fiscal_years": ["soon"]}}),
    ("POST", "/v1/query", {"question": "revenue?", "filters": "acme"}),
    ("POST", "/v1/query", {"question": "revenue?", "unknown": 1}),
    ("POST", "/v1/query", {"question": "\x00\x01\x02"}),
    ("POST", "/v1/query", {"question": "\ud800"}),
    ("POST", "/v1/query", "just a string"),
    ("POST", "/v1/query", [1, 2, 3]),
    ("POST", "/v1/feedback", {"answer_id": "nope", "rating": "up"}),
    ("POST", "/v1/feedback", {"answer_id": "", "rating": "sideways"}),
    ("POST", "/v1/chat/completions", {"model": "finrag", "messages": []}),
    ("POST", "/v1/chat/completions", {"model": "finrag", "messages": [{"role": "wizard", "content": 1}]}),
    ("POST", "/v1/chat/completions", {"messages": "hello"}),
    ("POST", "/v1/keys", {"name": ""}),
    ("POST", "/v1/keys", {"name": "x", "scopes": ["root"]}),
    ("GET", "/v1/documents/" + "a" * 300, None),
    ("GET", "/v1/documents/..%2F..%2Fetc%2Fpasswd", None),
    ("GET", "/v1/documents/%00", None),
    ("GET", "/v1/documents/nope/pages/0.png", None),
    ("GET", "/v1/documents/nope/pages/999999999.png", None),
    ("GET", "/v1/jobs/job_nope", None),
    ("GET", "/v1/jobs?limit=-1", None),
    ("GET", "/v1/answers/ans_nope", None),
    ("DELETE", "/v1/documents/nope", None),
    ("DELETE", "/v1/keys/key_nope", None),
]


def fault_set(work: Path, samples: Path) -> tuple[Tally, dict[str, Any], Server, set[str]]:
    from finrag.sample.generate import generate_samples

    generate_samples(samples)
    pdfs = sorted(samples.glob("*.pdf"))
    data_dir = work / "data"
    tally = Tally()
    made = cli(data_dir, "keys", "create", "--tenant", "default", "--name", "bench", "--admin")
    assert made.returncode == 0, made.stderr
    srv = Server(data_dir, made.stdout.strip())
    srv.start()
    try:
        return _faults(srv, tally, work, data_dir, pdfs)
    except BaseException:
        srv.stop()
        raise


def _faults(
    srv: Server, tally: Tally, work: Path, data_dir: Path, pdfs: list[Path]
) -> tuple[Tally, dict[str, Any], Server, set[str]]:
    from tests.reliability.injection_set import write_filing

    kept: set[str] = set()  # doc ids that must survive

    print("faults:", file=sys.stderr)
    # Ingest the sample filings through the API.
    for pdf in pdfs[:6]:
        status, job = srv.upload(tally, pdf.name, pdf.read_bytes())
        job = srv.wait_job(tally, job["job_id"])
        if job["status"] == "succeeded":
            kept.add(job["doc_id"])

    # 1. A second process on the served data folder.
    store = data_dir / "qdrant"
    before = sorted((p.name, p.stat().st_size) for p in store.rglob("*") if p.is_file())
    ask = cli(data_dir, "ask", "What was total revenue?")
    ing = cli(data_dir, "ingest", str(pdfs[-1]))
    after = sorted((p.name, p.stat().st_size) for p in store.rglob("*") if p.is_file())
    refused = ask.returncode == 3 and ing.returncode == 3 and "served by PID" in " ".join(ask.stderr.split())
    tally.fault("second process refused, store untouched", refused and before == after)
    via = cli(data_dir, "ask", "What was total revenue?", FINRAG_SECURITY_API_KEY=srv.key)
    tally.fault("read-only CLI answered through the API", via.returncode == 0 and "A:" in via.stdout)

    # 2. Bodies: 200 MB claimed, no key / with a key; an oversized upload.
    status, secs = claimed_huge_body(srv.port, {})
    tally.fault("200 MB body, no key -> 401 before reading", status == 401 and secs < 3, f"({secs:.2f}s)")
    status, secs = claimed_huge_body(srv.port, {"Authorization": f"Bearer {srv.key}"})
    tally.fault("200 MB body, with key -> 413", status == 413 and secs < 3, f"({secs:.2f}s)")
    status, _ = claimed_huge_body(
        srv.port, {"Authorization": f"Bearer {srv.key}"}, "/v1/documents", 7 * 2**20, "multipart/form-data; boundary=x"
    )
    tally.fault("oversized upload -> 413, no partial file", status == 413 and not list(data_dir.rglob("*.part")))
    tally.requests += 3
    tally.status[401] += 1
    tally.status[413] += 2

    # 3. Bad files.
    status, _ = srv.upload(tally, "zip.pdf", b"PK\x03\x04 not a pdf")
    tally.fault("non-PDF -> 415", status == 415)
    status, job = srv.upload(tally, "broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 300)
    job = srv.wait_job(tally, job["job_id"])
    tally.fault("corrupt PDF -> failed job, reason without server paths", job["status"] == "failed"
                and str(data_dir) not in job["reason"], job["reason"][:60])  # fmt: skip

    # 4. Name collisions and the same bytes twice.
    a, b = pdfs[6].read_bytes(), pdfs[7].read_bytes()
    jobs = [srv.upload(tally, "📈.pdf", a)[1], srv.upload(tally, "💰.pdf", b)[1]]
    done = [srv.wait_job(tally, j["job_id"]) for j in jobs]
    kept.update(j["doc_id"] for j in done if j["status"] == "succeeded")
    tally.fault("same-sanitised names: both kept", all(j["status"] == "succeeded" for j in done)
                and done[0]["doc_id"] != done[1]["doc_id"])  # fmt: skip
    again = srv.wait_job(tally, srv.upload(tally, "again.pdf", a)[1]["job_id"])
    tally.fault("same bytes twice: idempotent", again["reason"].startswith("unchanged"))

    # 5. An injected filing (offline answers: the guard's trace shows what it withheld).
    inj = write_filing(work)
    job = srv.wait_job(tally, srv.upload(tally, inj.name, inj.read_bytes())[1]["job_id"])
    kept.add(job["doc_id"])
    status, ans = srv.call(tally, "POST", "/v1/query", {"question": "What was the revenue of the Birchmont segment?",
                                                        "debug": True})  # fmt: skip
    tally.fault("injected sentence withheld from sources", status == 200 and "$901 billion" not in ans["answer"]
                and bool(ans["trace"].get("guard")))  # fmt: skip

    # 6. Bad inputs: never a 5xx.
    before_5xx = tally.server_errors
    for method, path, body in BAD_INPUTS:
        srv.call(tally, method, path, body)
        tally.bad_inputs += 1
    srv.call(tally, "POST", "/v1/query", raw=b'{"question": "unterminated')
    srv.call(tally, "POST", "/v1/query", raw=b"\xff\xfe garbage")
    tally.bad_inputs += 2
    tally.fault("bad inputs: no 5xx", tally.server_errors == before_5xx, f"({tally.bad_inputs} inputs)")

    # 7. kill -9 the server in the middle of an ingest, restart: the job is redone, nothing lost.
    victim = pdfs[-1]
    status, job = srv.upload(tally, "midflight.pdf", victim.read_bytes())
    time.sleep(1.0)
    srv.stop(signal.SIGKILL)
    srv.start()
    job = srv.wait_job(tally, job["job_id"])
    kept.add(job["doc_id"])
    tally.fault("kill -9 mid-ingest: job redone after restart", job["status"] == "succeeded")

    # 8. Queries and deletes racing an ingest.
    status, extra = srv.upload(tally, "race.pdf", pdfs[0].read_bytes() + b"\n%race")
    for _ in range(5):
        srv.call(tally, "POST", "/v1/query", {"question": "What was Bluefin Foods' revenue in fiscal 2023?"})
    race = srv.wait_job(tally, extra["job_id"])
    status, _ = srv.call(tally, "DELETE", f"/v1/documents/{race['doc_id']}")
    tally.fault("delete after a racing ingest", status == 200)

    health = index_health(srv, tally, kept)
    return tally, health, srv, kept


def index_health(srv: Server, tally: Tally, kept: set[str]) -> dict[str, Any]:
    status, docs = srv.call(tally, "GET", "/v1/documents")
    ready = {d["doc_id"] for d in docs["documents"] if d["status"] == "ready"}
    lost = sorted(kept - ready)
    status, readyz = srv.call(tally, "GET", "/readyz", auth=False)
    _, ans = srv.call(tally, "POST", "/v1/query", {"question": "What was Cedar Ridge Energy's revenue in fiscal 2023?"})
    healthy = (
        status == 200
        and readyz["status"] in ("ok", "degraded")
        and readyz["checks"]["store_writes"]["ok"]
        and bool(ans.get("citations"))
    )
    return {"documents_lost": len(lost), "lost": lost, "healthy": healthy, "documents": len(ready)}


def soak(srv: Server, tally: Tally, samples: Path, seconds: float, clients: int = 8) -> dict[str, Any]:
    """Clients mixing queries (most), uploads of fresh variants of the sample filings and deletes of
    their own uploads; bounded: at most `clients` ingest jobs in flight, self-stopping at `seconds`."""
    pdfs = [p.read_bytes() for p in sorted(samples.glob("*.pdf"))]
    questions = [
        "What was Bluefin Foods' total revenue in fiscal 2023?",
        "What was Northwind Robotics' net income in 2022?",
        "How much cash did Cedar Ridge Energy hold at the end of fiscal 2023?",
        "What was the operating margin of Northwind Robotics in fiscal 2023?",
    ]
    soak_tally = Tally()
    mine: dict[str, str] = {}  # doc_id -> "kept" | "deleted"
    pending: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    unexpected: Counter[str] = Counter()
    rss: list[tuple[float, float]] = []

    def client(i: int) -> None:
        rnd = random.Random(i)
        while time.monotonic() < stop_at:
            roll = rnd.random()
            if roll < 0.15:
                with lock:
                    busy = len(pending) >= clients
                if busy:
                    roll = 0.5
                else:
                    data = rnd.choice(pdfs) + f"\n%soak {uuid.uuid4().hex}\n".encode()
                    status, job = srv.upload(soak_tally, f"soak-{i}.pdf", data)
                    if status == 202:
                        with lock:
                            pending.append(job["job_id"])
                    else:
                        unexpected[f"upload {status}"] += 1
                    continue
            if roll < 0.22:
                with lock:
                    deletable = [d for d, s in mine.items() if s == "kept"]
                    victim = rnd.choice(deletable) if deletable else None
                    if victim:
                        mine[victim] = "deleting"
                if victim:
                    status, _ = srv.call(soak_tally, "DELETE", f"/v1/documents/{victim}")
                    with lock:
                        mine[victim] = "deleted" if status == 200 else "kept"
                    if status != 200:
                        unexpected[f"delete {status}"] += 1
                    continue
            status, _ = srv.call(soak_tally, "POST", "/v1/query", {"question": rnd.choice(questions), "top_k": 3})
            if status != 200:
                unexpected[f"query {status}"] += 1

    def jobs_watch() -> None:
        while time.monotonic() < stop_at + 600:
            with lock:
                ids = list(pending)
            if not ids and time.monotonic() >= stop_at:
                return
            for job_id in ids:
                status, job = srv.call(soak_tally, "GET", f"/v1/jobs/{job_id}")
                if status == 200 and job["status"] in ("succeeded", "failed"):
                    with lock:
                        pending.remove(job_id)
                        if job["status"] == "succeeded":
                            mine.setdefault(job["doc_id"], "kept")
                        else:
                            unexpected["ingest failed"] += 1
            time.sleep(1.0)

    def rss_watch() -> None:
        t0 = time.monotonic()
        while time.monotonic() < stop_at:
            rss.append((time.monotonic() - t0, srv.rss_mb()))
            time.sleep(5.0)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    threads += [threading.Thread(target=jobs_watch), threading.Thread(target=rss_watch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, docs = srv.call(soak_tally, "GET", "/v1/documents")
    ready = {d["doc_id"] for d in docs["documents"] if d["status"] == "ready"}
    kept = {d for d, s in mine.items() if s == "kept"}
    lat = sorted(soak_tally.latencies)
    # RSS growth: the second minute (warm) against the last minute
    warm = [m for t, m in rss if 60 <= t < 120] or [m for _, m in rss[:3]]
    last = [m for t, m in rss if t >= (rss[-1][0] - 60)] if rss else []
    growth = (sum(last) / len(last)) / (sum(warm) / len(warm)) - 1 if warm and last else 0.0
    return {
        "seconds": seconds,
        "clients": clients,
        "requests": soak_tally.requests,
        "errors": sum(unexpected.values()),
        "error_kinds": dict(unexpected),
        "5xx": soak_tally.server_errors,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else 0,
        "p95_ms": round(lat[int(len(lat) * 0.95)] * 1000, 1) if lat else 0,
        "ingested": len(mine),
        "deleted": sum(1 for s in mine.values() if s == "deleted"),
        "documents_lost": len(kept - ready),
        "rss_mb_warm": round(sum(warm) / len(warm), 1) if warm else 0,
        "rss_mb_end": round(sum(last) / len(last), 1) if last else 0,
        "rss_growth_pct": round(growth * 100, 1),
    }


def guard_scan(folder: Path) -> None:
    """The injection guard's false alarms on real filings: every sentence of every page it would withhold."""
    from finrag.answer.guard import flagged_sentences
    from finrag.ingest.parse import PdfiumParser

    t0 = time.perf_counter()
    pdfs = sorted(folder.glob("*.pdf"))
    pages = 0
    flagged: list[tuple[str, int, str, str]] = []
    for pdf in pdfs:
        for page in PdfiumParser().parse(pdf):
            pages += 1
            flagged += [(pdf.name, page.number, rule, s[:160]) for s, rule in flagged_sentences(page.text)]
    print("| PDFs | pages | sentences flagged | seconds |\n|---|---|---|---|")
    print(f"| {len(pdfs)} | {pages} | {len(flagged)} | {time.perf_counter() - t0:.0f} |")
    for row in flagged:
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak", type=float, default=0, help="seconds of mixed load after the fault set (0: none)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--guard-scan", type=Path, metavar="PDF_DIR", help="only: count guard flags on every page of these PDFs"
    )
    args = parser.parse_args()
    if args.guard_scan:
        guard_scan(args.guard_scan)
        return
    with tempfile.TemporaryDirectory(prefix="finrag-reliability-") as tmp:
        work = Path(tmp)
        samples = work / "samples"
        samples.mkdir()
        t0 = time.perf_counter()
        tally, health, srv, _kept = fault_set(work, samples)
        try:
            held = sum(1 for _, ok, _ in tally.faults if ok)
            row = {
                "faults injected": len(tally.faults),
                "faults held": held,
                "requests": tally.requests,
                "bad inputs": tally.bad_inputs,
                "documents lost": health["documents_lost"],
                "5xx": tally.server_errors,
                "index healthy after": "yes" if health["healthy"] else "no",
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print("| " + " | ".join(row) + " |")
            print("|" + "---|" * len(row))
            print("| " + " | ".join(str(v) for v in row.values()) + " |")
            out: dict[str, Any] = {"faults": row, "fault_list": tally.faults, "health": health}
            if args.soak:
                result = soak(srv, tally, samples, args.soak, args.clients)
                print()
                print("| " + " | ".join(result) + " |")
                print("|" + "---|" * len(result))
                print("| " + " | ".join(str(v) for v in result.values()) + " |")
                out["soak"] = result
            if args.json:
                args.json.write_text(json.dumps(out, indent=2, default=str))
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
