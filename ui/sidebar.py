"""The sidebar of the browser chat: index status, session settings, documents, feedback."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from assistant.errors import AssistantError
from assistant.feedback import export_dataset, read_feedback
from assistant.pipeline import Assistant, IndexInfo, IngestReport
from assistant.settings import Settings
from ui.components import MAX_UPLOAD_MB, UPLOAD_TYPES, check_upload, save_upload, upload_dir
from ui.i18n import LANGUAGES, text

log = logging.getLogger(__name__)

OFFLINE_ANSWERER = "extractive"


@dataclass
class SessionChoices:
    top_k: int
    answerer: str


def show_error(exc: AssistantError) -> None:
    """An error as the user sees it: what happened, then what to do. Never a traceback."""
    st.error(exc.message)
    if exc.hint:
        st.info(exc.hint)


@st.cache_resource(show_spinner=False, max_entries=16)
def _index_info(settings_key: str, version: str, _bot: Assistant) -> IndexInfo:
    return _bot.info()


def index_status(bot: Assistant, settings_key: str) -> IndexInfo | None:
    """The index's description, re-read only when the index changed; None when there is none."""
    version = bot.index_version()
    if version is None:
        return None
    return _index_info(settings_key, version, bot)


def render_index_status(bot: Assistant, settings_key: str, language: str) -> IndexInfo | None:
    st.subheader(text("index", language))
    try:
        info = index_status(bot, settings_key)
    except AssistantError as exc:
        show_error(exc)
        return None
    if info is None:
        st.warning(text("no_index", language))
        return None
    left, right = st.columns(2)
    left.metric(text("documents", language), info.documents)
    right.metric(text("chunks", language), info.chunks)
    st.caption(f"{text('embedder', language)}: `{info.manifest.get('embedder', '?')}`")
    updated = info.manifest.get("updated_at")
    if isinstance(updated, int | float):
        when = dt.datetime.fromtimestamp(updated).strftime("%Y-%m-%d %H:%M:%S")
        st.caption(f"{text('updated', language)}: {when}")
    return info


def render_session_settings(settings: Settings, language: str) -> SessionChoices:
    st.subheader(text("session_settings", language))
    st.radio(
        text("language", language),
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key="lang",
        horizontal=True,
    )
    top_k = st.slider(text("top_k", language), 1, 10, value=min(settings.top_k, 10), key="top_k")
    # The configured answerer and the offline one; other backends need settings (model, server)
    # that are chosen where the app is started, not in the browser.
    answerer = settings.answerer
    options = list(dict.fromkeys([settings.answerer, OFFLINE_ANSWERER]))
    if len(options) > 1:
        answerer = st.selectbox(text("answerer", language), options, key="answerer")
    return SessionChoices(top_k=top_k, answerer=answerer)


def render_documents(bot: Assistant, language: str) -> bool:
    """Upload and rebuild; True when the index changed."""
    st.subheader(text("add_documents", language))
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader(
            text("upload_label", language, mb=MAX_UPLOAD_MB),
            type=list(UPLOAD_TYPES),
            accept_multiple_files=True,
            max_upload_size=MAX_UPLOAD_MB,
            key="upload_files",
        )
        submitted = st.form_submit_button(text("upload_button", language), icon=":material/upload:")
    changed = False
    if submitted and files:
        for file in files:
            changed |= ingest_upload(bot, file.name, file.getvalue(), language)
    if st.button(text("rebuild", language), help=text("rebuild_help", language), icon=":material/refresh:"):
        changed |= rebuild(bot, language)
    return changed


def _progress_callback(bar: st.delta_generator.DeltaGenerator, label: str) -> object:
    def update(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{label} {done}/{total}")

    return update


def ingest_upload(bot: Assistant, name: str, data: bytes, language: str) -> bool:
    problem = check_upload(name, len(data), language)
    if problem:
        st.error(problem)
        return False
    path = save_upload(name, data, bot.settings)
    label = text("ingesting", language, name=path.name)
    bar = st.progress(0.0, text=label)
    try:
        report = bot.ingest([path], progress=_progress_callback(bar, label))
    except AssistantError as exc:
        bar.empty()
        show_error(exc)
        return False
    bar.empty()
    if report.skipped:
        path.unlink(missing_ok=True)  # unreadable: do not keep it for the next rebuild
        st.error(text("unreadable", language, name=path.name, reason=report.skipped[0].reason))
        st.info(text("unreadable_hint", language))
        return False
    if not report.changed:
        st.info(text("unchanged", language, name=path.name))
        return False
    chunks = _chunks_of(bot, path)
    st.success(text("ingested", language, name=path.name, chunks=chunks))
    st.toast(text("ingested", language, name=path.name, chunks=chunks), icon=":material/check_circle:")
    return True


def _chunks_of(bot: Assistant, path: Path) -> int:
    source = path.resolve().as_posix()
    return next((d.chunks for d in bot.documents() if d.source == source), 0)


def rebuild(bot: Assistant, language: str) -> bool:
    paths = list(bot.settings.corpus)
    uploads = upload_dir(bot.settings)
    if uploads.is_dir():
        paths.append(uploads)
    label = text("rebuild", language)
    bar = st.progress(0.0, text=label)
    try:
        report: IngestReport = bot.ingest(
            paths, rebuild=True, prune=True, progress=_progress_callback(bar, label)
        )
    except AssistantError as exc:
        bar.empty()
        show_error(exc)
        return False
    bar.empty()
    documents = len(report.added) + len(report.updated) + len(report.unchanged)
    st.success(
        text("rebuilt", language, documents=documents, chunks=report.chunks_total, seconds=report.seconds)
    )
    for skipped in report.skipped:
        st.warning(text("unreadable", language, name=Path(skipped.source).name, reason=skipped.reason))
    return True


def render_feedback_export(settings: Settings, language: str) -> None:
    st.subheader(text("feedback_data", language))
    path = settings.feedback_path
    count = sum(1 for _ in read_feedback(path))
    st.caption(text("feedback_count", language, n=count))
    if not count:
        return

    def dataset() -> bytes:
        out = settings.data_dir / "feedback-dataset.jsonl"
        export_dataset(path, out)
        return out.read_bytes()

    st.download_button(
        text("export", language),
        data=dataset,
        file_name="feedback-dataset.jsonl",
        mime="application/jsonl",
        on_click="ignore",
        icon=":material/download:",
        key="export",
    )
