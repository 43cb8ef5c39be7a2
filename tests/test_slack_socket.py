"""Socket Mode end to end: Bolt's Socket Mode handler connects (after ``apps.connections.open``
on the Web API stand-in) to a local WebSocket stand-in of Slack, receives ``hello``, events
and interactive payloads, acknowledges them, and reconnects on refresh and on a dropped socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("slack_bolt")
pytest.importorskip("websockets")

from slack_bolt.adapter.socket_mode import SocketModeHandler

from assistant.pipeline import Assistant
from assistant.settings import load_settings
from assistant.slack import build_bot
from tests.slack_stub import SlackStub, SocketStandIn, click_payload, mention_event

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stubs(tmp_path: Path) -> Iterator[tuple[SlackStub, SocketStandIn, SocketModeHandler]]:
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256")
    Assistant(settings).ingest([ROOT / "corpus"])
    stub, socket = SlackStub().start(), SocketStandIn().start()
    stub.socket_url = socket.url
    bot = build_bot(Assistant(settings), bot_token="xoxb-test", api_url=stub.api_url, mode="socket")
    bot.start()
    handler = SocketModeHandler(bot.app, "xapp-test", ping_interval=1)
    handler.connect()
    try:
        yield stub, socket, handler
    finally:
        handler.close()
        bot.stop(1)
        socket.stop()
        stub.stop()


def test_socket_mode_answers_a_mention_and_a_click_and_reconnects(
    stubs: tuple[SlackStub, SocketStandIn, SocketModeHandler],
) -> None:
    stub, socket, _ = stubs
    socket.wait_connections(1)
    event = mention_event(stub, "C0SOCK", "コンテナの起動速度は？")
    envelope = {"type": "event_callback", "team_id": "T0TEST", "event": event, "event_id": "EvSOCK1",
                "event_time": 1, "api_app_id": "A0TEST"}  # fmt: skip
    ack, seconds = socket.send("events_api", envelope)
    assert ack["envelope_id"] and seconds < 1
    answer = stub.wait_for(lambda: stub.answers("C0SOCK"))[0]
    assert answer["thread_ts"] == event["ts"]

    # Slack asks for a refresh: the client opens a new connection and keeps working.
    socket.refresh()
    socket.wait_connections(2)
    ack, seconds = socket.send("interactive", click_payload(answer, "C0SOCK", 0))
    assert seconds < 1
    stub.wait_for(lambda: stub.calls_to("chat.postEphemeral"))
    assert "👍" in stub.calls_to("chat.postEphemeral")[0].params["text"]
    assert len(stub.calls_to("apps.connections.open")) >= 2

    # The socket drops: the client reconnects by itself.
    socket.drop()
    socket.wait_connections(3, timeout=30)
    second = mention_event(stub, "C0SOCK", "仮想マシンとは？")
    socket.send("events_api", {**envelope, "event": second, "event_id": "EvSOCK2"})
    stub.wait_for(lambda: [a for a in stub.answers("C0SOCK") if a["thread_ts"] == second["ts"]])
