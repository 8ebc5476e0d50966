"""Fixtures of the reliability tests: a real `finrag serve` process on a sample data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE
from tests.servers import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINRAG_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        FINRAG_DATA_DIR=str(data_dir),
        FINRAG_CACHE_DIR=str(MODEL_CACHE),
        **extra,
    )
    return env


def cli(data_dir: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finrag.cli", *args],
        env=cli_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    key: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        req.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw[:1] in (b"{", b"[") else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw[:1] == b"{" else {}


def start_server(data_dir: Path, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "finrag.cli", "serve", "--port", str(port)],
        env=cli_env(data_dir, **env),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    wait_port(port, timeout=120, proc=proc)
    return proc, port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Iterator[Served]:
    """Sample filings ingested by the CLI, then served by a separate `finrag serve` process."""
    data_dir = tmp_path_factory.mktemp("served")
    done = cli(data_dir, "ingest", str(sample_dir))
    assert done.returncode == 0, done.stderr
    created = cli(data_dir, "keys", "create", "--tenant", "default", "--name", "cli")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    log = data_dir.parent / "server.log"
    proc, port = start_server(data_dir, log)
    try:
        yield Served(proc, port, data_dir, key, log)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
