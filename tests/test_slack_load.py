"""The Slack bot under load, under Slack-like rate limits, and across a SIGTERM restart.

A slow answerer is the ordinary ``openai:`` backend pointed at a local chat-completions
stand-in (tests/chat_standin.py) that takes a second per answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("slack_bolt")

from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.slack import build_bot
from assistant.slack.server import SlackServer, make_http_server
from tests.chat_standin import StandIn, StandInServer
from tests.conftest import free_port
from tests.slack_stub import SECRET, SlackStub, click_payload, envelope, form, mention_event, signed_post

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "コンテナの起動速度はどのくらいですか？"


def slow_answer(seconds: float) -> Any:
    def respond(body: dict[str, Any]) -> str:
        time.sleep(seconds)
        return "コンテナは秒単位で起動します [1]。"

    return respond


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("slack-load")
    Assistant(load_settings(data_dir=data, embedder="fake:256")).ingest([ROOT / "corpus"])
    return data


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


def serve(settings: Settings, stub: SlackStub) -> SlackServer:
    bot = build_bot(Assistant(settings), bot_token="xoxb-test", signing_secret=SECRET, api_url=stub.api_url)
    bot.start()
    return make_http_server(bot, SECRET, "127.0.0.1", 0, shutdown_grace=2).start_in_thread()


def answered_threads(stub: SlackStub) -> set[str]:
    return {a["thread_ts"] for a in stub.answers()}


@pytest.mark.slow
def test_clicks_are_acked_at_once_during_a_burst_of_slow_answers(
    index_dir: Path, stub: SlackStub, tmp_path: Path
) -> None:
    with StandInServer(StandIn(responder=slow_answer(1.0))) as chat:
        settings = load_settings(
            data_dir=index_dir, embedder="fake:256", answerer="openai:stand-in",
            llm_base_url=f"{chat.base_url}/v1", slack_workers=4,
        )  # fmt: skip
        server = serve(settings, stub)
        try:
            first = mention_event(stub, "C0BURST", QUESTION)
            signed_post(server.url, envelope(first))
            answer = stub.wait_for(lambda: stub.answers("C0BURST"), timeout=30)[0]
            events = [mention_event(stub, f"C0B{i % 10}", f"{QUESTION} ({i})") for i in range(50)]
            clicks = [form(click_payload(answer, "C0BURST", i % 2, user=f"U{i}")) for i in range(20)]
            with ThreadPoolExecutor(50) as pool:
                burst = list(pool.map(lambda e: signed_post(server.url, envelope(e)), events))
                time.sleep(0.5)  # the workers are busy with slow answers now
                acks = list(pool.map(lambda body: signed_post(server.url, body, form=True), clicks))
            assert all(status == 200 for status, _, _ in burst)
            assert all(status == 200 for status, _, _ in acks)
            assert max(seconds for _, _, seconds in acks) < 1.0
            stub.wait_for(lambda: len(answered_threads(stub)) >= 51, timeout=120)
            assert answered_threads(stub) >= {e["ts"] for e in events}
        finally:
            server.stop()


@pytest.mark.slow
def test_fifty_questions_over_ten_channels_under_slack_rate_limits(index_dir: Path, stub: SlackStub) -> None:
    stub.slack_like_limits()
    server = serve(load_settings(data_dir=index_dir, embedder="fake:256"), stub)
    try:
        events = [mention_event(stub, f"C0RL{i % 10}", f"{QUESTION} ({i})") for i in range(50)]
        with ThreadPoolExecutor(25) as pool:
            results = list(pool.map(lambda e: signed_post(server.url, envelope(e)), events))
        assert all(status == 200 for status, _, _ in results)
        stub.wait_for(lambda: len(answered_threads(stub)) == 50, timeout=120)
        time.sleep(1.0)
        assert answered_threads(stub) == {e["ts"] for e in events}  # each answered, exactly once
        assert len(stub.answers()) == 50
        assert not any("申し訳" in m["text"] for ch in stub.messages for m in stub.bot_messages(ch))
        limited = [c for c in stub.calls if c.status == 429]
        # The bot paces itself to the limits: Slack rarely has to refuse a call.
        assert len(limited) <= 10, [(c.method, c.params.get("channel")) for c in limited]
        print(f"\nslack rate limits: 50 answers; {len(limited)} calls answered 429 (all retried)")
    finally:
        server.stop()


def start_bot(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "assistant.cli", "slack", "--mode", "http", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "bot exited")
        try:
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the bot did not start")


@pytest.mark.slow
def test_sigterm_mid_answer_then_restart_answers_every_question(index_dir: Path, stub: SlackStub) -> None:
    with StandInServer(StandIn(responder=slow_answer(2.0))) as chat:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ASSISTANT_DATA_DIR": str(index_dir),
            "ASSISTANT_EMBEDDER": "fake:256",
            "ASSISTANT_ANSWERER": "openai:stand-in",
            "ASSISTANT_LLM_BASE_URL": f"{chat.base_url}/v1",
            "ASSISTANT_SLACK_BOT_TOKEN": "xoxb-test",
            "ASSISTANT_SLACK_SIGNING_SECRET": SECRET,
            "ASSISTANT_SLACK_API_URL": stub.api_url,
            "ASSISTANT_SLACK_WORKERS": "2",
            "ASSISTANT_SLACK_SHUTDOWN_GRACE": "1",
        }
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        bot = start_bot(env, port)
        events = [mention_event(stub, f"C0TERM{i % 3}", f"{QUESTION} ({i})") for i in range(6)]
        for event in events:
            assert signed_post(url, envelope(event))[0] == 200
        stub.wait_for(lambda: chat.chat_requests, timeout=30)  # answering has started
        bot.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status shows it.
        assert bot.wait(timeout=60) in (0, -signal.SIGTERM)
        assert bot.stderr is not None and b"finishing running answers" in bot.stderr.read()
        before = answered_threads(stub)
        assert len(before) < len(events)  # some were still waiting or being answered
        bot = start_bot(env, port)
        try:
            asked = {e["ts"] for e in events}

            def settled() -> bool:
                told = {m.get("thread_ts") for ch in stub.messages for m in stub.bot_messages(ch)
                        if "もう一度質問してください" in m["text"]}  # fmt: skip
                return asked <= answered_threads(stub) | told

            stub.wait_for(settled, timeout=90)
            # No 👀 left (removing reactions is paced at Slack's Tier 2, so it may take a moment).
            stub.wait_for(
                lambda: not any(stub.reactions.get((e["channel"], e["ts"])) for e in events), timeout=30
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=60)
