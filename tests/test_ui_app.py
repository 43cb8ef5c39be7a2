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

from assistant.loading import load_file
from assistant.pipeline import Assistant
from assistant.settings import load_settings
from assistant.splitting import SplitterConfig, split_document

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "ui" / "app.py")
ARTICLE = ROOT / "corpus" / "containers-vs-vms.ja.md"
# the article's chunks, as the splitter makes them (the sidebar shows this figure)
CHUNKS = str(len(split_document(load_file(ARTICLE), SplitterConfig())))
TIMEOUT = 60
PASSWORD = "correct horse"


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
    monkeypatch.setenv("ASSISTANT_UI_ADMIN_PASSWORD", PASSWORD)
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


def sign_in(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.sidebar.text_input(key="admin-password").set_value(password)
    button(at, "ログイン").click().run()
    assert not at.exception, at.exception
    return at


def test_empty_page_shows_examples_and_no_index(data_dir: Path) -> None:
    at = start()
    labels = [b.label for b in at.button]
    assert "コンテナの起動速度はどのくらいですか？" in labels
    assert any(re.fullmatch(r"[A-Za-z ?]+", label) for label in labels)  # English examples too
    assert "索引がまだありません。" in [w.value for w in at.sidebar.warning]
    assert "1,000 文字まで" in at.chat_input[0].placeholder

    ask(at, "コンテナとは？")
    assert [e.value for e in at.main.error] == ["まだ索引がありません。"]
    assert any("make ingest" in i.value for i in at.main.info)


def test_ask_shows_answer_with_sources_numbered_from_one(indexed: Path) -> None:
    at = start()
    assert [m.value for m in at.sidebar.metric] == ["1", CHUNKS]  # documents, chunks
    ask(at, "コンテナの起動速度はどのくらいですか？")
    answer = at.session_state["turns"][-1].answer
    assert answer is not None and not answer.refused
    assert answer.answer in unescape(last_answer_text(at))
    cited = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)))
    assert cited == list(range(1, len(cited) + 1))  # 1..n in the order cited, no gaps
    labels = [unescape(e.label) for e in at.main.expander]
    assert [int(re.match(r"\[(\d+)\]", label).group(1)) for label in labels] == cited  # type: ignore[union-attr]
    captions = [unescape(c.value) for c in at.caption]
    assert any(c == "文書: containers-vs-vms.ja.md" for c in captions)  # relative to the corpus
    assert not any(str(indexed.parent) in c for c in captions)  # never an absolute server path
    assert any("質問の語句の" in c for c in captions)
    assert len([d for d in at.get("download_button") if d.key.startswith("dl-")]) == len(cited)
    no_html_allowed(at)


def test_example_button_asks_it(indexed: Path) -> None:
    at = start()
    button(at, "How large are VM images compared with containers?").click().run()
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.session_state["turns"][0].answer is not None


def test_follow_up_uses_the_conversation_and_a_first_follow_up_asks_back(indexed: Path) -> None:
    at = start()
    ask(at, "それはなぜ？")
    first = at.session_state["turns"][0].answer
    assert first.clarify and "それ" in first.answer
    assert not at.main.expander  # nothing was searched

    button(at, "新しい会話").click().run()
    assert not at.session_state["turns"]
    ask(at, "仮想マシンのセキュリティは？")
    ask(at, "それはなぜ？")
    turns = at.session_state["turns"]
    assert turns[1].answer.standalone_question == "仮想マシンのセキュリティは？ それはなぜ？"
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]


def test_refusal_says_so_once_and_shows_closest_passages(indexed: Path) -> None:
    at = start()
    ask(at, "今日の天気は？")
    answer = at.session_state["turns"][-1].answer
    assert answer.refused
    warnings = [unescape(w.value) for w in at.warning]
    assert warnings == [answer.answer]  # the refusal, said once
    assert "**見つかった最も近い資料**" in [m.value for m in at.markdown]
    assert len(at.main.expander) == len(answer.sources()) > 0


def test_too_long_question_gets_a_clear_message_and_is_kept(indexed: Path) -> None:
    at = start()
    question = "コンテナ" * 5000  # 20,000 characters
    ask(at, question)
    assert any("質問が長すぎます（20,000 文字、上限 1,000 文字）" in e.value for e in at.main.error)
    assert at.text_area(key=f"long-{at.session_state['turns'][0].id}").value == question
    assert at.session_state["conversation"] is None  # nothing was sent, nothing stored


def test_rating_is_saved_on_the_click_and_a_comment_joins_it(indexed: Path) -> None:
    at = start()
    ask(at, "コンテナの起動速度はどのくらいですか？")
    at.get("feedback")[0].set_value(1).run()  # 👍: saved now, no second click
    assert not at.exception
    records = [json.loads(line) for line in (indexed / "feedback.jsonl").read_text().splitlines()]
    assert [(r["rating"], r["comment"], r["frontend"]) for r in records] == [(1, "", "streamlit")]
    assert records[0]["question"] == "コンテナの起動速度はどのくらいですか？"
    assert "評価を記録しました。ありがとうございます！" in [c.value for c in at.caption]

    at.text_input(key=f"comment-{at.session_state['turns'][0].id}").set_value("わかりやすい")
    button(at, "コメントを追加").click().run()
    records = [json.loads(line) for line in (indexed / "feedback.jsonl").read_text().splitlines()]
    assert [(r["rating"], r["comment"]) for r in records] == [(1, ""), (1, "わかりやすい")]
    assert records[0]["id"] == records[1]["id"]  # the same record, completed
    at.run()  # a rerun stores nothing more
    assert len((indexed / "feedback.jsonl").read_text().splitlines()) == 2


def upload(at: AppTest, name: str, content: bytes, mime: str = "text/markdown") -> AppTest:
    at.get("file_uploader")[0].set_value((name, content, mime))
    button(at, "取り込む").click().run()
    assert not at.exception, at.exception
    return at


def test_viewers_cannot_change_documents_admins_can(indexed: Path) -> None:
    at = start()
    assert not at.get("file_uploader")
    assert "索引を作り直す" not in [b.label for b in at.button]
    sign_in(at, "wrong")
    assert "パスワードが違います。" in [e.value for e in at.sidebar.error]
    assert not at.get("file_uploader")
    sign_in(at)
    assert at.get("file_uploader")
    assert "索引を作り直す" in [b.label for b in at.button]


def test_with_oidc_configured_a_visitor_is_offered_single_sign_on_not_the_password(indexed: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-long-random-cookie-secret",
        "client_id": "chat",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.sidebar.button]
    assert "SSO でログイン" in labels
    assert "ログアウト" not in labels
    assert not at.sidebar.text_input  # no admin password field
    assert not at.get("file_uploader")


def test_an_identity_token_names_the_owner_and_the_admins() -> None:
    from ui.auth import oidc_user

    admins = ["Alice@Example.COM ", "root@example.com"]
    alice = oidc_user({"email": "alice@EXAMPLE.com", "name": "Alice", "email_verified": True}, admins)
    assert (alice.owner, alice.name, alice.admin, alice.signed_in) == (
        "user:alice@example.com",
        "Alice",
        True,
        True,
    )
    bob = oidc_user({"email": "bob@example.com", "sub": "b1"}, admins)
    assert (bob.owner, bob.name, bob.admin) == ("user:bob@example.com", "bob@example.com", False)
    unverified = oidc_user({"email": "alice@example.com", "email_verified": False}, admins)
    assert unverified.owner == "user:alice@example.com" and not unverified.admin
    # no address in the token (Entra ID without the optional claim): the subject owns the conversations
    no_email = oidc_user({"sub": "s-42", "iss": "https://idp", "preferred_username": "dana"}, admins)
    assert (no_email.owner, no_email.name, no_email.admin) == ("sub:https://idp#s-42", "dana", False)


def test_upload_is_ingested_and_answerable(indexed: Path) -> None:
    at = sign_in(start())
    content = "# ゼータ計画\n\n## 予算\n\nゼータ計画の予算は42億円です。\n".encode()
    upload(at, "ゼータ計画.md", content)
    assert any("ゼータ計画.md を取り込みました" in s.value for s in at.success)
    assert (indexed / "uploads" / "ゼータ計画.md").read_bytes() == content
    assert [m.value for m in at.sidebar.metric] == ["2", str(int(CHUNKS) + 1)]

    ask(at, "ゼータ計画の予算はいくらですか？")
    assert "42億円" in unescape(last_answer_text(at))
    assert any("uploads/ゼータ計画.md" in unescape(c.value) for c in at.caption)


def test_upload_problems_are_explained_in_the_interface_language(indexed: Path) -> None:
    at = sign_in(start())
    upload(at, "broken.pdf", b"this is not a pdf", "application/pdf")
    assert "broken.pdf: PDF として読めませんでした。" in [e.value for e in at.sidebar.error]
    assert not (indexed / "uploads" / "broken.pdf").exists()
    upload(at, "empty.md", b"", "text/markdown")
    assert "empty.md: ファイルが空です。" in [e.value for e in at.sidebar.error]
    assert not any("PDF" in i.value for i in at.sidebar.info if "empty" in i.value)
    upload(at, "photo.png", b"\x89PNG", "image/png")
    assert "photo.png: この形式は取り込めません。" in [e.value for e in at.sidebar.error]
    upload(at, "huge.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain")
    assert any("huge.txt: ファイルが大きすぎます" in e.value for e in at.sidebar.error)
    for message in [e.value for e in at.sidebar.error]:
        assert not re.search(r"[A-Za-z]{4,}", message.split(":")[-1]), message  # no English reasons
    assert [m.value for m in at.sidebar.metric] == ["1", CHUNKS]
    button(at, "取り込む").click().run()  # pressed before any file was chosen (or had arrived)
    assert any("取り込むファイルがありません" in w.value for w in at.sidebar.warning)


def test_document_markdown_is_rendered_safely(indexed: Path) -> None:
    at = sign_in(start())
    content = (
        "# オメガ計画 <img src=x onerror=alert(1)>\n\n"
        "オメガ計画の責任者は **山田** です。<script>alert('x')</script> ![t](http://example.invalid/t.png)\n\n"
        "- 一つ目\n- 二つ目 :red[赤] $x$\n"
    ).encode()
    upload(at, "omega.md", content)
    ask(at, "オメガ計画の責任者は誰ですか？")
    no_html_allowed(at)
    passages = [m.value for m in at.markdown if "山田" in m.value and "**" in m.value]
    assert passages, [m.value for m in at.markdown]
    passage = passages[0]
    assert "**山田**" in passage  # Markdown is rendered...
    assert "\\<script\\>" in passage  # ...HTML is not
    assert "- 一つ目" in passage
    assert "\\:red" in passage and "\\$x\\$" in passage  # no Streamlit directives or formulas


def test_rebuild_from_the_sidebar(data_dir: Path) -> None:
    at = sign_in(start())
    button(at, "索引を作り直す").click().run()
    assert any("索引を作り直しました" in s.value for s in at.success)
    assert [m.value for m in at.sidebar.metric] == ["1", CHUNKS]
    ask(at, "コンテナの起動速度はどのくらいですか？")
    assert not at.session_state["turns"][-1].answer.refused


def test_conversations_are_kept_listed_resumed_and_deleted(indexed: Path) -> None:
    at = start()
    ask(at, "コンテナの起動速度はどのくらいですか？")
    conversation = at.session_state["conversation"]
    assert at.query_params["c"] == conversation
    assert button(at, "コンテナの起動速度はどのくらいですか？")  # listed in the sidebar
    owner = at.session_state["browser_id"]

    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.session_state["browser_id"] = owner  # the same browser (its cookie) after a reload
    again.query_params["c"] = conversation
    again.run()
    assert [m.name for m in again.chat_message] == ["user", "assistant"]
    assert again.session_state["turns"][0].answer.answer == at.session_state["turns"][0].answer.answer
    markdown = again.get("download_button")
    assert any(d.key == "export-conversation" for d in markdown)

    stranger = AppTest.from_file(APP, default_timeout=TIMEOUT)
    stranger.query_params["c"] = conversation  # someone else's link: not theirs to read
    stranger.run()
    assert not stranger.chat_message

    next(b for b in again.button if b.key == f"del-{conversation}").click().run()
    assert not again.chat_message
    assert "まだ会話はありません。" in [c.value for c in again.sidebar.caption]


def test_english_interface(indexed: Path) -> None:
    at = start()
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Document Q&A assistant"
    assert "New conversation" in [b.label for b in at.button]
    ask(at, "What is a hypervisor?")
    assert any(m.value in ("**Sources**", "**Closest passages found**") for m in at.markdown)


def test_session_settings_change_the_number_of_passages(indexed: Path) -> None:
    at = start()
    at.sidebar.slider(key="top_k").set_value(2).run()
    ask(at, "今日の天気は？")  # refused: all passages are shown as the closest ones
    assert len(at.session_state["turns"][-1].answer.citations) == 2
    assert len(at.main.expander) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_chroma_server_down_is_a_friendly_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(free_port()))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "索引のデータベースに接続できません。" in [e.value for e in at.error]
    if at.chat_input:  # the page could load: the question gets the same message, no traceback
        ask(at, "コンテナとは？")
        assert [e.value for e in at.main.error] == ["索引のデータベースに接続できません。"]
        assert any("もう一度お試しください" in i.value for i in at.main.info)


def test_invalid_settings_are_a_friendly_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "0")
    at = start()
    assert [e.value for e in at.error] == ["設定に誤りがあります。"]
    assert not at.chat_input
