"""Pieces of the browser chat: a turn while it streams and once it is done, its sources, feedback.

Everything that comes from a document (answer text, titles, headings, passages,
file names) is escaped (`escape_markdown`) or rendered as safe Markdown
(`safe_markdown`); no call here uses ``unsafe_allow_html``.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from assistant.errors import AssistantError
from assistant.feedback import Feedback, record_feedback
from assistant.settings import Settings
from assistant.types import Answer, Passage
from ui.i18n import error_text, note_text, text
from ui.jobs import Job
from ui.sources import coverage_percent, escape_inline, escape_markdown, safe_markdown, source_location

log = logging.getLogger(__name__)

#: Sources larger than this are not offered for download from a citation.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
#: How often a streaming answer is redrawn (seconds).
POLL = 0.04


@dataclass
class ChatTurn:
    """One question of the conversation and what became of it."""

    question: str
    job: Job | None = None
    answer: Answer | None = None
    error: tuple[str, str] | None = None  # (what happened, what to do), in the interface language
    too_long: bool = False  # not sent: the question is over the limit
    rating: int | None = None
    feedback_id: str | None = None
    comment_saved: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def settle(self, language: str) -> None:
        """Take the finished job's outcome."""
        job = self.job
        if job is None or not job.done:
            return
        self.answer = job.answer
        if job.error is not None:
            self.error = error_text(job.error, language)
        self.job = None


# --- a turn ----------------------------------------------------------------------------


def render_turn(turn: ChatTurn, settings: Settings, language: str, on_rate: object = None) -> None:
    with st.chat_message("user"):
        st.markdown(escape_markdown(turn.question) if not turn.too_long else _long_preview(turn, language))
    with st.chat_message("assistant"):
        if turn.job is not None and not turn.job.done:
            render_live(turn.job, language)
            turn.settle(language)
        elif turn.job is not None:
            turn.settle(language)
        render_result(turn, settings, language, on_rate)


def _long_preview(turn: ChatTurn, language: str) -> str:
    preview = turn.question[:200]
    return (
        escape_markdown(preview)
        + " …"
        + f"  \n*({len(turn.question):,} {'文字' if language == 'ja' else 'characters'})*"
    )


def render_live(job: Job, language: str) -> None:
    """Show the job as it progresses: the stage, the passages once found, the text as it comes."""
    status = st.empty()
    found = st.empty()
    body = st.empty()
    shown_stage, shown_sources, shown_text = "", 0, ""
    tick = 0
    while True:
        tick += 1
        done = job.done
        if job.stage != shown_stage and not done:
            shown_stage = job.stage
            with status.container(key=f"live-status-{id(job)}-{tick}"):
                st.caption(":material/progress_activity: " + text(shown_stage, language))
        if job.sources and not shown_sources:
            shown_sources = len(job.sources)
            with (
                found.container(key=f"live-sources-{id(job)}"),
                st.expander(text("found", language, n=shown_sources)),
            ):
                for p in job.sources:
                    st.markdown(f"\\[{p.number}\\] {escape_markdown(p.title or Path(p.source).name)}")
        if job.text != shown_text:
            shown_text = job.text
            with body.container(key=f"live-text-{id(job)}-{tick}"):
                st.markdown(escape_inline(shown_text) + ("" if done else " ▌"))
        if done:
            break
        time.sleep(POLL)
    status.empty()
    found.empty()
    body.empty()


def render_result(turn: ChatTurn, settings: Settings, language: str, on_rate: object = None) -> None:
    if turn.too_long:
        st.error(text("too_long", language, length=len(turn.question), limit=settings.max_question_chars))
        st.info(text("too_long_hint", language))
        with st.expander(text("your_text", language)):
            st.text_area(
                text("your_text", language),
                turn.question,
                key=f"long-{turn.id}",
                label_visibility="collapsed",
            )
        return
    if turn.error:
        st.error(turn.error[0])
        if turn.error[1]:
            st.info(turn.error[1])
        return
    answer = turn.answer
    if answer is None:
        st.caption(text("interrupted", language))
        return
    with st.container(key=f"answer-{turn.id}"):
        if answer.refused and not answer.clarify:
            st.warning(escape_markdown(answer.answer))
        else:
            st.markdown(escape_markdown(answer.answer))
    if answer.notes:
        notes = "  \n".join("· " + escape_markdown(note_text(n, language)) for n in answer.notes)
        st.caption(f"**{text('notes', language)}**  \n{notes}")
    st.caption(text("timings", language, seconds=answer.timings.get("total", 0.0), answerer=answer.answerer))
    render_sources(turn.id, answer, settings, language)
    render_feedback(turn, settings, language, on_rate)


# --- sources ---------------------------------------------------------------------------


def render_sources(turn_id: str, answer: Answer, settings: Settings, language: str) -> None:
    passages = answer.sources()
    if not passages:
        return
    with st.container(key=f"sources-{turn_id}"):
        st.markdown("**" + text("closest" if answer.refused else "sources", language) + "**")
        for p in passages:
            label = f"\\[{p.number}\\] {escape_markdown(p.title or Path(p.source).name)}"
            if p.heading_path:
                label += f" — {escape_markdown(p.heading_path[-1])}"
            with st.expander(label):
                render_passage_details(turn_id, p, settings, language)


def render_passage_details(turn_id: str, p: Passage, settings: Settings, language: str) -> None:
    where, url = source_location(p)
    if url:
        st.markdown(f"{text('file', language)}: [{escape_markdown(where)}]({url.replace(')', '%29')})")
    else:
        st.caption(f"{text('file', language)}: {escape_markdown(where)}")
    if p.heading_path:
        st.caption(f"{text('heading', language)}: {escape_markdown(p.heading)}")
    cited = text("cited_note" if p.cited else "not_cited_note", language)
    st.caption(f"{cited} · {text('coverage', language, percent=coverage_percent(p))}")
    with st.container(border=True):
        st.markdown(safe_markdown(p.text))
    render_download(turn_id, p, language)


def render_download(turn_id: str, p: Passage, language: str) -> None:
    path = Path(p.source)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    if size is None or size > MAX_DOWNLOAD_BYTES:
        return
    st.download_button(
        text("download", language),
        data=lambda: path.read_bytes(),
        file_name=path.name,
        key=f"dl-{turn_id}-{p.number}",
        on_click="ignore",
        icon=":material/download:",
    )


# --- feedback --------------------------------------------------------------------------


def render_feedback(turn: ChatTurn, settings: Settings, language: str, on_rate: object = None) -> None:
    """👍/👎 saved on the click; a comment can be added afterwards."""
    key = f"rating-{turn.id}"
    if turn.rating is not None and key not in st.session_state:
        st.session_state[key] = 1 if turn.rating > 0 else 0
    st.feedback("thumbs", key=key, on_change=_rated, args=(turn, key, settings, language, on_rate))
    if turn.rating is None:
        return
    st.caption(text("feedback_saved", language))
    if turn.comment_saved:
        st.caption(text("comment_saved", language))
        return
    if turn.feedback_id is None:  # rated in an earlier session: the comment would have nothing to join
        return
    with st.form(key=f"comment-form-{turn.id}", border=False):
        comment = st.text_input(text("comment", language), key=f"comment-{turn.id}")
        if st.form_submit_button(text("send_comment", language)) and comment.strip():
            _save(turn, turn.rating, comment, settings, language)
            turn.comment_saved = True
            st.rerun()


def _rated(turn: ChatTurn, key: str, settings: Settings, language: str, on_rate: object) -> None:
    value = st.session_state.get(key)
    if value is None or turn.answer is None:
        return
    rating = 1 if value == 1 else -1
    if _save(turn, rating, "", settings, language):
        turn.rating = rating
        if callable(on_rate):
            on_rate(turn)


def _save(turn: ChatTurn, rating: int, comment: str, settings: Settings, language: str) -> bool:
    assert turn.answer is not None
    feedback = Feedback.for_answer(turn.answer, rating, comment=comment, frontend="streamlit")
    if turn.feedback_id:  # the comment joins the rating's record: same id, the later line wins
        feedback.id = turn.feedback_id
    try:
        record_feedback(settings.feedback_path, feedback)
    except (AssistantError, OSError):
        log.exception("saving feedback failed")
        st.toast(text("feedback_failed", language), icon=":material/error:")
        st.session_state[f"feedback-error-{turn.id}"] = True
        return False
    turn.feedback_id = feedback.id
    st.toast(text("comment_saved" if comment else "feedback_saved", language), icon=":material/check_circle:")
    return True
