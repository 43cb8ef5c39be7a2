"""The Slack bot end to end: the real Bolt app on Starlette under uvicorn (127.0.0.1) gets
signed requests as Slack sends them and talks to a local stand-in of the Slack Web API
(tests/slack_stub.py) that records every call."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("slack_bolt")

from assistant.errors import ConfigError
from assistant.feedback import read_feedback
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.slack import build_bot, check_credentials
from assistant.slack.formatting import answer_messages, snippet_mrkdwn, split_text, to_mrkdwn
from assistant.slack.manners import is_acknowledgement, mentions_someone_else
from assistant.slack.server import SlackServer, make_http_server
from assistant.slack.state import SlackState
from assistant.types import Answer, Passage
from tests.slack_stub import (
    BOT_USER_ID,
    MENTION,
    SECRET,
    TEAM_ID,
    SlackStub,
    blocks_of,
    click_payload,
    envelope,
    form,
    mention_event,
    message_event,
    signed_post,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def slack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("slack-data"), embedder="fake:256", corpus=[ROOT / "corpus"],
        source_url_base="https://docs.example.com/kb",
    )  # fmt: skip
    Assistant(settings).ingest([ROOT / "corpus"])
    return settings


@pytest.fixture(scope="module")
def stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


def serve(settings: Settings, stub: SlackStub) -> SlackServer:
    bot = build_bot(Assistant(settings), bot_token="xoxb-test", signing_secret=SECRET, api_url=stub.api_url)
    bot.start()
    return make_http_server(bot, SECRET, "127.0.0.1", 0, max_body=64_000, shutdown_grace=2).start_in_thread()


@pytest.fixture(scope="module")
def server(slack_settings: Settings, stub: SlackStub) -> Iterator[SlackServer]:
    server = serve(slack_settings, stub)
    yield server
    server.stop()


@pytest.fixture
def slack(stub: SlackStub, server: SlackServer) -> Iterator[SlackStub]:
    stub.reset()
    yield stub
    stub.reset()


def post(server: SlackServer, body: str | bytes, **kwargs: Any) -> tuple[int, str, float]:
    return signed_post(server.url, body, **kwargs)


def answer_in(stub: SlackStub, channel: str, thread_ts: str | None, timeout: float = 15) -> dict[str, Any]:
    found = stub.wait_for(
        lambda: [a for a in stub.answers(channel) if a.get("thread_ts") == thread_ts], timeout=timeout
    )
    return dict(found[0])


def block_texts(message: dict[str, Any], kind: str) -> list[str]:
    texts = []
    for block in message["blocks"]:
        if block["type"] == kind == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == kind == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


def quiet(stub: SlackStub, channel: str, seconds: float = 0.6) -> bool:
    """Nothing was posted in the channel (waiting a little for anything late)."""
    time.sleep(seconds)
    return not stub.bot_messages(channel) and not [
        c for c in stub.calls_to("chat.postEphemeral", ok_only=False) if c.params.get("channel") == channel
    ]


def get(server: SlackServer, path: str, method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- HTTP endpoint ---------------------------------------------------------------------


def test_url_verification_health_and_readiness(slack: SlackStub, server: SlackServer) -> None:
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    status, text, _ = post(server, body)
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV" in text
    status, data = get(server, "/healthz")
    assert status == 200 and json.loads(data)["ok"] is True
    assert get(server, "/healthz", "HEAD") == (200, b"")
    status, data = get(server, "/readyz")
    ready = json.loads(data)
    assert status == 200 and ready["index"]["chunks"] > 0 and ready["slack"]["ok"] is True
    assert get(server, "/readyz", "HEAD")[0] == 200


def test_readiness_fails_without_an_index(tmp_path: Path, stub: SlackStub) -> None:
    stub.reset()
    empty = load_settings(data_dir=tmp_path / "data", embedder="fake:256")
    server = serve(empty, stub)
    try:
        status, data = get(server, "/readyz")
        assert status == 503 and json.loads(data)["index"]["ok"] is False
        assert get(server, "/healthz")[0] == 200
    finally:
        server.stop()


def test_forged_malformed_and_oversized_requests_are_refused(slack: SlackStub, server: SlackServer) -> None:
    body = envelope(mention_event(slack, "C0SEC", "コンテナの起動速度は？"))
    assert post(server, body, secret="wrong-secret")[0] == 401
    assert post(server, body, timestamp=int(time.time()) - 10 * 60)[0] == 401
    assert post(server, body, timestamp="yesterday")[0] == 401
    assert post(server, body, headers={"X-Slack-Signature": ""})[0] == 401
    assert post(server, "{not json", timestamp=None)[0] == 400  # signed, but not a body Slack sends
    assert post(server, form({"type": "block_actions"}).replace("payload=", "payload=%7B"))[0] == 400
    assert post(server, b"\xff\xfe{}")[0] in (400, 401)
    big = envelope({**mention_event(slack, "C0SEC", "x"), "padding": "あ" * 30_000})
    assert post(server, big)[0] == 413
    assert quiet(slack, "C0SEC")
    assert slack.calls_to("chat.postMessage", ok_only=False) == []
    assert get(server, "/healthz")[0] == 200  # still serving


# --- answering -----------------------------------------------------------------------


def test_mention_is_answered_in_its_thread_with_sources_and_buttons(
    slack: SlackStub, server: SlackServer, slack_settings: Settings
) -> None:
    event = mention_event(slack, "C0MENTION", "コンテナの起動速度はどのくらいですか？")
    status, _, seconds = post(server, envelope(event))
    assert status == 200 and seconds < 3
    answer = answer_in(slack, "C0MENTION", event["ts"])
    expected = Assistant(slack_settings).ask("コンテナの起動速度はどのくらいですか？")
    assert answer["text"] == expected.answer  # the notification shows the answer itself
    sources = block_texts(answer, "context")
    assert sources[0] == "*出典*"
    first = Path(expected.sources()[0].source).resolve().relative_to((ROOT / "corpus").resolve())
    assert sources[1].startswith(f"*[1]* <https://docs.example.com/kb/{first.as_posix()}|")
    assert "**" not in " ".join(sources)
    buttons = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["assistant_feedback_up", "assistant_feedback_down"]
    assert len(slack.bot_messages("C0MENTION")) == 1  # no placeholder, no edit
    slack.wait_for(lambda: slack.calls_to("reactions.remove"))
    assert [c.params["name"] for c in slack.calls_to("reactions.add")] == ["eyes"]
    assert slack.reactions[("C0MENTION", event["ts"])] == set()  # 👀 while working, then gone


def test_direct_messages_are_answered_top_level_with_context(slack: SlackStub, server: SlackServer) -> None:
    first = slack.add_user_message("D0DM", "What does a container share with the host?")
    assert post(server, envelope(message_event(first, "D0DM", "im")))[0] == 200
    answer = answer_in(slack, "D0DM", None)
    assert block_texts(answer, "context")[0] == "*Sources*"
    thanks = slack.add_user_message("D0DM", "thanks!")
    post(server, envelope(message_event(thanks, "D0DM", "im")))
    second = slack.add_user_message("D0DM", "And how fast does it start?")
    post(server, envelope(message_event(second, "D0DM", "im")))
    slack.wait_for(lambda: len(slack.answers("D0DM")) == 2)
    assert all("thread_ts" not in a for a in slack.answers("D0DM"))
    history = slack.calls_to("conversations.history")
    assert history and history[-1].params["channel"] == "D0DM"
    assert len(slack.bot_messages("D0DM")) == 2  # "thanks!" got no answer


def test_empty_mention_gets_a_hint_in_its_thread(slack: SlackStub, server: SlackServer) -> None:
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


def test_bots_and_duplicates_are_ignored(slack: SlackStub, server: SlackServer) -> None:
    other = {"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "text": "hello",
             "ts": slack.new_ts(), "channel": "D0BOT", "channel_type": "im"}  # fmt: skip
    assert post(server, envelope(other))[0] == 200
    event = mention_event(slack, "C0DUP", "コンテナは何を仮想化しますか？")
    body = envelope(event)
    for headers in ({}, {}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}):
        assert post(server, body, headers=headers)[0] == 200
    post(server, envelope(message_event({k: event[k] for k in ("user", "text", "ts")}, "C0DUP")))
    answer_in(slack, "C0DUP", event["ts"])
    time.sleep(0.5)
    assert len(slack.answers("C0DUP")) == 1 and quiet(slack, "D0BOT", 0)


# --- thread manners --------------------------------------------------------------------


def test_thread_manners(slack: SlackStub, server: SlackServer) -> None:
    first = mention_event(slack, "C0THREAD", "仮想マシンの起動にはどれくらい時間がかかる？")
    post(server, envelope(first))
    answer_in(slack, "C0THREAD", first["ts"])
    thread = first["ts"]

    def say(text: str, user: str = "UHUMAN") -> None:
        message = slack.add_user_message("C0THREAD", text, thread_ts=thread, user=user)
        assert post(server, envelope(message_event(message, "C0THREAD")))[0] == 200

    for text in (
        "ありがとう！",
        "了解です 👍",
        "thanks, got it :+1:",
        "<@UOTHER> コンテナの起動速度はどうですか？",
    ):
        say(text)  # thanks, acknowledgements, a message addressed to someone else
    say("コンテナの起動速度はどうですか？", user="USTRANGER")  # someone who never asked the bot
    stray = slack.add_user_message("C0THREAD", "ランチに行きませんか？")  # outside the thread
    post(server, envelope(message_event(stray, "C0THREAD")))
    time.sleep(1.0)
    assert len(slack.answers("C0THREAD")) == 1
    say("コンテナはどうですか？")  # the asker's follow-up: answered, with the thread as context
    slack.wait_for(lambda: len(slack.answers("C0THREAD")) == 2)
    assert all(a.get("thread_ts") == thread for a in slack.answers("C0THREAD"))
    assert slack.calls_to("conversations.replies")[-1].params["ts"] == thread
    # A mention always works, also from someone else; then that person may follow up too.
    again = mention_event(slack, "C0THREAD", "仮想マシンとは？", thread_ts=thread, user="USTRANGER")
    post(server, envelope(again))
    slack.wait_for(lambda: len(slack.answers("C0THREAD")) == 3)


def test_follow_ups_stop_after_the_window(tmp_path: Path, slack_settings: Settings, stub: SlackStub) -> None:
    stub.reset()
    short = slack_settings.model_copy(
        update={"slack_thread_window_minutes": 0.02, "data_dir": slack_settings.data_dir}
    )
    server = serve(short.model_copy(), stub)
    try:
        first = mention_event(stub, "C0WINDOW", "コンテナとは？")
        post(server, envelope(first))
        answer_in(stub, "C0WINDOW", first["ts"])
        time.sleep(1.5)  # past the 1.2 s window
        late = stub.add_user_message("C0WINDOW", "仮想マシンはどうですか？", thread_ts=first["ts"])
        post(server, envelope(message_event(late, "C0WINDOW")))
        time.sleep(1.0)
        assert len(stub.answers("C0WINDOW")) == 1
    finally:
        server.stop()


def test_acknowledgement_and_mention_rules() -> None:
    for text in (
        "ありがとう！",
        "了解です 👍",
        "ありがとうございます、助かりました🙏",
        "OK",
        "Thanks a lot!",
        ":pray:",
    ):
        assert is_acknowledgement(text), text
    for text in (
        "ありがとう、でもコンテナの起動速度は？",
        "thanks. and how fast is it",
        "了解?",
        "コンテナとは",
    ):
        assert not is_acknowledgement(text), text
    assert mentions_someone_else("<@U123> 見てください", BOT_USER_ID)
    assert mentions_someone_else("<!here> 確認", BOT_USER_ID)
    assert not mentions_someone_else(f"<@{BOT_USER_ID}> 質問です", BOT_USER_ID)


# --- access ----------------------------------------------------------------------------


def test_external_users_are_refused_politely(slack: SlackStub, server: SlackServer) -> None:
    event = {
        **mention_event(slack, "C0SHARED", "コンテナの起動速度は？", user="UEXTERNAL"),
        "user_team": "T0OTHER",
    }
    assert post(server, envelope(event))[0] == 200
    slack.wait_for(lambda: slack.calls_to("chat.postEphemeral"))
    note = slack.calls_to("chat.postEphemeral")[0].params
    assert note["user"] == "UEXTERNAL" and "所属ワークスペース" in note["text"]
    time.sleep(0.5)
    assert slack.bot_messages("C0SHARED") == [] and not slack.calls_to("reactions.add")


# --- feedback ------------------------------------------------------------------------


def test_feedback_shows_its_state_and_can_be_changed(
    slack: SlackStub, server: SlackServer, slack_settings: Settings
) -> None:
    event = mention_event(slack, "C0FB", "コンテナの起動速度は？")
    post(server, envelope(event))
    answer = answer_in(slack, "C0FB", event["ts"])
    before = len(list(read_feedback(slack_settings.feedback_path)))
    assert post(server, form(click_payload(answer, "C0FB", 0)), form=True)[0] == 200
    slack.wait_for(lambda: slack.calls_to("chat.update"))
    buttons = blocks_of(slack.calls_to("chat.update")[-1].params)[-1]["elements"]
    assert buttons[0]["text"]["text"].endswith("(1)") and buttons[0]["style"] == "primary"
    assert post(server, form(click_payload(answer, "C0FB", 1)), form=True)[0] == 200  # changed to 👎
    slack.wait_for(lambda: len(slack.calls_to("chat.update")) == 2)
    buttons = blocks_of(slack.calls_to("chat.update")[-1].params)[-1]["elements"]
    assert buttons[1]["text"]["text"].endswith("(1)") and not buttons[0]["text"]["text"].endswith(")")
    notes = [c.params["text"] for c in slack.calls_to("chat.postEphemeral")]
    assert notes == [
        "👍 として記録しました。👎 を押すと変更できます。",
        "👎 として記録しました。👍 を押すと変更できます。",
    ]
    records = list(read_feedback(slack_settings.feedback_path))[before:]
    assert [r.rating for r in records] == [1, -1] and records[1].extra["replaces_rating"] == 1
    assert records[0].question == "コンテナの起動速度は？" and records[0].answer == answer["text"]


# --- /ask and App Home ---------------------------------------------------------------


def test_ask_command_acks_at_once_then_answers_privately(slack: SlackStub, server: SlackServer) -> None:
    command = {"command": "/ask", "text": "コンテナの起動速度は？", "user_id": "UHUMAN", "team_id": TEAM_ID,
               "channel_id": "C0CMD", "channel_name": "general", "trigger_id": "t-1",
               "response_url": slack.response_url("cmd1")}  # fmt: skip
    from urllib.parse import urlencode

    status, text, seconds = post(server, urlencode(command), form=True)
    assert status == 200 and seconds < 1 and json.loads(text)["text"] == "考え中…"
    slack.wait_for(lambda: slack.responses)
    reply = slack.responses[0]
    assert reply["response_type"] == "ephemeral" and reply["blocks"][-1]["type"] == "actions"
    empty = post(server, urlencode({**command, "text": ""}), form=True)
    assert "/ask" in json.loads(empty[1])["text"]


def test_app_home_shows_usage_and_index_status(slack: SlackStub, server: SlackServer) -> None:
    event = {"type": "app_home_opened", "user": "UHUMAN", "channel": "D0HOME", "tab": "home"}
    assert post(server, envelope(event))[0] == 200
    slack.wait_for(lambda: "UHUMAN" in slack.views)
    text = json.dumps(slack.views["UHUMAN"], ensure_ascii=False)
    assert "/ask" in text and "件" in text and "passages" in text


# --- rate limits and failures ---------------------------------------------------------


def test_rate_limit_is_honoured_then_succeeds(slack: SlackStub, server: SlackServer) -> None:
    slack.fail("chat.postMessage", 429, times=2, retry_after=1)
    event = mention_event(slack, "C0RATE", "コンテナの起動速度は？")
    post(server, envelope(event))
    answer_in(slack, "C0RATE", event["ts"], timeout=20)
    posts = slack.calls_to("chat.postMessage", ok_only=False)
    assert [c.status for c in posts] == [429, 429, 200]
    assert posts[1].at - posts[0].at >= 0.9 and posts[2].at - posts[1].at >= 0.9  # waited for Retry-After


def test_persistent_failure_ends_in_an_apology(
    tmp_path: Path, slack_settings: Settings, stub: SlackStub
) -> None:
    stub.reset()
    settings = slack_settings.model_copy(update={"slack_delivery_deadline": 2.0})
    server = serve(settings, stub)
    try:
        stub.fail("chat.postMessage", 500, times=4)  # the answer's tries fail, the apology gets through
        event = mention_event(stub, "C0FAIL", "コンテナの起動速度は？")
        post(server, envelope(event))
        stub.wait_for(
            lambda: any("申し訳ありません" in m["text"] for m in stub.bot_messages("C0FAIL")), timeout=20
        )
        assert len(stub.calls_to("chat.postMessage", ok_only=False)) >= 4
    finally:
        server.stop()


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
        build_bot(
            Assistant(slack_settings), bot_token="xoxb-revoked", signing_secret=SECRET, api_url=slack.api_url
        )
    assert "ASSISTANT_SLACK_BOT_TOKEN" in info.value.hint


def test_long_answers_notes_and_snippets_follow_slack_limits() -> None:
    text = "".join(f"これは長い回答の{i}番目の文です[1]。" for i in range(8000))  # ~170k characters
    assert "".join(split_text(text)) == text
    snippet = "| a | **b** |\n|---|---|\n# 見出し"
    citation = Passage("c1", snippet, "/docs/a.md", "A", ["h"], 1.0, 0.9, 1.0, 1.0, number=1, cited=True)
    answer = Answer(
        "q", text, False, [citation], {}, "ja", "q", "extractive", notes=["language model unavailable"]
    )
    messages = answer_messages(answer, "id1")
    blocks = [b for m in messages for b in m["blocks"]]
    assert all(len(m["blocks"]) <= 50 and len(m["text"]) <= 3000 for m in messages)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "".join(b["text"]["text"] for b in blocks if b["type"] == "section") == text
    assert len(messages) > 1 and blocks[-1]["type"] == "actions"
    assert any(
        "language model unavailable" in e["text"]
        for b in blocks
        if b["type"] == "context"
        for e in b["elements"]
    )
    assert snippet_mrkdwn(citation.text) == "a *b* 見出し"


def test_a_code_block_of_an_answer_reaches_slack_as_written() -> None:
    # a shell comment is not a heading, ** in code is not emphasis; <> is escaped everywhere
    text = "**Ports**: [1]\n```\n$ run -p 1:2  # <local> only\n# **not bold**\n```\n## After [2]"
    assert to_mrkdwn(text) == (
        "*Ports*: [1]\n```\n$ run -p 1:2  # &lt;local&gt; only\n# **not bold**\n```\n*After [2]*"
    )


# --- restarts, channels, retention ------------------------------------------------------


def test_old_unanswered_questions_are_told_to_ask_again_at_start(
    tmp_path: Path, slack_settings: Settings, stub: SlackStub
) -> None:
    stub.reset()
    state = SlackState(tmp_path / "state.sqlite3")
    fresh = stub.add_user_message("C0RESTART", f"{MENTION} コンテナとは？")
    stale = stub.add_user_message("C0RESTART", f"{MENTION} 仮想マシンとは？")
    for message, text in ((fresh, "コンテナとは？"), (stale, "仮想マシンとは？")):
        state.add_question(f"C0RESTART:{message['ts']}", {
            "key": f"C0RESTART:{message['ts']}", "kind": "message", "channel": "C0RESTART",
            "ts": message["ts"], "thread_ts": message["ts"], "user": "UHUMAN", "text": text,
            "language": "ja", "dm": False, "received_at": time.time(),
        })  # fmt: skip
    state._db.execute(  # the stale one was acknowledged two hours ago
        "UPDATE questions SET received_at = ? WHERE key = ?", (time.time() - 7200, f"C0RESTART:{stale['ts']}")
    )
    state.close()
    bot = build_bot(Assistant(slack_settings), bot_token="xoxb-test", signing_secret=SECRET,
                    api_url=stub.api_url, state_path=tmp_path / "state.sqlite3")  # fmt: skip
    try:
        assert bot.start() == 2
        answer_in(stub, "C0RESTART", fresh["ts"])
        told = stub.wait_for(
            lambda: [m for m in stub.bot_messages("C0RESTART") if m.get("thread_ts") == stale["ts"]]
        )
        assert "もう一度質問してください" in told[0]["text"] and "仮想マシンとは？" in told[0]["text"]
        stub.wait_for(lambda: bot.service.state.pending_questions() == [])
    finally:
        bot.stop(1)


def test_allowed_channels(tmp_path: Path, slack_settings: Settings, stub: SlackStub) -> None:
    stub.reset()
    server = serve(slack_settings.model_copy(update={"slack_allowed_channels": ["C0OPEN"]}), stub)
    try:
        closed = mention_event(stub, "C0CLOSED", "コンテナとは？")
        post(server, envelope(closed))
        stub.wait_for(lambda: stub.calls_to("chat.postEphemeral"))
        assert "ダイレクトメッセージ" in stub.calls_to("chat.postEphemeral")[0].params["text"]
        opened = mention_event(stub, "C0OPEN", "コンテナとは？")
        post(server, envelope(opened))
        answer_in(stub, "C0OPEN", opened["ts"])
        assert stub.bot_messages("C0CLOSED") == []
    finally:
        server.stop()


def test_retention_prunes_question_and_answer_texts(tmp_path: Path) -> None:
    state = SlackState(tmp_path / "state.sqlite3", retention_days=30)
    state.add_question("C1:1", {"text": "秘密の質問"})
    state.set_status("C1:1", "answered")
    old = state.save_answer({"answer": {"answer": "古い回答"}})
    new = state.save_answer({"answer": {"answer": "新しい回答"}})
    state.rate(old, "U1", 1)
    state._db.execute("UPDATE answers SET created_at = ? WHERE id = ?", (time.time() - 31 * 86400, old))
    assert state._rows("SELECT data FROM questions") == [(None,)]
    state.prune(force=True)
    assert state.load_answer(old) is None and state.load_answer(new) is not None
    assert state.rating_counts(old) == {}
    assert state._rows("SELECT data FROM questions") == [(None,)]  # answered: its text is gone at once
    state._db.execute("UPDATE questions SET received_at = ?", (time.time() - 31 * 86400,))
    state.prune(force=True)
    assert state.count("questions") == 0
    state.close()
