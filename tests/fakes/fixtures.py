"""Fake LLM servers on 127.0.0.1, started once per process in a background thread.

Import the fixtures into a test module (tests/conftest.py belongs to the project):

    from tests.fakes import fixtures

    anthropic_server = fixtures.anthropic_server
    openai_server = fixtures.openai_server

Each test gets the server's state reset (script, recorded requests, prompt cache)."""

from __future__ import annotations

import atexit
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from finrag.llm import LLMSettings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.anthropic_server import create_app as anthropic_app
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.openai_server import create_app as openai_app


def anthropic_llm(server: FakeAnthropic, **kw: Any) -> LLMSettings:
    """LLM settings whose calls go to the fake Anthropic server: Anthropic first, the extractive answerer
    as the fallback, no retries (each override by keyword)."""
    kw.setdefault("providers", ["anthropic", "extractive"])
    kw.setdefault("max_retries", 0)
    return LLMSettings(anthropic_api_key="test-key", anthropic_base_url=server.url, **kw)  # type: ignore[arg-type]


class ServerThread:
    """uvicorn serving an ASGI app on a free port of 127.0.0.1, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port, no race with other tests
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_lock = threading.Lock()
_running: dict[str, tuple[ServerThread, Any]] = {}


def _shared(kind: str) -> Any:
    with _lock:
        if kind not in _running:
            state: Any = FakeAnthropic() if kind == "anthropic" else FakeOpenAI()
            app = anthropic_app(state) if kind == "anthropic" else openai_app(state)
            srv = ServerThread(app).start()
            state.url = srv.url
            _running[kind] = (srv, state)
            atexit.register(srv.stop)
        return _running[kind][1]


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropic]:
    """Fake Anthropic API; `.url` is the SDK's base_url, api key "test-key"."""
    state: FakeAnthropic = _shared("anthropic")
    state.reset()
    yield state
    state.reset()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """Fake OpenAI-compatible API; the SDK's base_url is `.url + "/v1"`, api key "test-key"."""
    state: FakeOpenAI = _shared("openai")
    state.reset()
    yield state
    state.reset()
