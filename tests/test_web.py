"""The web page in headless Chromium: key, upload with job progress, question, citation with its page image."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.serve.app import create_app
from finrag.serve.testing import live_server
from finrag.service import QAService, build_components
from finrag.settings import AnswerSettings, ServeSettings
from tests.conftest import make_settings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import anthropic_llm
from tests.test_api import CEDAR_8K, NORTHWIND_10K, build_service

anthropic_server = fixtures.anthropic_server

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture()
def browser() -> Iterator:  # type: ignore[type-arg]
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # only when the browser truly cannot start here
            pytest.skip(f"Chromium could not start: {exc}")
        yield b
        b.close()


def test_upload_ask_and_open_a_citation(browser, tmp_path: Path, shared_embedder, sample_dir: Path) -> None:  # type: ignore[no-untyped-def]
    svc = build_service(tmp_path / "data", shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings())
    key, _ = app.state.finrag.keys.create("acme", "browser")
    try:
        with live_server(app) as base:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/")
            page.fill("#api-key", key)
            page.click("#save-key")
            page.wait_for_selector("#key-status.status-succeeded")

            page.set_input_files("#file-input", str(sample_dir / NORTHWIND_10K))
            page.click("#upload-btn")
            page.wait_for_selector("#jobs li[data-status=succeeded]", timeout=120_000)
            page.wait_for_selector(f"#documents tbody tr >> text={Path(NORTHWIND_10K).stem}")

            page.fill("#question", "What was Northwind Robotics' total revenue in fiscal 2023?")
            page.click("#ask-btn")
            page.wait_for_selector("#citations li a", timeout=60_000)
            assert "4,295" in page.inner_text("#answer")
            assert any(p in page.inner_text("#answer-meta") for p in ("easy", "agentic"))

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "web-answer.png"), full_page=True)
            first = page.locator("#citations li a").first
            label = first.inner_text()
            first.click()
            page.wait_for_selector("#viewer[open] #viewer-img[data-loaded=true]", timeout=60_000)
            assert page.inner_text("#viewer-title").startswith(label.split(" p.")[0])
            assert page.inner_text("#viewer-quote").strip()
            width = page.eval_on_selector("#viewer-img", "img => img.naturalWidth")
            assert width > 300  # a real rendered page, not a broken image

            page.screenshot(path=str(ARTIFACTS / "web.png"), full_page=True)
            assert not errors, errors
    finally:
        svc.close()


def test_llm_text_streams_into_a_draft_then_the_checked_answer_replaces_it(
    browser, tmp_path: Path, shared_embedder, sample_dir: Path, anthropic_server: FakeAnthropic
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path / "data",
        llm=anthropic_llm(anthropic_server),
        answer=AnswerSettings(online_eval_share=0.0),
    )
    components = build_components(settings)
    components.embedder = shared_embedder
    svc = QAService(settings, components)
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="acme").failed

    def reply(body: dict) -> str:  # type: ignore[type-arg]
        label = json.dumps(body["messages"]).split('<source id=\\"', 1)[1].split('\\"', 1)[0]
        return (
            "Cedar Ridge Energy reported in its 8-K that it entered into an amended and restated credit "
            f"agreement with its lenders, as the filing states on the cited page [{label}]."
        )

    anthropic_server.answer = reply
    anthropic_server.delta_delay_s = 0.25  # slow enough to watch the draft grow
    app = create_app(settings, svc, ServeSettings())
    key, _ = app.state.finrag.keys.create("acme", "browser")
    try:
        with live_server(app) as base:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/")
            page.fill("#api-key", key)
            page.click("#save-key")
            page.wait_for_selector("#key-status.status-succeeded")
            page.select_option("#mode", "easy")
            page.fill("#question", "What did Cedar Ridge Energy announce in its 8-K?")
            page.click("#ask-btn")
            page.wait_for_selector("#draft-box:not([hidden])", timeout=60_000)
            seen = set()
            ARTIFACTS.mkdir(exist_ok=True)
            while page.is_visible("#draft-box") and len(seen) < 50:
                seen.add(page.inner_text("#draft"))
                if len(seen) == 3:
                    page.screenshot(path=str(ARTIFACTS / "web-draft.png"), full_page=True)
                page.wait_for_timeout(100)
            grown = sorted(len(t) for t in seen if t)
            assert len(grown) >= 3, seen  # the text arrived piece by piece, not at once
            page.wait_for_selector("#trust:not([hidden])", timeout=60_000)
            assert page.is_hidden("#draft-box")  # the checked answer replaces the draft
            assert "amended and restated credit agreement" in page.inner_text("#answer")
            assert any(t and t in reply(anthropic_server.last) for t in seen)
            page.screenshot(path=str(ARTIFACTS / "web-streamed.png"), full_page=True)
            assert not errors, errors
    finally:
        svc.close()
