"""The real browser app as a thin client, in headless Chromium: ``python -m ui.serve`` with
``ASSISTANT_SERVER_URL`` pointing at the real service (uvicorn on a free port in this process,
``fake:256`` embedder, the ``paced`` stand-in answerer of `tests.ui_paced` so that the stages
of a streamed answer can be watched). The app's own data directory holds no index and its
embedder is the default one, which it would have to load if it answered by itself.

The Streamlit process runs under `tests.thin_watch`, which writes the heavy modules present
in its ``sys.modules`` to a file while it runs: it must stay empty (no torch, no
sentence-transformers, no chromadb).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")

from assistant import answerers  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.server.auth import hash_key  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402

from .conftest import free_port  # noqa: E402
from .server_helpers import ADMIN_KEY, READ_KEY, running_service, wait_until_up  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
PASSWORD = "thin-admin"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TIMEOUT_MS = 120_000
QUESTION = "コンテナの起動速度はどのくらいですか？"
ANSWERS = "[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarAssistant])"
# When each stage of the first streamed answer first appears in the page.
WATCH = """() => {
  window.seen = {};
  const live = (name) => document.querySelector('[class*="st-key-live-' + name + '"]');
  const final = () => document.querySelector('[class*="st-key-answer-"]');
  new MutationObserver(() => {
    if (!window.seen.sources && live('sources')) window.seen.sources = performance.now();
    if (!window.seen.text && live('text')) {
      window.seen.text = performance.now();
      window.seen.sourcesBeforeText = !!live('sources');
      window.seen.textBeforeFinal = !final();
    }
    if (!window.seen.final && final()) window.seen.final = performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


class Service:
    """The real service in this process, which a test can stop and start again on its port."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.port = settings, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running: ExitStack | None = None

    def start(self) -> None:
        stack = ExitStack()
        stack.enter_context(running_service(self.settings, port=self.port))
        self._running = stack

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("thin-browser-svc")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    settings = load_settings(
        data_dir=tmp / "data", embedder="fake:256", answerer="paced:extractive", corpus=[corpus],
        server_admin_keys=[hash_key(ADMIN_KEY)], server_read_keys=[hash_key(READ_KEY)], server_rate_limit=0,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        # the stand-in answerer, registered as a backend the way tests.ui_paced does
        patch.setitem(answerers.PROVIDERS, "paced", "tests.ui_paced:PacedAnswerer")
        Assistant(settings).ingest()
        svc = Service(settings)
        svc.start()
        try:
            yield svc
        finally:
            svc.stop()


@pytest.fixture(scope="module")
def app(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("thin-browser-ui")
    port, log, report = free_port(), tmp / "app.log", tmp / "imports.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({
        "ASSISTANT_DATA_DIR": str(tmp / "data"),  # empty: no index on this side
        "ASSISTANT_SERVER_URL": service.url,
        "ASSISTANT_SERVER_API_KEY": READ_KEY,
        "ASSISTANT_SERVER_ADMIN_API_KEY": ADMIN_KEY,
        "ASSISTANT_SERVER_TIMEOUT": "30",
        "ASSISTANT_UI_ADMIN_PASSWORD": PASSWORD,
    })  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.thin_watch", str(report), "ui.serve", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--client.showErrorDetails", "full"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, lambda: process.poll() is None, path="/_stcore/health", timeout=120)
        yield {"url": url, "data": tmp / "data", "log": log, "report": report}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "Traceback" not in text, text


def heavy_modules(app: dict[str, Any]) -> list[str]:
    return list(json.loads(app["report"].read_text())["heavy"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, app: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    yield page
    assert page.get_by_test_id("stException").count() == 0
    context.close()


def send(page: Any, question: str) -> None:
    page.get_by_test_id("stChatInputTextArea").fill(question)
    page.keyboard.press("Enter")


def answered(page: Any, index: int) -> Any:
    message = page.locator(ANSWERS).nth(index)
    message.get_by_test_id("stFeedback").wait_for()
    return message


def test_a_question_is_answered_by_the_service_streamed_sources_first(page: Any, app: dict[str, Any]) -> None:
    expect = playwright_api.expect
    assert "回答は http://127.0.0.1:" in app["log"].read_text()
    page.evaluate(WATCH)
    send(page, QUESTION)
    expect(page.get_by_text("回答を作成中…")).to_be_visible(timeout=TIMEOUT_MS)
    message = answered(page, 0)
    seen = page.evaluate("window.seen")
    assert {"sources", "text", "final"} <= set(seen), seen
    assert seen["sourcesBeforeText"] and seen["textBeforeFinal"], seen
    assert seen["sources"] <= seen["text"] < seen["final"], seen
    text = message.get_by_test_id("stMarkdownContainer").first.inner_text()
    assert "[1]" in text and "途中で止まりました" not in text
    source = message.get_by_test_id("stExpander").first
    source.locator("summary").click()
    expect(source).to_contain_text(ARTICLE.name)
    # the index, the chunk counts and the models are the service's: nothing was loaded here
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_test_id("stMetric").first).to_be_visible()
    assert not (app["data"] / "chroma").exists()
    assert heavy_modules(app) == []


def test_an_admin_upload_is_ingested_by_the_service(page: Any, app: dict[str, Any], service: Service) -> None:
    expect = playwright_api.expect
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("管理者としてログイン").click()
    sidebar.get_by_label("管理者パスワード").fill(PASSWORD)
    sidebar.get_by_role("button", name="ログイン").click()
    uploader = page.get_by_test_id("stFileUploader")
    expect(uploader).to_be_visible()
    note = app["data"].parent / "lighthouse.en.md"
    note.write_text("# The Kujira lighthouse\n\nThe Kujira lighthouse is painted orange and white.\n")
    uploader.locator("input[type=file]").set_input_files(str(note))
    expect(uploader).to_contain_text("lighthouse.en.md")  # listed: the upload has started
    sidebar.get_by_role("button", name="取り込む").click()  # enabled once the upload is done
    expect(sidebar.get_by_test_id("stAlertContentSuccess").filter(has_text="lighthouse.en.md")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    documents = httpx.get(f"{service.url}/v1/documents", headers=headers, timeout=30).json()["data"]
    assert [d for d in documents if d["source"].endswith("lighthouse.en.md") and d["chunks"] > 0]
    send(page, "What colours is the Kujira lighthouse painted?")
    assert "orange" in answered(page, 0).get_by_test_id("stMarkdownContainer").first.inner_text()
    assert heavy_modules(app) == []


def test_a_service_that_is_down_is_told_in_japanese_and_the_question_is_kept(
    page: Any, app: dict[str, Any], service: Service
) -> None:
    expect = playwright_api.expect
    service.stop()
    try:
        send(page, QUESTION)
        error = page.get_by_test_id("stAlertContentError").filter(has_text="回答サービスに接続できません。")
        expect(error.first).to_be_visible()
        expect(page.get_by_text("質問は会話に残っています。").first).to_be_visible()
        user = page.locator("[data-testid=stChatMessage]").filter(has_text=QUESTION)
        expect(user.first).to_be_visible()  # the question stays on the page
        assert "Traceback" not in page.content() and "ConnectError" not in page.content()
    finally:
        service.start()
    send(page, QUESTION)  # the service is back: the same page answers without a restart
    expect(page.locator(ANSWERS).filter(has_text="[1]").first).to_be_visible()
    assert heavy_modules(app) == []
