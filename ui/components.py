"""Pieces of the browser chat: safe text, answers with their sources, feedback, uploads.

Everything that comes from a document (answer text, titles, headings, passages,
file names) goes through `escape_markdown` before Streamlit renders it, and no
call here uses ``unsafe_allow_html``: markup or script in a document is shown as
text, never run.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from assistant.feedback import Feedback, record_feedback
from assistant.settings import Settings
from assistant.text import markdown_blocks, parse_table
from assistant.types import SUPPORTED_SUFFIXES, Answer, Passage
from ui.i18n import text

log = logging.getLogger(__name__)

#: File types a user may upload; the same ones ingest reads.
#: With their dots: Streamlit reads a bare "text" as the MIME type text/*.
UPLOAD_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))
#: Per-file upload limit in megabytes.
MAX_UPLOAD_MB = 10
#: Sources larger than this are not offered for download from a citation.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)


def escape_markdown(value: str) -> str:
    """Show ``value`` literally: every Markdown/HTML character escaped, line breaks kept."""
    lines = [_MARKDOWN_SPECIAL.sub(r"\\\1", line.strip()) for line in value.splitlines()]
    return "  \n".join(lines)


def escape_inline(piece: str) -> str:
    """`escape_markdown` for a piece of streamed text: spaces at its ends are kept."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", piece).replace("\n", "  \n")


@dataclass
class ChatTurn:
    """One question of the session and what became of it."""

    question: str
    answer: Answer | None = None
    error: tuple[str, str] | None = None
    feedback_saved: int | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


# --- answers ---------------------------------------------------------------------------


def render_answer(turn: ChatTurn, settings: Settings, language: str) -> None:
    """The assistant's side of a turn: the answer, its sources and the feedback buttons."""
    answer = turn.answer
    if turn.error:
        st.error(turn.error[0])
        if turn.error[1]:
            st.info(turn.error[1])
        return
    if answer is None:
        st.caption(text("interrupted", language))
        return
    if answer.refused:
        st.warning(text("refused", language) + "  \n" + escape_markdown(answer.answer))
    else:
        st.markdown(escape_markdown(answer.answer))
    st.caption(text("timings", language, seconds=answer.timings.get("total", 0.0), answerer=answer.answerer))
    render_citations(turn.id, answer, language)
    render_feedback(turn, settings, language)


def render_citations(turn_id: str, answer: Answer, language: str) -> None:
    citations = answer.sources()
    if not citations:
        return
    st.markdown("**" + text("closest" if answer.refused else "sources", language) + "**")
    for c in citations:
        label = f"\\[{c.number}\\] {escape_markdown(c.title or Path(c.source).name)}"
        if c.heading:
            label += f" — {escape_markdown(c.heading)}"
        with st.expander(label):
            dense = f"{c.dense_score:.3f}" if c.dense_score is not None else "–"
            st.caption(text("score", language, score=c.score, dense=dense, coverage=c.term_coverage))
            if c.heading_path:
                st.caption(f"{text('heading', language)}: {escape_markdown(c.heading)}")
            render_passage(c.text)
            render_source(turn_id, c, language)


def render_passage(passage: str) -> None:
    """A passage as text, its Markdown tables as tables; nothing from it is interpreted as HTML."""
    for is_table, block in markdown_blocks(passage):
        if is_table:
            st.table(parse_table(block).columns())
        elif block.strip():
            st.markdown(escape_markdown(block))


def render_source(turn_id: str, citation: Passage, language: str) -> None:
    path = Path(citation.source)
    st.caption(f"{text('file', language)}: {escape_markdown(citation.source)}")
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
        key=f"dl-{turn_id}-{citation.number}",
        on_click="ignore",
        icon=":material/download:",
    )


# --- feedback --------------------------------------------------------------------------


def render_feedback(turn: ChatTurn, settings: Settings, language: str) -> None:
    """👍/👎 and an optional comment; stored once, with the question, answer and citations."""
    assert turn.answer is not None
    saved = turn.feedback_saved is not None
    rating = st.feedback("thumbs", key=f"rating-{turn.id}", disabled=saved)
    if saved:
        st.caption(text("feedback_saved", language))
        return
    if rating is None:
        return
    with st.form(key=f"feedback-{turn.id}", border=False):
        comment = st.text_input(text("comment", language), key=f"comment-{turn.id}")
        if st.form_submit_button(text("send_feedback", language)):
            save_feedback(turn, 1 if rating == 1 else -1, comment, settings)
            st.rerun()


def save_feedback(turn: ChatTurn, rating: int, comment: str, settings: Settings) -> None:
    assert turn.answer is not None
    feedback = Feedback.for_answer(turn.answer, rating, comment=comment, frontend="streamlit")
    record_feedback(settings.feedback_path, feedback)
    turn.feedback_saved = rating


# --- uploads ---------------------------------------------------------------------------


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def safe_file_name(name: str) -> str:
    """A file name without directories or odd characters (Japanese letters are kept)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


def check_upload(name: str, size: int, language: str) -> str | None:
    """Why an upload is refused, or None when it may be ingested."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        types = ", ".join(UPLOAD_TYPES)
        return text("bad_type", language, name=name, types=types)
    if size > MAX_UPLOAD_MB * 1024 * 1024:
        return text("too_large", language, name=name, size=size / 1024 / 1024, mb=MAX_UPLOAD_MB)
    return None


def save_upload(name: str, data: bytes, settings: Settings) -> Path:
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_file_name(name)
    path.write_bytes(data)
    return path
