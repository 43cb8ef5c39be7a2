"""The browser chat: ``make run`` (``python -m ui.serve``) or ``streamlit run ui/app.py``.

A thin frontend over the core: settings come from `load_settings()`, the assistant
(`assistant.door.AssistantLike`: embedded, or a client of ``assistant serve`` when
``ASSISTANT_SERVER_URL`` is set) is made once per process by `ui.factory`, every
question is answered by its `stream` on the session's worker thread (`ui.jobs`) and
shown as it streams; conversations are kept in SQLite (`ui.conversations`).
"""

# ruff: noqa: E402  (the repository root must be importable before `ui.*` is imported)
from __future__ import annotations

import logging
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st

from assistant.door import AssistantLike
from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Turn
from ui import auth, factory
from ui.components import ChatTurn, render_turn
from ui.conversations import ConversationStore
from ui.export import conversation_markdown
from ui.i18n import default_language, error_text, text
from ui.jobs import Job, Worker
from ui.sidebar import (
    render_conversations,
    render_feedback_export,
    render_index_status,
    render_session_settings,
    render_upload,
    render_user,
    show_problem,
)

log = logging.getLogger("ui.app")

EXAMPLES = (
    "コンテナの起動速度はどのくらいですか？",
    "仮想マシンのセキュリティの特徴は？",
    "コンテナと仮想マシンはどう使い分けますか？",
    "How large are VM images compared with containers?",
    "How fast do containers start compared with virtual machines?",
)


def load_assistant(settings: Settings, language: str) -> AssistantLike:
    """The warmed-up assistant; a first visitor of a cold process sees the stages in a progress bar."""
    if factory.ready(settings) or factory.remote(settings):  # a service's client has nothing to load
        return factory.get_assistant(settings)
    bar = st.progress(0.0, text=text("loading", language))

    def progress(i: int, stage: str) -> None:
        bar.progress(i / len(factory.STAGES), text=text(stage, language))

    bot = factory.get_assistant(settings, progress)
    bar.empty()
    return bot


def answer_of(turn: ChatTurn) -> Answer | None:
    if turn.job is not None:
        return turn.job.answer
    return turn.answer


def open_conversation(store: ConversationStore, owner: str, conversation: str | None) -> list[ChatTurn]:
    """The session's turns, (re)loaded from the store when another conversation is opened."""
    if st.session_state.get("loaded") == conversation and "turns" in st.session_state:
        return list(st.session_state["turns"])
    turns = []
    if conversation and store.owns(owner, conversation):
        for t in store.turns(conversation):
            turns.append(ChatTurn(t.question, answer=t.answer, error=t.error, rating=t.rating, id=t.id))
    else:
        conversation = None
    st.session_state["conversation"] = conversation
    st.session_state["loaded"] = conversation
    st.session_state["turns"] = turns
    return turns


def switch_to(conversation: str | None) -> None:
    st.session_state["conversation"] = conversation
    st.session_state.pop("loaded", None)
    st.session_state.pop("turns", None)
    if conversation:
        st.query_params["c"] = conversation
    else:
        st.query_params.pop("c", None)


def submit(question: str, bot: AssistantLike, store: ConversationStore, owner: str, language: str) -> None:
    turns: list[ChatTurn] = st.session_state["turns"]
    limit = bot.settings.max_question_chars
    if len(question.strip()) > limit:  # not sent; the text stays on the page
        turns.append(ChatTurn(question, too_long=True))
        st.toast(
            text("too_long", language, length=len(question.strip()), limit=limit), icon=":material/error:"
        )
        return
    conversation = st.session_state.get("conversation")
    if not conversation:
        conversation = store.create(owner, question)
        st.session_state["conversation"] = st.session_state["loaded"] = conversation
        st.query_params["c"] = conversation
    turn = ChatTurn(question, job=Job(question))
    earlier = [t for t in turns if not t.too_long]
    turns.append(turn)
    store.save_turn(conversation, turn.id, question, None, None)

    def history() -> list[Turn]:
        return [Turn(a.standalone_question, a.answer) for t in earlier if (a := answer_of(t)) is not None]

    def done(job: Job) -> None:
        error = error_text(job.error, language) if job.error is not None else None
        store.save_turn(conversation, turn.id, question, job.answer, error)

    worker: Worker = st.session_state.setdefault("worker", Worker())
    assert turn.job is not None
    worker.submit(turn.job, bot, history, done)


def render_intro(language: str) -> str | None:
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
    language: str = st.session_state["lang"]
    st.html(auth.page_script(language), unsafe_allow_javascript=True, width="content")

    try:
        settings = load_settings()
        base = load_assistant(settings, language)
        store = factory.conversation_store(settings.data_dir)
    except AssistantError as exc:
        st.title(text("title", language))
        show_problem(*error_text(exc, language))
        st.stop()
    user = auth.current_user(settings)
    if "conversation" not in st.session_state:
        st.session_state["conversation"] = st.query_params.get("c")
    turns = open_conversation(store, user.owner, st.session_state["conversation"])

    with st.sidebar:
        if st.button(text("new_chat", language), icon=":material/add_comment:", use_container_width=True):
            switch_to(None)
            st.rerun()
        history_slot = st.container()  # filled once this run's question is in
        st.divider()
        render_user(user, settings, language)
        choices = render_session_settings(settings, language)
        st.divider()
        status = st.container()  # filled after an upload or a rebuild, so that it shows the new index
        if user.admin:
            st.header(text("admin", language))
            render_upload(base, language)
            render_feedback_export(settings, language)
        else:
            st.caption(text("admin_only", language))
        with status:
            render_index_status(base, language)
    bot = factory.get_variant(base, choices.top_k, choices.answerer)

    st.title(text("title", language))
    typed = st.chat_input(text("placeholder", language, limit=settings.max_question_chars), key="question")
    intro = st.empty()
    clicked = None
    if not turns and not typed:
        with intro.container():
            clicked = render_intro(language)
    question = typed or clicked
    if question:
        intro.empty()
        submit(question, bot, store, user.owner, language)
        turns = st.session_state["turns"]

    conversation = st.session_state.get("conversation")
    with history_slot:
        opened, deleted = render_conversations(store, user.owner, conversation, language)
    if deleted:
        store.delete(user.owner, deleted)
        st.toast(text("deleted", language), icon=":material/delete:")
        if deleted == conversation:
            switch_to(None)
        st.rerun()
    if opened:
        switch_to(opened)
        st.rerun()

    def rated(turn: ChatTurn) -> None:
        if conversation and turn.rating is not None:
            store.set_rating(conversation, turn.id, turn.rating)

    for turn in turns:
        render_turn(turn, settings, language, rated)
    if conversation and turns and all(t.job is None for t in turns):
        st.download_button(
            text("export_md", language),
            data=conversation_markdown(
                store.title(conversation), store.turns(conversation), settings, language
            ),
            file_name=f"conversation-{conversation}.md",
            mime="text/markdown",
            on_click="ignore",
            icon=":material/download:",
            key="export-conversation",
        )


main()
