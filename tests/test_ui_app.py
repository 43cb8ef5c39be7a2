"""The browser chat's logic, run by Streamlit's AppTest against a real index in tmp_path.

The app reads its settings from the environment (``ASSISTANT_DATA_DIR``,
``ASSISTANT_EMBEDDER``); the index is a real chromadb built by the core with the
``fake:256`` embedder.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from assistant.pipeline import Assistant
from assistant.settings import load_settings
from assistant.types import SUPPORTED_SUFFIXES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "ui" / "app.py")
ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
TIMEOUT = 60


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The default article alone, so that the figures below do not depend on what else is in corpus/."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
    return folder


@pytest.fixture
def data_dir(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake:256")
    monkeypatch.setenv("ASSISTANT_CORPUS", json.dumps([str(corpus)]))
    return tmp_path / "data"


@pytest.fixture
def indexed(data_dir: Path, corpus: Path) -> Path:
    Assistant(load_settings(data_dir=data_dir, embedder="fake:256")).ingest([corpus])
    return data_dir


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def last_answer_text(at: AppTest) -> str:
    message = [m for m in at.chat_message if m.name == "assistant"][-1]
    return "\n".join(m.value for m in message.markdown)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def no_html_allowed(at: AppTest) -> None:
    for element in at.markdown:
        assert not element.proto.allow_html, element.value


def test_empty_page_shows_examples_and_no_index(data_dir: Path) -> None:
    at = start()
    labels = [b.label for b in at.button]
    assert "コンテナの起動速度はどのくらいですか？" in labels
    assert any(re.fullmatch(r"[A-Za-z ?]+", label) for label in labels)  # English examples too
    assert "インデックスがまだありません。" in [w.value for w in at.sidebar.warning]

    ask(at, "コンテナとは？")
    assert any("no index yet" in e.value for e in at.error)
    assert any("assistant ingest" in i.value and "作り直す" in i.value for i in at.info)


def test_ask_streams_answer_with_matching_citations(indexed: Path) -> None:
    at = start()
    assert [m.value for m in at.sidebar.metric] == ["1", "10"]  # documents, chunks
    ask(at, "コンテナの起動速度はどのくらいですか？")
    turn = at.session_state["turns"][-1]
    answer = turn.answer
    assert answer is not None and not answer.refused
    shown = unescape(last_answer_text(at))
    assert answer.answer in shown
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert numbers
    labels = [unescape(e.label) for e in at.expander]
    assert {int(re.match(r"\[(\d+)\]", label).group(1)) for label in labels} == numbers  # type: ignore[union-attr]
    assert all("【比較】コンテナと仮想マシン(VM)の違い" in label for label in labels)
    assert any("関連度" in c.value for c in at.caption)
    # each source is a local file: it can be downloaded
    assert len([d for d in at.get("download_button") if d.key.startswith("dl-")]) == len(numbers)
    no_html_allowed(at)


def test_example_button_asks_it(indexed: Path) -> None:
    at = start()
    button(at, "How large are VM images compared with containers?").click().run()
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.session_state["turns"][0].answer is not None


def test_follow_up_uses_the_conversation(indexed: Path) -> None:
    at = start()
    ask(at, "仮想マシンのセキュリティは？")
    ask(at, "それはなぜ？")
    turns = at.session_state["turns"]
    assert len(turns) == 2
    assert turns[1].answer.standalone_question == "仮想マシンのセキュリティは？ それはなぜ？"
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]

    button(at, "新しい会話").click().run()
    assert not at.session_state["turns"]
    assert not at.chat_message


def test_refusal_says_so_and_shows_closest_passages(indexed: Path) -> None:
    at = start()
    ask(at, "今日の天気は？")
    answer = at.session_state["turns"][-1].answer
    assert answer.refused
    warnings = [w.value for w in at.warning]
    assert any("資料の中に答えが見つかりませんでした" in w for w in warnings)
    assert "**見つかった最も近い資料**" in [m.value for m in at.markdown]
    assert len(at.expander) == len(answer.citations) > 0


def test_feedback_is_stored_with_question_answer_and_citations(indexed: Path) -> None:
    at = start()
    ask(at, "コンテナの起動速度はどのくらいですか？")
    at.get("feedback")[0].set_value(1).run()  # 👍
    at.text_input[0].set_value("わかりやすい")
    button(at, "フィードバックを送信").click().run()  # the form sends the comment with the button
    assert not at.exception

    records = [json.loads(line) for line in (indexed / "feedback.jsonl").read_text().splitlines()]
    assert len(records) == 1
    record = records[0]
    assert record["rating"] == 1 and record["frontend"] == "streamlit"
    assert record["question"] == "コンテナの起動速度はどのくらいですか？"
    assert record["comment"] == "わかりやすい"
    assert record["answer"] == at.session_state["turns"][0].answer.answer
    assert any(c["cited"] and c["source"].endswith("containers-vs-vms.ja.md") for c in record["citations"])
    assert "フィードバックを記録しました。ありがとうございます！" in [c.value for c in at.caption]
    assert at.get("feedback")[0].proto.disabled
    assert at.get("download_button")  # the export button appears once there is feedback

    at.run()  # a rerun does not store it twice
    assert len((indexed / "feedback.jsonl").read_text().splitlines()) == 1


def upload(at: AppTest, name: str, content: bytes, mime: str = "text/markdown") -> AppTest:
    at.get("file_uploader")[0].set_value((name, content, mime))
    button(at, "取り込む").click().run()
    assert not at.exception, at.exception
    return at


def test_upload_is_ingested_and_answerable(indexed: Path) -> None:
    at = start()
    content = "# ゼータ計画\n\n## 予算\n\nゼータ計画の予算は42億円です。\n".encode()
    upload(at, "ゼータ計画.md", content)
    assert any("ゼータ計画.md を取り込みました" in s.value for s in at.success)
    assert (indexed / "uploads" / "ゼータ計画.md").read_bytes() == content
    assert [m.value for m in at.sidebar.metric] == ["2", "11"]

    ask(at, "ゼータ計画の予算はいくらですか？")
    assert "42億円" in unescape(last_answer_text(at))
    assert any("ゼータ計画" in unescape(e.label) for e in at.expander)

    upload(at, "ゼータ計画.md", content)  # the same file again: nothing to do
    assert any("変更はありません" in i.value for i in at.info)


def test_upload_of_unreadable_or_wrong_files_is_refused(indexed: Path) -> None:
    at = start()
    upload(at, "broken.pdf", b"this is not a pdf", "application/pdf")
    assert any("broken.pdf を読み込めませんでした" in e.value for e in at.error)
    assert any("PDF" in i.value for i in at.info)
    assert not (indexed / "uploads" / "broken.pdf").exists()

    # Streamlit itself refuses other types (in the browser and on the server)
    assert sorted(at.get("file_uploader")[0].allowed_type) == sorted(SUPPORTED_SUFFIXES)
    upload(at, "huge.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain")
    assert any("huge.txt: ファイルが大きすぎます" in e.value for e in at.error)
    assert not (indexed / "uploads" / "huge.txt").exists()
    assert [m.value for m in at.sidebar.metric] == ["1", "10"]


def test_document_markup_is_shown_as_text(indexed: Path) -> None:
    at = start()
    content = (
        "# オメガ計画 <img src=x onerror=alert(1)>\n\n"
        "オメガ計画の責任者は **山田** です。<script>alert('x')</script> [link](javascript:alert(2))\n"
    ).encode()
    upload(at, "omega.md", content)
    ask(at, "オメガ計画の責任者は誰ですか？")
    no_html_allowed(at)
    rendered = [m.value for m in at.markdown] + [e.label for e in at.expander] + [c.value for c in at.caption]
    from_document = [v for v in rendered if "オメガ" in v or "山田" in v]
    assert any("\\<script\\>" in v for v in from_document)  # shown, as text
    assert any("\\*\\*山田\\*\\*" in v for v in from_document)
    for value in from_document:  # every Markdown/HTML character is escaped
        assert not re.search(r"(?<!\\)[<>*\[\]()`!]", value), value


def test_rebuild_from_the_sidebar(data_dir: Path) -> None:
    at = start()
    button(at, "インデックスを作り直す").click().run()
    assert any("インデックスを作り直しました" in s.value for s in at.success)
    assert [m.value for m in at.sidebar.metric] == ["1", "10"]
    ask(at, "コンテナの起動速度はどのくらいですか？")
    assert not at.session_state["turns"][-1].answer.refused


def test_english_interface(indexed: Path) -> None:
    at = start()
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Document Q&A assistant"
    assert "New conversation" in [b.label for b in at.button]
    ask(at, "What is a hypervisor?")
    assert any(m.value == "**Sources**" or m.value == "**Closest passages found**" for m in at.markdown)


def test_session_settings_change_the_number_of_passages(indexed: Path) -> None:
    at = start()
    at.sidebar.slider(key="top_k").set_value(2).run()
    ask(at, "今日の天気は？")  # refused: all passages are shown as the closest ones
    assert len(at.session_state["turns"][-1].answer.citations) == 2
    assert len(at.expander) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_chroma_server_down_is_a_friendly_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(free_port()))
    at = start()
    assert any("cannot be reached" in e.value for e in at.sidebar.error)
    ask(at, "コンテナとは？")
    assert any("cannot be reached" in e.value for e in at.main.error)
    assert any("chroma run" in i.value for i in at.main.info)


def test_invalid_settings_are_a_friendly_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "0")
    at = start()
    assert any("Invalid settings" in e.value and "top_k" in e.value for e in at.error)
    assert any("ASSISTANT_" in i.value for i in at.info)
    assert not at.chat_input
