"""The browser chat: ``streamlit run ui/app.py``.

A thin frontend over the core: settings come from `load_settings()` (environment
``ASSISTANT_*``, ``.env``, config file), the `Assistant` is built once per process,
and every question goes through `Assistant.stream`, whose final `Answer` carries
the citations shown under the text.
"""

# ruff: noqa: E402  (the repository root must be importable before `ui.*` is imported)
from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st

from assistant.errors import AssistantError, IndexNotFoundError
from assistant.pipeline import Assistant, Event
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Delta, Turn
from ui.components import ChatTurn, escape_inline, escape_markdown, render_answer
from ui.i18n import default_language, text
from ui.sidebar import (
    SessionChoices,
    render_documents,
    render_feedback_export,
    render_index_status,
    render_session_settings,
    show_error,
)

log = logging.getLogger("ui.app")

EXAMPLES = (
    "コンテナの起動速度はどのくらいですか？",
    "仮想マシンのセキュリティの特徴は？",
    "コンテナと仮想マシンはどう使い分けますか？",
    "How large are VM images compared with containers?",
    "How fast do containers start compared with virtual machines?",
)


@st.cache_resource(show_spinner="Loading the models… / モデルを読み込んでいます…", max_entries=4)
def get_assistant(settings_key: str, _settings: Settings) -> Assistant:
    """The one Assistant of this process (per distinct settings); the embedder loads here, once."""
    bot = Assistant(_settings)
    bot.warm_up()
    return bot


@st.cache_resource(show_spinner=False, max_entries=16)
def get_variant(settings_key: str, top_k: int, answerer: str, _base: Assistant) -> Assistant:
    """The Assistant with this session's choices; it shares the base's embedder (models load once)."""
    settings = _base.settings.model_copy(update={"top_k": top_k, "answerer": answerer})
    return Assistant(settings, embedder=_base.embedder)


def session_assistant(base: Assistant, key: str, choices: SessionChoices) -> Assistant:
    if choices.top_k == base.settings.top_k and choices.answerer == base.settings.answerer:
        return base
    return get_variant(key, choices.top_k, choices.answerer, base)


def history(turns: list[ChatTurn]) -> list[Turn]:
    """Earlier finished turns; questions as the core understood them, so follow-ups can chain."""
    return [Turn(t.answer.standalone_question, t.answer.answer) for t in turns if t.answer is not None]


def stream_text(events: Iterator[Event], result: list[Answer]) -> Iterator[str]:
    """The answer's text pieces, escaped; the final `Answer` is put in ``result``."""
    for event in events:
        if isinstance(event, Delta):
            yield escape_inline(event.text)
        elif isinstance(event, Answer):
            result.append(event)


def answer_question(bot: Assistant, turns: list[ChatTurn], question: str, language: str) -> None:
    earlier = history(turns)
    turn = ChatTurn(question)
    turns.append(turn)  # kept even if a newer question interrupts this run
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    with st.chat_message("assistant"):
        slot = st.empty()
        result: list[Answer] = []
        try:
            with slot.container(), st.spinner(text("thinking", language)):
                st.write_stream(stream_text(bot.stream(question, earlier), result))
            turn.answer = result[0]
        except AssistantError as exc:
            turn.error = (exc.message, _hint(exc, language))
        except Exception as exc:  # the page must never show a traceback
            log.exception("answering %r failed", question)
            turn.error = (
                text("unexpected", language, error=type(exc).__name__),
                text("unexpected_hint", language),
            )
        slot.empty()
        render_answer(turn, bot.settings, language)


def _hint(exc: AssistantError, language: str) -> str:
    if isinstance(exc, IndexNotFoundError):
        extra = {
            "ja": "サイドバーの「インデックスを作り直す」でも作成できます。",
            "en": "You can also use “Rebuild the index” in the sidebar.",
        }
        return f"{exc.hint} {extra.get(language, extra['en'])}".strip()
    return exc.hint


def render_empty_page(language: str) -> str | None:
    """The intro and example questions; returns the example clicked, if any."""
    st.markdown(text("intro", language))
    st.markdown("**" + text("examples", language) + "**")
    columns = st.columns(2)
    clicked = None
    for i, example in enumerate(EXAMPLES):
        if columns[i % 2].button(example, key=f"example-{i}", use_container_width=True):
            clicked = example
    return clicked


def main() -> None:
    st.set_page_config(page_title="Assistant · ドキュメント質問", page_icon="💬", layout="centered")
    st.session_state.setdefault("lang", default_language(st.context.locale))
    st.session_state.setdefault("turns", [])
    language: str = st.session_state["lang"]
    turns: list[ChatTurn] = st.session_state["turns"]

    try:
        settings = load_settings()
        key = settings.model_dump_json()
        base = get_assistant(key, settings)
    except AssistantError as exc:
        st.title(text("title", language))
        show_error(exc)
        st.stop()

    with st.sidebar:
        if st.button(text("new_chat", language), icon=":material/add_comment:", use_container_width=True):
            turns.clear()
        status = st.container()  # filled last, so that it shows the index after an upload
        choices = render_session_settings(settings, language)
        render_documents(base, language)
        render_feedback_export(settings, language)
        with status:
            render_index_status(base, key, language)
    bot = session_assistant(base, key, choices)

    st.title(text("title", language))
    question = None
    intro = st.empty()
    if not turns:
        with intro.container():
            question = render_empty_page(language)
    for turn in turns:
        with st.chat_message("user"):
            st.markdown(escape_markdown(turn.question))
        with st.chat_message("assistant"):
            render_answer(turn, settings, language)

    typed = st.chat_input(text("placeholder", language), max_chars=settings.max_question_chars)
    question = typed or question
    if question:
        intro.empty()
        answer_question(bot, turns, question, language)


main()
