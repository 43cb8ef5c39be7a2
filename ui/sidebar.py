"""The sidebar: conversations, who is signed in, display settings and, for admins, the documents."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from assistant.door import UPLOADS, AssistantLike, Progress
from assistant.errors import AssistantError, IndexNotFoundError
from assistant.feedback import export_dataset, read_feedback
from assistant.settings import Settings
from assistant.types import SUPPORTED_SUFFIXES
from ui import auth
from ui.conversations import ConversationStore
from ui.i18n import LANGUAGES, error_text, text, upload_problem
from ui.sources import escape_markdown

log = logging.getLogger(__name__)

OFFLINE_ANSWERER = "extractive"
#: File types a user may upload: the loader's own list.
UPLOAD_TYPES = tuple(sorted(suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES))
_SCROLL_TO_RESULTS = (
    "<script>setTimeout(() => document.querySelector('.st-key-upload-results')"
    "?.scrollIntoView({block: 'center'}), 150);</script>"
)


@dataclass
class SessionChoices:
    top_k: int
    answerer: str


def show_problem(message: str, hint: str, *, toast: bool = True) -> None:
    """An error inline (what happened, what to do) and as a toast, so it is seen wherever one looks."""
    st.error(message)
    if hint:
        st.info(hint)
    if toast:
        st.toast(message, icon=":material/error:")


# --- conversations ---------------------------------------------------------------------


def render_conversations(
    store: ConversationStore, owner: str, current: str | None, language: str
) -> tuple[str | None, str | None]:
    """The user's conversations; returns (conversation to open, conversation deleted)."""
    st.subheader(text("conversations", language))
    items = store.of_owner(owner)
    if not items:
        st.caption(text("no_conversations", language))
        return None, None
    opened = deleted = None
    for item in items:
        left, right = st.columns([5, 1], vertical_alignment="center")
        label = escape_markdown(item.title) if item.title else "…"
        if left.button(
            label,
            key=f"conv-{item.id}",
            use_container_width=True,
            type="primary" if item.id == current else "secondary",
        ):
            opened = item.id
        if right.button("", key=f"del-{item.id}", icon=":material/delete:", help=text("delete", language)):
            deleted = item.id
    return opened, deleted


# --- who ------------------------------------------------------------------------------


def render_user(user: auth.User, settings: Settings, language: str) -> None:
    role = text("role_admin" if user.admin else "role_viewer", language)
    who = user.name or text("role_viewer", language)
    st.caption(text("signed_in_as", language, who=escape_markdown(who), role=role) if user.name else role)
    if user.signed_in:
        if st.button(text("logout", language), icon=":material/logout:", key="logout"):
            auth.sign_out()  # ends this run
        return
    if auth.oidc_configured():
        if st.button(text("login_oidc", language), icon=":material/login:", key="login-oidc"):
            st.login()
        return
    if settings.ui_admin_password is None:
        return
    with st.expander(text("admin_login", language)), st.form("admin-login", border=False):
        password = st.text_input(text("password", language), type="password", key="admin-password")
        if st.form_submit_button(text("login", language)):
            if auth.check_password(settings, password):
                st.rerun()
            show_problem(text("wrong_password", language), text("wrong_password_hint", language))


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
    answerer = settings.answerer
    options = list(dict.fromkeys([settings.answerer, OFFLINE_ANSWERER]))
    if len(options) > 1:
        answerer = st.selectbox(text("answerer", language), options, key="answerer")
    return SessionChoices(top_k=top_k, answerer=answerer)


# --- admin ----------------------------------------------------------------------------


def render_index_status(bot: AssistantLike, language: str) -> None:
    st.subheader(text("index", language))
    try:
        info = bot.info()  # a read call, also through the service
    except IndexNotFoundError:
        st.warning(text("no_index", language))
        return
    except AssistantError as exc:
        show_problem(*error_text(exc, language), toast=False)
        return
    left, right = st.columns(2)
    left.metric(text("documents", language), info.documents)
    right.metric(text("chunks", language), info.chunks)


def render_upload(bot: AssistantLike, language: str) -> None:
    """Upload and rebuild (admins only). Problems show right under the control and as toasts."""
    st.subheader(text("add_documents", language))
    mb = upload_limit_mb(bot.settings)
    types = ", ".join(f".{t}" for t in UPLOAD_TYPES)
    st.html(_uploader_style(language))
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader(
            text("upload_label", language, types=types, mb=mb),
            type=None,  # checked below, so that a wrong type gets a message in the interface language
            accept_multiple_files=True,
            max_upload_size=mb,
            key="upload_files",
        )
        submitted = st.form_submit_button(text("upload_button", language), icon=":material/upload:")
    results = st.container(key="upload-results")
    if submitted and files:
        with results:
            for file in files:
                ingest_upload(bot, file.name, file.getvalue(), language)
            # the outcome is below the fold of a long sidebar: bring it into view (a constant script)
            st.html(_SCROLL_TO_RESULTS, unsafe_allow_javascript=True, width="content")
    elif submitted:
        results.warning(text("no_files", language), icon=":material/upload_file:")
    if st.button(text("rebuild", language), help=text("rebuild_help", language), icon=":material/refresh:"):
        rebuild(bot, language)


def _uploader_style(language: str) -> str:
    """Streamlit's uploader speaks English ("Upload", "10MB per file"): our label says it instead."""
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    return (
        "<style>"
        '[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }'
        f"{button} {{ font-size: 0; }}"
        f'{button}::after {{ content: "{text("choose_files", language)}"; font-size: 0.875rem; }}'
        "</style>"
    )


def upload_limit_mb(settings: Settings) -> int:
    """The loader's file limit (``max_file_mb``), the one rule for what is too large."""
    return max(1, int(settings.max_file_mb))


def check_upload(name: str, size: int, mb: int, language: str) -> tuple[str, str] | None:
    """Why an upload is refused before reading it, or None."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        types = ", ".join(f".{t}" for t in UPLOAD_TYPES)
        return text("bad_type", language, name=name), text("bad_type_hint", language, types=types)
    if size == 0:
        return text("empty_file", language, name=name), text("empty_file_hint", language)
    if size > mb * 1024 * 1024:
        return (
            text("too_large", language, name=name, size=size / 1024 / 1024, mb=mb),
            text("too_large_hint", language),
        )
    return None


def _progress(bar: st.delta_generator.DeltaGenerator, label: str) -> Progress:
    def update(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{label} {done}/{total}")

    return update


def ingest_upload(bot: AssistantLike, name: str, data: bytes, language: str) -> bool:
    problem = check_upload(name, len(data), upload_limit_mb(bot.settings), language)
    if problem:
        show_problem(*problem)
        return False
    path = save_upload(name, data, bot.settings)
    label = text("ingesting", language, name=path.name)
    bar = st.progress(0.0, text=label)
    try:
        report = bot.ingest([path], progress=_progress(bar, label))
    except AssistantError as exc:
        bar.empty()
        path.unlink(missing_ok=True)
        show_problem(*error_text(exc, language))
        return False
    bar.empty()
    if report.skipped:
        path.unlink(missing_ok=True)  # unreadable: do not keep it for the next rebuild
        show_problem(*upload_problem(path.name, path.suffix.lower(), report.skipped[0].reason, language))
        return False
    if not report.changed:
        st.info(text("unchanged", language, name=path.name))
        return False
    sources = set(report.added + report.updated)  # where it is indexed (the service's path, remotely)
    chunks = sum(d.chunks for d in bot.documents() if d.source in sources)
    st.success(text("ingested", language, name=path.name, chunks=chunks))
    st.toast(text("ingested", language, name=path.name, chunks=chunks), icon=":material/check_circle:")
    return True


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / UPLOADS


def save_upload(name: str, data: bytes, settings: Settings) -> Path:
    base = Path(name.replace("\\", "/")).name
    cleaned = (re.sub(r"[^\w.\-]+", "_", base).strip("._") or "upload")[:120]
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / cleaned
    path.write_bytes(data)
    return path


def rebuild(bot: AssistantLike, language: str) -> bool:
    label = text("rebuild", language)
    bar = st.progress(0.0, text=label)
    try:
        report = bot.rebuild(progress=_progress(bar, label))  # the corpus and the uploads
    except AssistantError as exc:
        bar.empty()
        show_problem(*error_text(exc, language))
        return False
    bar.empty()
    documents = len(report.added) + len(report.updated) + len(report.unchanged)
    message = text(
        "rebuilt", language, documents=documents, chunks=report.chunks_total, seconds=report.seconds
    )
    st.success(message)
    st.toast(message, icon=":material/check_circle:")
    for skipped in report.skipped:
        name = Path(skipped.source).name
        show_problem(*upload_problem(name, Path(name).suffix.lower(), skipped.reason, language), toast=False)
    return True


def render_feedback_export(settings: Settings, language: str) -> None:
    st.subheader(text("feedback_data", language))
    path = settings.feedback_path
    count = len({f.id for f in read_feedback(path)})
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
