"""The browser chat in headless Chromium: cold start, then warm first text and completion.

    python benchmarks/browser.py [--embedder sentence-transformers:multilingual-e5-small] [--questions 10]

- Cold start: from launching ``python -m ui.serve`` (what ``make run`` runs after
  ingest) until a browser shows the chat input, beside the baseline of a plain
  ``streamlit run ui/app.py`` (which prints its URL before anything is loaded) until
  the same point: the first visitor's wait.
- Warm: ten questions on the seed article, one after the other in one page; for each,
  the time from Enter to the first answer text and to the finished answer (sources and
  👍/👎 shown), beside the core's own time for the same question in this process
  (``Assistant.ask``): the browser's overhead as a ratio.

Uses Debian's Chromium (/usr/bin/chromium) and the default embedder unless told
otherwise; the index is built in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import DEFAULT_EMBEDDER, load_settings  # noqa: E402

ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
QUESTIONS = [
    "コンテナの起動速度はどのくらいですか？",
    "仮想マシンのセキュリティの特徴は？",
    "コンテナと仮想マシンはどう使い分けますか？",
    "How large are VM images compared with containers?",
    "How fast do containers start compared with virtual machines?",
    "ハイパーバイザーとは何ですか？",
    "コンテナのイメージサイズは？",
    "仮想マシンのリソース効率は？",
    "What isolates a container from the host?",
    "コンテナのデメリットは？",
]
WATCH = """() => {
  window.marks = {};
  new MutationObserver(() => {
    const n = document.querySelectorAll('[data-testid=stChatMessageAvatarAssistant]').length;
    const key = 'q' + n;
    if (!window.marks[key + 'text'] && document.querySelector('[class*="st-key-live-text"]'))
      window.marks[key + 'text'] = performance.now();
  }).observe(document.body, {subtree: true, childList: true});
}"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(command: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the app did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cold_start(browser, command: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds from launch to the URL answering, and to a page ready for a question."""
    started = time.perf_counter()
    process, url = launch(command, env, log)
    try:
        wait_healthy(url, process)
        healthy = time.perf_counter() - started
        page = browser.new_page(locale="ja-JP")
        page.set_default_timeout(300_000)
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for()
        ready = time.perf_counter() - started
        page.close()
        return healthy, ready
    finally:
        stop(process)


def warm(browser, url: str, questions: list[str]) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(300_000)
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    page.evaluate(WATCH)
    results = []
    for i, question in enumerate(questions):
        page.get_by_test_id("stChatInputTextArea").fill(question)
        sent = page.evaluate("performance.now()")
        page.keyboard.press("Enter")
        answers = page.locator("[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarAssistant])")
        answers.nth(i).get_by_test_id("stFeedback").wait_for()
        done = page.evaluate("performance.now()")
        first = page.evaluate(f"window.marks['q{i + 1}text']") or done
        results.append(((first - sent) / 1000, (done - sent) / 1000))
    page.close()
    return results


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(values):.2f} s · p95 {p95:.2f} s · max {max(values):.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="browser-bench-") as tmp:
        corpus, data = Path(tmp) / "corpus", Path(tmp) / "data"
        corpus.mkdir()
        (corpus / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
        settings = load_settings(data_dir=data, embedder=args.embedder, corpus=[corpus])
        core = Assistant(settings)
        core.ingest([corpus])
        questions = (QUESTIONS * 2)[: args.questions]
        core_times = []
        for question in questions:
            core.ask(question)  # warm, like the app's warm questions
            started = time.perf_counter()
            core.ask(question)
            core_times.append(time.perf_counter() - started)
        say(f"core: {summary(core_times)}")
        del core  # one process with the model at a time
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS": json.dumps([str(corpus)]),
               "ASSISTANT_EMBEDDER": args.embedder}  # fmt: skip
        serve = [sys.executable, "-m", "ui.serve"]
        plain = [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py")]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            base_healthy, base_ready = cold_start(browser, plain, env, Path(tmp) / "plain.log")
            say(f"baseline cold start: {base_healthy:.1f} / {base_ready:.1f} s")
            healthy, ready = cold_start(browser, serve, env, Path(tmp) / "serve.log")
            say(f"make-run cold start: {healthy:.1f} / {ready:.1f} s")
            process, url = launch(serve, env, Path(tmp) / "warm.log")
            try:
                wait_healthy(url, process)
                warm(browser, url, questions[:2])  # the page's own first run
                timings = warm(browser, url, questions)
            finally:
                stop(process)
            browser.close()

    first = [t[0] for t in timings]
    total = [t[1] for t in timings]
    print(
        f"cold start, plain `streamlit run` (baseline): URL after {base_healthy:.1f} s, ready after {base_ready:.1f} s"
    )
    print(f"cold start, `make run` (ui.serve):           URL after {healthy:.1f} s, ready after {ready:.1f} s "
          f"(first visitor waits {ready - healthy:.1f} s vs {base_ready - base_healthy:.1f} s)")  # fmt: skip
    print(f"warm, {len(questions)} questions in the browser: first text {summary(first)}")
    print(f"                                  completion {summary(total)}")
    print(f"core alone (Assistant.ask, same questions): {summary(core_times)}")
    print(f"browser completion / core: {statistics.median(total) / statistics.median(core_times):.2f}× (p50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
