"""The frontends' assistant through the real service: uvicorn on a free port (``fake:256``
embedder, API keys), driven by the client that `assistant.door.open_assistant` returns when
``server_url`` is set, and by the real Slack Bolt app receiving signed requests.

Every call the browser app and the Slack bot make works through the service as embedded;
admin calls use the admin key; a service that is down is a clear error, and the Slack bot
tells the asker so in their language, with their question.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.client import RemoteAssistant
from assistant.door import open_assistant
from assistant.errors import ConfigError, ServiceUnavailableError
from assistant.pipeline import Assistant
from assistant.server.auth import hash_key
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Delta, Sources, Turn

from .conftest import free_port
from .server_helpers import ADMIN_KEY, ORBIT_EN, ORBIT_JA, READ_KEY, running_service

OPENING = "At what time does the Orbit tea shop open every morning?"
BOOKS = "星見坂図書館では本を何冊まで借りられますか？"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("thin-docs")
    (root / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    (root / "hoshimi.ja.md").write_text(ORBIT_JA, encoding="utf-8")
    return root


def service_settings_in(data: Path, docs: Path) -> Settings:
    return load_settings(
        data_dir=data, embedder="fake:256", corpus=[docs], server_admin_keys=[hash_key(ADMIN_KEY)],
        server_read_keys=[hash_key(READ_KEY)], server_rate_limit=0,
    )  # fmt: skip


@pytest.fixture(scope="module")
def service_settings(tmp_path_factory: pytest.TempPathFactory, docs: Path) -> Settings:
    settings = service_settings_in(tmp_path_factory.mktemp("thin-svc") / "data", docs)
    Assistant(settings).ingest()
    return settings


@pytest.fixture(scope="module")
def url(service_settings: Settings) -> Iterator[str]:
    with running_service(service_settings) as base:
        yield base


def client_settings(url: str, data: Path, *, admin: bool = True) -> Settings:
    """A frontend's settings: its own (empty) data directory and the default embedder, which
    it would have to load if it were not a client; only the service's URL and keys."""
    return load_settings(data_dir=data, server_url=url, server_api_key=READ_KEY,
                         server_admin_api_key=ADMIN_KEY if admin else None)  # fmt: skip


def test_open_assistant_is_the_client_with_a_server_url_and_the_pipeline_without(
    url: str, tmp_path: Path
) -> None:
    assert isinstance(open_assistant(client_settings(url, tmp_path / "a")), RemoteAssistant)
    assert isinstance(open_assistant(load_settings(data_dir=tmp_path / "b", embedder="fake:256")), Assistant)


def test_stream_through_the_service_is_the_embedded_answer_sources_first(
    url: str, tmp_path: Path, service_settings: Settings
) -> None:
    bot = open_assistant(client_settings(url, tmp_path))
    events = list(bot.stream(OPENING))
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Sources") < kinds.index("Delta") and kinds[-1] == "Answer", kinds
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert "".join(e.text for e in events if isinstance(e, Delta)) == answer.answer
    sources = next(e for e in events if isinstance(e, Sources))
    assert sources.passages and answer.sources()[0].source.endswith("orbit.en.md")
    local = Assistant(service_settings).ask(OPENING)
    assert answer.answer == local.answer and "7:30" in answer.answer
    assert not (tmp_path / "chroma").exists()  # nothing was built on the client's side


def test_ask_with_history_info_and_index_version(
    url: str, tmp_path: Path, service_settings: Settings
) -> None:
    bot = open_assistant(client_settings(url, tmp_path))
    answer = bot.ask(BOOKS)
    assert "八冊" in answer.answer and answer.language == "ja"
    info = bot.info()
    local = Assistant(service_settings)
    assert (info.documents, info.chunks, info.sources) == (2, local.info().chunks, local.info().sources)
    assert bot.index_version() == local.index_version() is not None
    history = [Turn(OPENING, bot.ask(OPENING).answer)]
    follow_up = "What is its best-known drink?"
    remote, embedded = bot.ask(follow_up, history), local.ask(follow_up, history)
    assert remote.standalone_question == embedded.standalone_question != follow_up  # the history was used
    assert remote.answer == embedded.answer


def test_session_options_travel_with_each_question(url: str, tmp_path: Path) -> None:
    bot = open_assistant(client_settings(url, tmp_path))
    assert bot.with_options(top_k=bot.settings.top_k, answerer=bot.settings.answerer) is bot
    assert len(bot.ask(OPENING).citations) > 1
    one = bot.with_options(top_k=1, answerer=bot.settings.answerer)
    assert len(one.ask(OPENING).citations) == 1
    streamed = list(one.stream(OPENING))
    assert len(next(e for e in streamed if isinstance(e, Sources)).passages) == 1
    other = bot.with_options(top_k=2, answerer="openai:gpt-4o")
    with pytest.raises(ConfigError, match="does not offer the answerer"):
        other.ask(OPENING)


def test_the_service_checks_the_options_of_a_request(url: str) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {READ_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        bad = http.post("/v1/ask", json={"question": OPENING, "options": {"top_k": 0}})
        assert bad.status_code == 422 and "top_k" in bad.json()["error"]["message"]
        other = http.post(
            "/v1/ask/stream", json={"question": OPENING, "options": {"answerer": "llamacpp:/x.gguf"}}
        )
        assert other.status_code == 400 and other.json()["error"]["type"] == "ConfigError"
        one = http.post(
            "/v1/ask", json={"question": OPENING, "options": {"top_k": 1, "answerer": "extractive"}}
        )
        assert one.status_code == 200 and len(one.json()["citations"]) == 1
        info = http.get("/v1/info").json()["service"]
        assert info["answerer"] == "extractive" and info["top_k"] == 4


def test_upload_and_rebuild_through_the_service_with_the_admin_key(docs: Path, tmp_path: Path) -> None:
    settings = service_settings_in(tmp_path / "svc", docs)
    Assistant(settings).ingest()
    upload = tmp_path / "comet.en.md"
    upload.write_text("# The Comet bakery\n\nThe Comet bakery bakes melon bread at 5:40 every day.\n")
    with running_service(settings) as base:
        viewer = open_assistant(client_settings(base, tmp_path / "viewer", admin=False))
        with pytest.raises(ConfigError):
            viewer.documents()  # an admin call, and this frontend has only the read key
        with pytest.raises(ConfigError):
            viewer.ingest([upload])
        admin = open_assistant(client_settings(base, tmp_path / "admin"))
        report = admin.ingest([upload])
        assert report.changed and len(report.added) == 1
        source = report.added[0]
        assert source.endswith("comet.en.md") and not source.startswith(str(tmp_path / "admin"))
        assert {d.source: d.chunks for d in admin.documents()}[source] > 0
        again = admin.ingest([upload])
        assert not again.changed and again.unchanged == [source]
        assert "5:40" in viewer.ask("When does the Comet bakery bake melon bread?").answer
        rebuilt = admin.rebuild()
        assert len(rebuilt.added) + len(rebuilt.updated) + len(rebuilt.unchanged) == 3
        assert source in [d.source for d in admin.documents()]  # the upload survives a rebuild
        assert admin.info().documents == 3


def test_a_service_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    bot = open_assistant(client_settings(url, tmp_path))
    for call in (lambda: bot.ask(OPENING), lambda: list(bot.stream(OPENING)), bot.info, bot.index_version):
        with pytest.raises(ServiceUnavailableError) as caught:
            call()
        assert url in caught.value.message and "assistant serve" in caught.value.hint


# --- the Slack bot through the service ---------------------------------------------------

slack_stub = pytest.importorskip("tests.slack_stub")


@pytest.fixture(scope="module")
def stub() -> Iterator[Any]:
    stub = slack_stub.SlackStub().start()
    yield stub
    stub.stop()


def slack_server(settings: Settings, stub: Any) -> Any:
    from assistant.slack.app import build_bot, make_assistant
    from assistant.slack.server import make_http_server

    bot = build_bot(make_assistant(settings), bot_token="xoxb-test", signing_secret=slack_stub.SECRET,
                    api_url=stub.api_url)  # fmt: skip
    assert isinstance(bot.service.assistant, RemoteAssistant)
    bot.start()
    server = make_http_server(bot, slack_stub.SECRET, "127.0.0.1", 0, max_body=64_000, shutdown_grace=2)
    return server.start_in_thread()


def mention(stub: Any, server: Any, channel: str, text: str) -> dict[str, Any]:
    event: dict[str, Any] = slack_stub.mention_event(stub, channel, text)
    status, _, _ = slack_stub.signed_post(server.url, slack_stub.envelope(event))
    assert status == 200
    return event


def replies(stub: Any, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    return stub.wait_for(lambda: [m for m in stub.bot_messages(channel) if m.get("thread_ts") == thread_ts])


def test_slack_mention_is_answered_through_the_service(
    url: str, tmp_path: Path, stub: Any, service_settings: Settings
) -> None:
    server = slack_server(client_settings(url, tmp_path), stub)
    try:
        event = mention(stub, server, "C0THIN", OPENING)
        answer = stub.wait_for(
            lambda: [a for a in stub.answers("C0THIN") if a.get("thread_ts") == event["ts"]]
        )
        assert answer[0]["text"] == Assistant(service_settings).ask(OPENING).answer
        assert "7:30" in answer[0]["text"]
    finally:
        server.stop()
    assert not (tmp_path / "chroma").exists()


def test_slack_tells_the_asker_in_their_language_when_the_service_is_down_and_recovers(
    tmp_path: Path, stub: Any, docs: Path
) -> None:
    settings = service_settings_in(tmp_path / "svc", docs)
    Assistant(settings).ingest()
    port = free_port()
    with running_service(settings, port=port) as base:
        server = slack_server(client_settings(base, tmp_path / "bot"), stub)
    try:
        ja = mention(stub, server, "C0DOWN", BOOKS)
        told = replies(stub, "C0DOWN", ja["ts"])[0]["text"]
        assert "回答サービスにいま接続できない" in told and BOOKS in told
        en = mention(stub, server, "C0DOWN", OPENING)
        told = replies(stub, "C0DOWN", en["ts"])[0]["text"]
        assert "answering service cannot be reached" in told and OPENING in told
        assert "Traceback" not in told and "ConnectError" not in told
        with running_service(settings, port=port):  # back: the same bot answers again
            again = mention(stub, server, "C0BACK", OPENING)
            answer = stub.wait_for(
                lambda: [a for a in stub.answers("C0BACK") if a.get("thread_ts") == again["ts"]]
            )
            assert "7:30" in answer[0]["text"]
    finally:
        server.stop()
