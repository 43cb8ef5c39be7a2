"""The Slack bot end to end: the real Bolt app served over HTTP on 127.0.0.1 gets
signed requests as Slack sends them, and talks to a local stand-in of the Slack
Web API (tests/slack_stub.py) that records every call."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("slack_bolt")

from slack_sdk.signature import SignatureVerifier

from assistant.errors import ConfigError
from assistant.feedback import read_feedback
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.slack import build_app, check_credentials
from assistant.slack.formatting import answer_messages, split_text, to_mrkdwn
from assistant.slack.server import SlackHTTPServer, make_http_server
from assistant.types import Answer, Passage
from tests.slack_stub import BOT_USER_ID, TEAM_ID, SlackStub

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret"
MENTION = f"<@{BOT_USER_ID}>"


@pytest.fixture(scope="module")
def slack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("slack-data"), embedder="fake:256")
    Assistant(settings).ingest([ROOT / "corpus"])
    return settings


@pytest.fixture(scope="module")
def stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def server(slack_settings: Settings, stub: SlackStub) -> Iterator[SlackHTTPServer]:
    app = build_app(
        Assistant(slack_settings),
        bot_token="xoxb-test",
        signing_secret=SECRET,
        api_url=stub.api_url,
        mode="http",
        update_interval=0.2,
    )
    server = make_http_server(app, "127.0.0.1", 0)
    server.start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def slack(stub: SlackStub, server: SlackHTTPServer) -> Iterator[SlackStub]:
    stub.reset()
    yield stub
    stub.reset()


# --- helpers -------------------------------------------------------------------------


def post(
    server: SlackHTTPServer,
    body: str,
    *,
    headers: dict[str, str] | None = None,
    timestamp: int | None = None,
    secret: str = SECRET,
    form: bool = False,
) -> tuple[int, str, float]:
    """POST a request signed the way Slack signs it; returns status, body and seconds taken."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    all_headers = {
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        **(headers or {}),
    }
    host, port = server.server_address[:2]
    started = time.perf_counter()
    conn = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read().decode(), time.perf_counter() - started
    finally:
        conn.close()


def envelope(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event": event,
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        },
        ensure_ascii=False,
    )


def mention(stub: SlackStub, channel: str, text: str, thread_ts: str | None = None) -> dict[str, Any]:
    message = stub.add_user_message(channel, f"{MENTION} {text}", thread_ts=thread_ts)
    event = {
        "type": "app_mention",
        "user": message["user"],
        "text": message["text"],
        "ts": message["ts"],
        "channel": channel,
        "event_ts": message["ts"],
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(message: dict[str, Any], channel: str, channel_type: str = "channel") -> dict[str, Any]:
    return {**message, "channel": channel, "channel_type": channel_type, "event_ts": message["ts"]}


def answer_in(stub: SlackStub, channel: str, thread_ts: str, timeout: float = 15) -> dict[str, Any]:
    found = stub.wait_for(
        lambda: [a for a in stub.answers(channel) if a.get("thread_ts") == thread_ts], timeout=timeout
    )
    return found[0]


def block_texts(message: dict[str, Any], kind: str) -> list[str]:
    texts = []
    for block in message["blocks"]:
        if block["type"] == kind == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == kind == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


# --- HTTP endpoint ---------------------------------------------------------------------


def test_url_verification_and_health(slack: SlackStub, server: SlackHTTPServer) -> None:
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    status, text, _ = post(server, body)
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV" in text
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=5)
    conn.request("GET", "/healthz")
    health = conn.getresponse()
    assert health.status == 200 and json.loads(health.read())["ok"] is True
    conn.close()
    assert slack.calls == []


def test_bad_signature_and_old_timestamp_are_rejected(slack: SlackStub, server: SlackHTTPServer) -> None:
    body = envelope(mention(slack, "C0SEC", "コンテナの起動速度は？"))
    assert post(server, body, secret="wrong-secret")[0] == 401
    assert post(server, body, timestamp=int(time.time()) - 10 * 60)[0] == 401
    time.sleep(0.5)
    assert slack.calls_to("chat.postMessage", ok_only=False) == []


# --- answering -----------------------------------------------------------------------


def test_mention_is_answered_in_its_thread_with_sources_and_buttons(
    slack: SlackStub, server: SlackHTTPServer, slack_settings: Settings
) -> None:
    event = mention(slack, "C0MENTION", "コンテナの起動速度はどのくらいですか？")
    status, _, seconds = post(server, envelope(event))
    assert status == 200 and seconds < 3
    answer = answer_in(slack, "C0MENTION", event["ts"])
    first = slack.calls_to("chat.postMessage")[0]
    assert first.params["thread_ts"] == event["ts"] and first.params["text"] == "考え中…"
    expected = Assistant(slack_settings).ask("コンテナの起動速度はどのくらいですか？")
    section = " ".join(block_texts(answer, "section"))
    assert section == to_mrkdwn(expected.answer) and re.search(r"\[\d\]", section)
    assert answer["text"] == expected.answer
    sources = block_texts(answer, "context")
    assert sources[0] == "*出典*"
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", section)}
    assert all(any(s.startswith(f"*[{n}]*") for s in sources) for n in cited)
    assert "containers-vs-vms.ja.md" in sources[1]
    buttons = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["assistant_feedback_up", "assistant_feedback_down"]
    assert len(slack.bot_messages("C0MENTION")) == 1


def test_placeholder_grows_while_the_answer_streams(slack_settings: Settings, slack: SlackStub) -> None:
    app = build_app(
        Assistant(slack_settings),
        bot_token="xoxb-test",
        signing_secret=SECRET,
        api_url=slack.api_url,
        update_interval=0.0,
    )
    eager = make_http_server(app, "127.0.0.1", 0)
    eager.start_in_thread()
    try:
        event = mention(slack, "C0STREAM", "コンテナの起動速度はどのくらいですか？")
        post(eager, envelope(event))
        answer = answer_in(slack, "C0STREAM", event["ts"])
    finally:
        eager.shutdown()
        eager.server_close()
    updates = slack.calls_to("chat.update")
    assert len(updates) >= 2 and all(u.params["ts"] == answer["ts"] for u in updates)
    partial = updates[0].params
    assert partial["text"].endswith(" …") and "blocks" not in partial  # text so far, then the answer
    assert "blocks" in updates[-1].params


def test_weak_evidence_is_answered_with_i_dont_know(slack: SlackStub, server: SlackHTTPServer) -> None:
    event = mention(slack, "C0WEAK", "量子コンピュータの価格は？")
    post(server, envelope(event))
    answer = answer_in(slack, "C0WEAK", event["ts"])
    assert "見つかりませんでした" in block_texts(answer, "section")[0]
    assert block_texts(answer, "context")[0] == "*近い資料*"


def test_direct_message_is_answered(slack: SlackStub, server: SlackHTTPServer) -> None:
    message = slack.add_user_message("D0DM", "What does a container share with the host?")
    assert post(server, envelope(message_event(message, "D0DM", "im")))[0] == 200
    answer = answer_in(slack, "D0DM", message["ts"])
    assert answer["blocks"][0]["type"] == "section"
    assert block_texts(answer, "context")[0] == "*Sources*"


def test_thread_follow_up_without_mention(slack: SlackStub, server: SlackHTTPServer) -> None:
    first = mention(slack, "C0THREAD", "仮想マシンの起動にはどれくらい時間がかかる？")
    post(server, envelope(first))
    answer_in(slack, "C0THREAD", first["ts"])
    # A message elsewhere in the channel, without a mention, is not for the bot.
    stray = slack.add_user_message("C0THREAD", "ランチに行きませんか？")
    post(server, envelope(message_event(stray, "C0THREAD")))
    follow = slack.add_user_message("C0THREAD", "コンテナはどうですか？", thread_ts=first["ts"])
    assert post(server, envelope(message_event(follow, "C0THREAD")))[0] == 200
    slack.wait_for(lambda: len(slack.answers("C0THREAD")) == 2)
    replies = slack.calls_to("conversations.replies")
    assert replies and replies[-1].params["ts"] == first["ts"]
    assert all(a.get("thread_ts") == first["ts"] for a in slack.answers("C0THREAD"))
    time.sleep(0.3)
    assert not [m for m in slack.bot_messages("C0THREAD") if m.get("thread_ts") == stray["ts"]]


def test_empty_mention_gets_a_hint(slack: SlackStub, server: SlackHTTPServer) -> None:
    message = slack.add_user_message("C0EMPTY", MENTION)
    event = {
        "type": "app_mention",
        "user": "UHUMAN",
        "text": MENTION,
        "ts": message["ts"],
        "channel": "C0EMPTY",
    }
    post(server, envelope(event))
    slack.wait_for(lambda: any("質問が空です" in m["text"] for m in slack.bot_messages("C0EMPTY")))


def test_bots_are_ignored(slack: SlackStub, server: SlackHTTPServer) -> None:
    other = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BOTHER",
        "text": "hello",
        "ts": slack.new_ts(),
        "channel": "D0BOT",
        "channel_type": "im",
    }
    own = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": "BASSISTANT",
        "text": "考え中…",
        "ts": slack.new_ts(),
        "channel": "D0BOT",
        "channel_type": "im",
    }
    assert post(server, envelope(other))[0] == 200
    assert post(server, envelope(own))[0] == 200
    time.sleep(0.5)
    assert slack.calls_to("chat.postMessage", ok_only=False) == []


def test_same_event_twice_and_retries_are_answered_once(slack: SlackStub, server: SlackHTTPServer) -> None:
    event = mention(slack, "C0DUP", "コンテナは何を仮想化しますか？")
    body = envelope(event)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda h: post(server, body, headers=h), [{}, {}, retry]))
    assert [r[0] for r in results] == [200, 200, 200]
    # The same message also arrives as a message event (another event id): still one answer.
    post(server, envelope(message_event({k: event[k] for k in ("user", "text", "ts")}, "C0DUP")))
    post(server, body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
    answer_in(slack, "C0DUP", event["ts"])
    time.sleep(0.5)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.answers("C0DUP")) == 1


# --- Slack API errors ----------------------------------------------------------------


def test_rate_limit_is_honoured_then_succeeds(slack: SlackStub, server: SlackHTTPServer) -> None:
    slack.fail("chat.postMessage", 429, times=1, retry_after=1)
    event = mention(slack, "C0RATE", "コンテナの起動速度は？")
    post(server, envelope(event))
    answer_in(slack, "C0RATE", event["ts"], timeout=20)
    posts = slack.calls_to("chat.postMessage", ok_only=False)
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0  # waited for Retry-After


def test_persistent_failure_ends_in_an_apology(slack: SlackStub, server: SlackHTTPServer) -> None:
    slack.fail("chat.update", 500, times=None)
    event = mention(slack, "C0FAIL", "コンテナの起動速度は？")
    post(server, envelope(event))
    slack.wait_for(
        lambda: any("申し訳ありません" in m["text"] for m in slack.bot_messages("C0FAIL")), timeout=20
    )
    assert len(slack.calls_to("chat.update", ok_only=False)) >= 3  # first try and two retries
    assert slack.answers("C0FAIL") == []


# --- feedback ------------------------------------------------------------------------


def test_feedback_click_is_stored(
    slack: SlackStub, server: SlackHTTPServer, slack_settings: Settings
) -> None:
    event = mention(slack, "C0FB", "コンテナの起動速度は？")
    post(server, envelope(event))
    answer = answer_in(slack, "C0FB", event["ts"])
    up = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][0]
    before = len(list(read_feedback(slack_settings.feedback_path)))
    payload = {
        "type": "block_actions",
        "user": {"id": "UHUMAN", "team_id": TEAM_ID},
        "api_app_id": "A0TEST",
        "team": {"id": TEAM_ID},
        "channel": {"id": "C0FB"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": answer["ts"], "channel_id": "C0FB"},
        "message": {"ts": answer["ts"], "thread_ts": event["ts"], "text": answer["text"]},
        "actions": [
            {
                "type": "button",
                "action_id": up["action_id"],
                "block_id": "assistant_feedback",
                "value": up["value"],
                "action_ts": str(time.time()),
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    assert post(server, body, form=True)[0] == 200
    slack.wait_for(lambda: slack.calls_to("chat.postEphemeral"))
    assert post(server, body, form=True)[0] == 200  # a second click by the same person
    slack.wait_for(lambda: len(slack.calls_to("chat.postEphemeral")) == 2)
    records = list(read_feedback(slack_settings.feedback_path))[before:]
    assert len(records) == 1
    record = records[0]
    assert (record.frontend, record.rating, record.refused) == ("slack", 1, False)
    assert record.question == "コンテナの起動速度は？" and record.answer == answer["text"]
    assert record.citations and {c["source"] for c in record.citations} == {
        str(ROOT / "corpus/containers-vs-vms.ja.md")
    }
    assert slack.calls_to("chat.postEphemeral")[1].params["text"] == "この回答はすでに評価済みです。"


# --- without a server ------------------------------------------------------------------


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"ASSISTANT_SLACK_BOT_TOKEN.*ASSISTANT_SLACK_SIGNING_SECRET"):
        check_credentials("http", bot_token=None, signing_secret=None)
    with pytest.raises(ConfigError, match="ASSISTANT_SLACK_APP_TOKEN") as info:
        check_credentials("socket", bot_token="xoxb-1", app_token=None)
    assert "BOT_TOKEN" not in info.value.message
    with pytest.raises(ConfigError, match="xapp-"):
        check_credentials("socket", bot_token="xoxb-1", app_token="xoxb-wrong")


def test_rejected_bot_token_is_a_config_error(slack_settings: Settings, slack: SlackStub) -> None:
    slack.fail("auth.test", 200, error="invalid_auth")
    with pytest.raises(ConfigError, match="invalid_auth") as info:
        build_app(
            Assistant(slack_settings), bot_token="xoxb-revoked", signing_secret=SECRET, api_url=slack.api_url
        )
    assert "ASSISTANT_SLACK_BOT_TOKEN" in info.value.hint


def test_long_answers_are_split_to_slack_limits() -> None:
    text = "".join(f"これは長い回答の{i}番目の文です[1]。" for i in range(8000))  # ~170k characters
    assert "".join(split_text(text)) == text
    citation = Passage("c1", "passage", "/docs/a.md", "A", ["h"], 1.0, 0.9, 1.0, 1.0, number=1, cited=True)
    answer = Answer("q", text, False, [citation], {}, "ja", "q", "extractive")
    messages = answer_messages(answer, "id1")
    blocks = [b for m in messages for b in m["blocks"]]
    assert all(len(m["blocks"]) <= 50 and len(m["text"]) <= 3000 for m in messages)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "".join(b["text"]["text"] for b in blocks if b["type"] == "section") == text
    assert len(messages) > 1 and blocks[-1]["type"] == "actions"
    assert text.startswith(messages[0]["text"][:-1]) and messages[0]["text"].endswith("…")


# --- load ----------------------------------------------------------------------------


@pytest.mark.slow
def test_load_fifty_concurrent_mentions(slack: SlackStub, server: SlackHTTPServer) -> None:
    events = [mention(slack, "C0LOAD", f"コンテナの起動速度は？ ({i})") for i in range(50)]
    bodies = [envelope(e) for e in events]
    started = time.perf_counter()
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda b: post(server, b), bodies))
    acked = time.perf_counter() - started
    slack.wait_for(lambda: len(slack.answers("C0LOAD")) >= 50, timeout=120)
    answered = time.perf_counter() - started
    time.sleep(0.5)
    latencies = sorted(r[2] for r in results)
    print(
        f"\nslack load: 50 mentions; all acked in {acked:.2f}s "
        f"(ack p50 {statistics.median(latencies) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms); "
        f"all answered in {answered:.2f}s ({50 / answered:.1f} answers/s)"
    )
    assert all(r[0] == 200 for r in results)
    assert latencies[-1] < 3.0
    threads = [a["thread_ts"] for a in slack.answers("C0LOAD")]
    assert sorted(threads) == sorted(e["ts"] for e in events)  # each answered exactly once
    assert len(slack.calls_to("chat.postMessage")) == 50
