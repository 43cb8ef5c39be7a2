"""End to end: the real app (``streamlit run ui/app.py``) driven by Playwright in headless Chromium.

Uses Debian's Chromium (``/usr/bin/chromium``; the module is skipped without it),
never a browser downloaded by ``playwright install``, and the real default
embedder. Screenshots are saved under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
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
from assistant.settings import DEFAULT_EMBEDDER, load_settings  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWER_TIMEOUT_MS = 180_000  # CPU-only models on a shared CI machine
UPLOAD = """# ゼータ計画

## 予算

ゼータ計画の予算は42億円です。責任者は山田さんです。

<img src=x onerror="alert('xss')"> <script>alert('xss')</script>
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not start within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on 127.0.0.1 over an index built beforehand with the real default embedder."""
    tmp = tmp_path_factory.mktemp("browser")
    corpus, data = tmp / "corpus", tmp / "data"
    corpus.mkdir()
    (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    Assistant(load_settings(data_dir=data, embedder=DEFAULT_EMBEDDER)).ingest([corpus])

    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_CORPUS": json.dumps([str(corpus)]),
        "ASSISTANT_EMBEDDER": DEFAULT_EMBEDDER,
    }
    log = tmp / "streamlit.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield url, data
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app[0])
    page.get_by_role("heading", name="ドキュメント質問アシスタント").wait_for()
    yield page
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let expanders and fades finish their animation
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def ask(page, question: str, answers_before: int) -> object:  # type: ignore[no-untyped-def]
    """Type a question, press Enter, wait for its answer; returns the answer's chat message."""
    page.get_by_test_id("stChatInputTextArea").fill(question)
    page.keyboard.press("Enter")
    answers = page.locator("[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarAssistant])")
    message = answers.nth(answers_before)
    message.get_by_test_id("stFeedback").wait_for()  # the answer, its sources and the 👍/👎 are shown
    return message


def test_chat_in_the_browser(page, app) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    data = app[1]
    expect(page.get_by_role("button", name="コンテナの起動速度はどのくらいですか？")).to_be_visible()
    expect(page.get_by_text("文書数")).to_be_visible()
    shot(page, "01-empty-page")

    # a Japanese question, answered with a citation
    message = ask(page, "コンテナの起動速度はどのくらいですか？", 0)
    expect(message).to_contain_text("秒単位")
    expect(message).to_contain_text("出典")
    shot(page, "02-answer")

    # open the citation: passage, heading path and score
    citation = message.get_by_test_id("stExpander").first
    citation.locator("summary").click()
    expect(citation).to_contain_text("関連度")
    citation.scroll_into_view_if_needed()
    expect(citation).to_contain_text("見出し")
    expect(citation.get_by_test_id("stDownloadButton")).to_be_visible()
    shot(page, "03-citation")

    # 👍 with a comment, stored in the JSONL
    message.get_by_label("Thumbs up").click()
    message.get_by_label("コメント（任意）").fill("わかりやすい")
    message.get_by_role("button", name="フィードバックを送信").click()
    expect(page.get_by_text("フィードバックを記録しました。ありがとうございます！")).to_be_visible()
    records = [json.loads(line) for line in (data / "feedback.jsonl").read_text().splitlines()]
    assert [(r["rating"], r["comment"], r["frontend"]) for r in records] == [(1, "わかりやすい", "streamlit")]
    assert records[0]["question"] == "コンテナの起動速度はどのくらいですか？"
    assert "秒単位" in records[0]["answer"]
    shot(page, "04-feedback")

    # upload a Markdown file, then ask about it
    upload = data.parent / "ゼータ計画.md"
    upload.write_text(UPLOAD, encoding="utf-8")
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(upload))
    expect(page.get_by_test_id("stFileUploader")).to_contain_text("ゼータ計画.md")
    page.get_by_role("button", name="取り込む").click()
    expect(page.get_by_text("ゼータ計画.md を取り込みました")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_test_id("stMetricValue").first).to_have_text("2")
    shot(page, "05-upload")

    message = ask(page, "ゼータ計画の予算はいくらですか？", 1)
    expect(message).to_contain_text("42億円")
    source = message.get_by_test_id("stExpander").filter(has_text="ゼータ計画").first
    source.locator("summary").click()
    expect(source).to_contain_text("<script>alert('xss')</script>")
    shot(page, "06-upload-answer")

    # the markup in the document was shown as text, never run
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_test_id("stException").count() == 0


def test_english_question_and_interrupting_a_slow_answer(page, app) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    # a second question typed before the first answer is done interrupts it without an error
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("仮想マシンのセキュリティの特徴は？")
    page.keyboard.press("Enter")
    box.fill("How large are VM images compared with containers?")
    page.keyboard.press("Enter")
    answers = page.locator("[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarAssistant])")
    answers.last.get_by_test_id("stFeedback").wait_for()
    expect(answers.last).to_contain_text("GB")
    expect(page.get_by_test_id("stChatMessage").filter(has_text="How large are VM images")).to_have_count(1)
    assert page.get_by_test_id("stException").count() == 0
    shot(page, "07-english-after-interruption")

    # the interface in English
    page.get_by_test_id("stSidebar").get_by_text("English").click()
    expect(page.get_by_role("heading", name="Document Q&A assistant")).to_be_visible()
    expect(page.get_by_role("button", name="New conversation")).to_be_visible()
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    example = "How large are VM images compared with containers?"
    expect(page.get_by_role("button", name=example)).to_be_visible()
    shot(page, "08-english-interface")
