"""End to end: the real app (``python -m ui.serve``, what ``make run`` starts) in headless Chromium.

Uses Debian's Chromium (``/usr/bin/chromium``; the module is skipped without it),
never a browser downloaded by ``playwright install``. The index is a real chromadb
built with the ``fake:256`` embedder; the answerer is the offline one, paced by the
``paced`` stand-in backend (`tests.ui_paced`) so that the stages of a streamed
answer can be watched. Screenshots are saved under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")

from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "browser-admin"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TIMEOUT_MS = 120_000
QUESTION = "コンテナの起動速度はどのくらいですか？"
ANSWERS = "[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarAssistant])"
# Records when each stage of the first streamed answer first appears in the page.
WATCH = """() => {
  window.seen = {};
  const live = (name) => document.querySelector('[class*="st-key-live-' + name + '"]');
  const final = () => document.querySelector('[class*="st-key-answer-"]');
  new MutationObserver(() => {
    if (!window.seen.status && live('status')) window.seen.status = performance.now();
    if (!window.seen.sources && live('sources')) window.seen.sources = performance.now();
    if (!window.seen.text && live('text')) {
      window.seen.text = performance.now();
      window.seen.sourcesBeforeText = !!live('sources');
      window.seen.textBeforeFinal = !final();
      window.seen.firstText = live('text').innerText;
    }
    if (!window.seen.final && final()) window.seen.final = performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(
    data: Path,
    corpus: Path,
    log: Path,
    port: int,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """The app as ``make run`` starts it; ``env`` adds settings, ``args`` Streamlit options."""
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_CORPUS": json.dumps([str(corpus)]),
        "ASSISTANT_EMBEDDER": "fake:256",
        "ASSISTANT_ANSWERER": "paced:extractive",
        "ASSISTANT_UI_ADMIN_PASSWORD": PASSWORD,
        **(env or {}),
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.ui_paced", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--client.showErrorDetails", "full", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not start within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    tmp = tmp_path_factory.mktemp("browser")
    corpus, data = tmp / "corpus", tmp / "data"
    corpus.mkdir()
    (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    Assistant(load_settings(data_dir=data, embedder="fake:256")).ingest([corpus])
    port, log = free_port(), tmp / "app.log"
    process = start_app(data, corpus, log, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield url, data, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context, app):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app[0])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    yield page
    assert page.dialogs == []
    assert page.get_by_test_id("stException").count() == 0


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)  # let expanders and fades finish their animation
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def send(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stChatInputTextArea").fill(question)
    page.keyboard.press("Enter")


def answered(page, index: int):  # type: ignore[no-untyped-def]
    message = page.locator(ANSWERS).nth(index)
    message.get_by_test_id("stFeedback").wait_for()
    return message


def test_first_screen_is_the_product_not_streamlit(page, app) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    log = app[2].read_text()  # the URL is printed once the models and the index are loaded
    assert log.index("索引を読み込んでいます") < log.index("準備ができました") < log.index("URL:"), log
    expect(page.get_by_role("heading", name="ドキュメント質問アシスタント")).to_be_visible()
    expect(page.get_by_role("button", name=QUESTION)).to_be_visible()
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
    assert page.get_by_test_id("stMainMenu").count() == 0
    assert page.evaluate("document.documentElement.lang") == "ja"
    placeholder = page.get_by_test_id("stChatInputTextArea").get_attribute("placeholder")
    assert placeholder is not None and "1,000 文字まで" in placeholder
    assert page.get_by_test_id("stFileUploader").count() == 0  # viewers cannot upload
    shot(page, "01-first-screen")


def test_answer_streams_sources_first_then_text_numbered_from_one(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    page.evaluate(WATCH)
    send(page, QUESTION)
    expect(page.get_by_text("回答を作成中…")).to_be_visible(timeout=TIMEOUT_MS)  # the stage is named
    message = answered(page, 0)
    seen = page.evaluate("window.seen")
    assert {"status", "sources", "text", "final"} <= set(seen), seen
    assert seen["sourcesBeforeText"] and seen["textBeforeFinal"], seen  # sources, then text, then done
    assert seen["status"] <= seen["sources"] <= seen["text"] < seen["final"], seen
    final = message.get_by_test_id("stMarkdownContainer").first.inner_text()
    assert 0 < len(seen["firstText"].rstrip(" ▌")) < len(final), seen  # the text grew piece by piece

    labels = [re.search(r"\[\d+\]", e.inner_text()) for e in message.locator("summary").all()]
    numbers = [m.group(0) if m else "" for m in labels]
    assert numbers == [f"[{n}]" for n in range(1, len(numbers) + 1)] and numbers, numbers
    cited = message.get_by_test_id("stMarkdownContainer").first.inner_text()
    assert "[1]" in cited
    source = message.get_by_test_id("stExpander").first
    source.locator("summary").click()
    expect(source).to_contain_text("文書: containers-vs-vms.ja.md")
    expect(source).to_contain_text("見出し")
    expect(source).not_to_contain_text("/tmp/")
    shot(page, "02-answer-with-sources")


def test_a_pasted_20000_character_question_gets_a_clear_message(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    send(page, "あ" * 20_000)
    error = page.get_by_test_id("stAlertContentError").filter(has_text="質問が長すぎます")
    expect(error).to_contain_text("20,000 文字、上限 1,000 文字")
    expect(error).to_be_in_viewport()
    expect(page.get_by_test_id("stToast").filter(has_text="質問が長すぎます")).to_be_visible()
    shot(page, "03-error-too-long")


def test_a_rating_is_saved_on_one_click(page, app) -> None:  # type: ignore[no-untyped-def]
    send(page, QUESTION)
    message = answered(page, 0)
    feedback = app[1] / "feedback.jsonl"
    before = len(feedback.read_text().splitlines()) if feedback.exists() else 0
    message.get_by_label("Thumbs down").click()
    playwright_api.expect(message.get_by_text("評価を記録しました。ありがとうございます！")).to_be_visible()
    records = [json.loads(line) for line in feedback.read_text().splitlines()][before:]
    assert [(r["rating"], r["question"]) for r in records] == [(-1, QUESTION)]


def test_a_question_sent_during_an_answer_does_not_cancel_it(page) -> None:  # type: ignore[no-untyped-def]
    send(page, QUESTION)
    page.get_by_text("回答を作成中…").wait_for()
    send(page, "How large are VM images compared with containers?")
    first, second = answered(page, 0), answered(page, 1)
    for message in (first, second):
        assert "途中で止まりました" not in message.inner_text()
        assert "[1]" in message.get_by_test_id("stMarkdownContainer").first.inner_text()


def test_a_conversation_is_resumed_after_a_reload(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    send(page, QUESTION)
    answer = answered(page, 0).get_by_test_id("stMarkdownContainer").first.inner_text()
    page.wait_for_url("**/?c=*")
    page.reload()
    message = answered(page, 0)
    assert message.get_by_test_id("stMarkdownContainer").first.inner_text() == answer
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name=QUESTION).first).to_be_visible()
    # a new conversation leaves the old one in the list, from which it can be opened again
    sidebar.get_by_role("button", name="新しい会話").click()
    expect(page.locator(ANSWERS)).to_have_count(0)
    sidebar.get_by_role("button", name=QUESTION).first.click()
    expect(page.locator(ANSWERS)).to_have_count(1)


def test_admin_signs_in_and_sees_upload_errors_in_view(page, app) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("管理者としてログイン").click()
    sidebar.get_by_label("管理者パスワード").fill("wrong")
    sidebar.get_by_role("button", name="ログイン").click()
    expect(sidebar.get_by_text("パスワードが違います。")).to_be_visible()
    assert page.get_by_test_id("stFileUploader").count() == 0

    sidebar.get_by_label("管理者パスワード").fill(PASSWORD)
    sidebar.get_by_role("button", name="ログイン").click()
    expect(sidebar.get_by_text("管理者", exact=True)).to_be_visible()
    uploader = page.get_by_test_id("stFileUploader")
    expect(uploader).to_be_visible()
    expect(sidebar.get_by_role("button", name="索引を作り直す")).to_be_visible()
    expect(uploader.get_by_text("per file")).to_be_hidden()  # Streamlit's English hint
    assert "ファイルを選ぶ" in uploader.locator("button p").evaluate(
        "p => getComputedStyle(p, '::after').content"
    )
    uploader.scroll_into_view_if_needed()
    shot(page, "04-admin-view")

    bad = app[1].parent / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 not really a pdf")
    uploader.locator("input[type=file]").set_input_files(str(bad))
    expect(uploader).to_contain_text("scan.pdf")
    sidebar.get_by_role("button", name="取り込む").click()
    error = sidebar.get_by_test_id("stAlertContentError").filter(has_text="scan.pdf")
    expect(error).to_be_in_viewport()
    expect(error).to_have_text("scan.pdf: PDF として読めませんでした。")
    expect(page.get_by_test_id("stToast").filter(has_text="scan.pdf")).to_be_visible()
    shot(page, "05-upload-error")
