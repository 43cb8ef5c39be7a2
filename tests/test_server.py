"""The HTTP service end to end: uvicorn on a free port, driven by real HTTP clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.pipeline import Assistant
from assistant.server.auth import hash_key
from assistant.settings import Settings, load_settings

from .server_helpers import ADMIN_KEY, ORBIT_EN, ORBIT_JA, READ_KEY, running_service


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    (root / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    (root / "hoshimi.ja.md").write_text(ORBIT_JA, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def service_settings(tmp_path_factory: pytest.TempPathFactory, docs: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path_factory.mktemp("svc") / "data",
        embedder="fake:256",
        corpus=[docs],
        server_admin_keys=[hash_key(ADMIN_KEY)],
        server_read_keys=[hash_key(READ_KEY)],
        server_max_request_bytes=64_000,
        server_rate_limit=0,
    )


@pytest.fixture(scope="module")
def url(service_settings: Settings) -> Iterator[str]:
    Assistant(service_settings).ingest()
    with running_service(service_settings) as base:
        yield base


def client(url: str, key: str | None = READ_KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def test_ask_returns_the_cli_json(url: str, service_settings: Settings) -> None:
    with client(url) as http:
        response = http.post(
            "/v1/ask", json={"question": "At what time does the Orbit tea shop open every morning?"}
        )
    assert response.status_code == 200, response.text
    data = response.json()
    assert "7:30" in data["answer"]
    assert not data["refused"]
    cited = [c for c in data["citations"] if c["cited"]]
    assert cited and cited[0]["source"].endswith("orbit.en.md")
    # The same record as the embedded assistant's Answer.to_dict().
    local = (
        Assistant(service_settings).ask("At what time does the Orbit tea shop open every morning?").to_dict()
    )
    assert set(data) == set(local)
    assert data["answer"] == local["answer"]


def test_japanese_question(url: str) -> None:
    with client(url) as http:
        data = http.post("/v1/ask", json={"question": "星見坂図書館では本を何冊まで借りられますか？"}).json()
    assert "八冊" in data["answer"]
    assert data["language"] == "ja"


def test_stream_sends_text_then_the_final_record(url: str) -> None:
    events: list[tuple[str, dict]] = []
    with (
        client(url) as http,
        http.stream(
            "POST", "/v1/ask/stream", json={"question": "What is the best-known drink of the Orbit tea shop?"}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:])))
    names = [n for n, _ in events]
    assert names[-2:] == ["answer", "done"]
    assert "delta" in names and names.index("delta") < names.index("answer")
    assert names.index("sources") < names.index("delta")  # sources first, then the text
    sources = events[names.index("sources")][1]["passages"]
    assert any(p["source"].endswith("orbit.en.md") for p in sources)
    final = events[-2][1]
    text = "".join(d["text"] for n, d in events if n == "delta")
    assert final["answer"] in text
    assert "hojicha" in final["answer"]


def test_errors_carry_message_and_hint(url: str) -> None:
    with client(url) as http:
        empty = http.post("/v1/ask", json={"question": "   "})
        stream = http.post("/v1/ask/stream", json={"question": ""})
        malformed = http.post("/v1/ask", json={"q": "no question field"})
        missing = http.get("/v1/nothing-here")
    assert empty.status_code == 400
    error = empty.json()["error"]
    assert error["type"] == "InvalidQuestionError" and error["message"] and error["hint"]
    assert stream.status_code == 400  # errors before the stream starts are HTTP errors
    assert malformed.status_code == 422 and "question" in malformed.json()["error"]["message"]
    assert missing.status_code == 404 and missing.json()["error"]["hint"]


def test_auth_no_key_wrong_key_read_only_key(url: str) -> None:
    question = {"question": "At what time does the Orbit tea shop open every morning?"}
    upload = {"files": [{"name": "x.md", "content": "# X\n\nA line of text."}]}
    with client(url, None) as anonymous, client(url, "wrong") as wrong, client(url) as reader:
        assert anonymous.post("/v1/ask", json=question).status_code == 401
        assert wrong.post("/v1/ask", json=question).status_code == 401
        assert anonymous.get("/v1/models").status_code == 401
        forbidden = reader.post("/v1/ingest", json=upload)
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["hint"]
        assert reader.get("/v1/documents").status_code == 403
        assert reader.post("/v1/ask", json=question).status_code == 200
        # Health and the API docs need no key.
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        assert anonymous.get("/docs").status_code == 200
        assert "/v1/chat/completions" in anonymous.get("/openapi.json").json()["paths"]


def test_oversized_request_is_refused(url: str) -> None:
    huge = {"files": [{"name": "big.md", "content": "x" * 100_000}]}
    with client(url, ADMIN_KEY) as admin:
        response = admin.post("/v1/ingest", json=huge)
        assert response.status_code == 413
        assert "ASSISTANT_SERVER_MAX_REQUEST_BYTES" in response.json()["error"]["hint"]

        # Without a Content-Length (chunked upload) the limit holds as well.
        def body() -> Iterator[bytes]:
            yield json.dumps(huge).encode()

        assert admin.post("/v1/ingest", content=body()).status_code == 413
        assert admin.get("/v1/documents").status_code == 200  # the service is fine afterwards


def test_admin_ingests_an_upload_and_it_is_answered(url: str) -> None:
    doc = "# Lantern ferry\n\nThe lantern ferry to Kiri island leaves from pier 4 at dusk.\n"
    with client(url, ADMIN_KEY) as admin:
        before = {d["source"] for d in admin.get("/v1/documents").json()["data"]}
        report = admin.post("/v1/ingest", json={"files": [{"name": "notes/ferry.md", "content": doc}]}).json()
        assert len(report["added"]) == 1 and report["chunks_embedded"] >= 1
        after = {d["source"] for d in admin.get("/v1/documents").json()["data"]}
        assert len(after - before) == 1 and next(iter(after - before)).endswith("notes/ferry.md")
        answer = admin.post("/v1/ask", json={"question": "Which pier does the lantern ferry leave from?"})
        assert "pier 4" in answer.json()["answer"]
        bad = admin.post("/v1/ingest", json={"files": [{"name": "../escape.md", "content": "x"}]})
        assert bad.status_code == 400 and bad.json()["error"]["hint"]


def test_info(url: str) -> None:
    with client(url) as http:
        data = http.get("/v1/info").json()
    assert data["index"]["documents"] >= 2
    assert data["index"]["manifest"]["embedder"].startswith("fake")
    assert data["service"]["model"] == "assistant"


def test_rate_limit(tmp_path: Path, docs: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[docs],
                             server_rate_limit=3)  # fmt: skip
    with running_service(settings) as base, httpx.Client(base_url=base) as http:
        codes = [http.get("/v1/models").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[-1] == 429
        limited = http.get("/v1/models")
        assert int(limited.headers["Retry-After"]) >= 1
        assert "ASSISTANT_SERVER_RATE_LIMIT" in limited.json()["error"]["hint"]


def test_keys_must_be_hashes_and_exposure_needs_keys(tmp_path: Path) -> None:
    from assistant.errors import ConfigError
    from assistant.server.app import check_exposure
    from assistant.server.auth import KeyRing

    with pytest.raises(ConfigError) as plain:
        KeyRing(load_settings(data_dir=tmp_path, server_admin_keys=["s3cret"]))
    assert "--hash-key" in plain.value.hint
    open_settings = load_settings(data_dir=tmp_path)
    check_exposure(open_settings, "127.0.0.1")
    with pytest.raises(ConfigError):
        check_exposure(open_settings, "0.0.0.0")
    check_exposure(load_settings(data_dir=tmp_path, server_read_keys=[hash_key("k")]), "0.0.0.0")
