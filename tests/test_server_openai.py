"""The OpenAI-compatible endpoint, driven by the real OpenAI SDK (`openai` package)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

openai = pytest.importorskip("openai")

from assistant.pipeline import Assistant  # noqa: E402
from assistant.server.auth import hash_key  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

from .server_helpers import ORBIT_EN, ORBIT_JA, READ_KEY, running_service  # noqa: E402


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("docs")
    (root / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    (root / "hoshimi.ja.md").write_text(ORBIT_JA, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("svc") / "data",
        embedder="fake:256",
        corpus=[root],
        server_read_keys=[hash_key(READ_KEY)],
        server_rate_limit=0,
    )
    Assistant(settings).ingest()
    with running_service(settings) as base:
        yield base


@pytest.fixture
def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=READ_KEY, max_retries=0)


def test_models_lists_the_assistant(sdk: openai.OpenAI) -> None:
    assert [m.id for m in sdk.models.list()] == ["assistant"]


def test_completion_cites_and_lists_sources(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="assistant",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "At what time does the Orbit tea shop open every morning?"},
        ],
    )
    text = completion.choices[0].message.content or ""
    assert "7:30" in text and "[1]" in text
    assert "**Sources**" in text and "orbit.en.md" in text.split("**Sources**")[1]
    sources = completion.model_extra["sources"]
    assert sources and sources[0]["source"].endswith("orbit.en.md") and sources[0]["number"] == 1
    assert completion.choices[0].finish_reason == "stop"


def test_streaming_with_the_sdk(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "星見坂図書館では本を何冊まで借りられますか？"}],
        stream=True,
    )
    pieces, sources, finish = [], None, None
    for chunk in stream:
        delta = chunk.choices[0].delta
        if delta.content:
            pieces.append(delta.content)
        if chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
            sources = chunk.model_extra.get("sources")
    text = "".join(pieces)
    assert len(pieces) >= 2  # the answer, then the sources footer
    assert "八冊" in text and "**出典**" in text
    assert finish == "stop" and sources and sources[0]["source"].endswith("hoshimi.ja.md")


def test_follow_up_uses_the_history(sdk: openai.OpenAI) -> None:
    first = sdk.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "Tell me about the Orbit tea shop's opening hours."}],
    )
    previous = first.choices[0].message.content or ""
    follow_up = sdk.chat.completions.create(
        model="assistant",
        messages=[
            {"role": "user", "content": "Tell me about the Orbit tea shop's opening hours."},
            {"role": "assistant", "content": previous},  # echoed back with our footer
            {"role": "user", "content": "And what is its best-known drink?"},
        ],
    )
    text = follow_up.choices[0].message.content or ""
    assert "hojicha" in text
    # The question was made standalone from the history, which the footer did not pollute.
    standalone = follow_up.model_extra["standalone_question"]
    assert "Orbit" in standalone and "Sources" not in standalone
    alone = sdk.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "And what is its best-known drink?"}]
    )
    assert "Orbit" not in alone.model_extra["standalone_question"]


def test_errors_reach_the_sdk(url: str, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="assistant", messages=[{"role": "assistant", "content": "hi"}])
    assert "last message" in str(bad.value)
    anonymous = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "hi"}])
    raw = httpx.post(f"{url}/v1/chat/completions", json={"messages": []},
                     headers={"Authorization": f"Bearer {READ_KEY}"})  # fmt: skip
    assert raw.status_code == 422


def test_footer_is_not_fed_back_as_history(tmp_path: Path) -> None:
    from assistant.server.chat import conversation, strip_footer
    from assistant.server.schemas import ChatMessage

    answer = "It opens at 7:30. [1]\n\n---\n**Sources**\n[1] The Orbit tea shop — /x/orbit.en.md"
    assert strip_footer(answer) == "It opens at 7:30. [1]"
    question, history = conversation(
        [ChatMessage(role="user", content="q1"), ChatMessage(role="assistant", content=answer),
         ChatMessage(role="user", content=[{"type": "text", "text": "q2"}])]
    )  # fmt: skip
    assert question == "q2"
    assert [(t.question, t.answer) for t in history] == [("q1", "It opens at 7:30. [1]")]
