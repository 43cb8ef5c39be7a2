"""The one place the browser chat gets its assistant: once per process, warmed up.

With ``ASSISTANT_SERVER_URL`` set the assistant is a client of a running ``assistant serve``
(`assistant.door.open_assistant`): nothing is loaded in this process, and a service that
is down is reported with each call, in the interface language. Without it the models and
the index are loaded here: `ui/serve.py` (``make run``) calls `get_assistant` before the
server starts, so the URL is printed only when they are loaded; a page served by a plain
``streamlit run`` shows the stages in a progress bar instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from assistant.door import AssistantLike, open_assistant
from assistant.settings import Settings
from ui.conversations import ConversationStore

log = logging.getLogger(__name__)

#: The stages of getting ready, in order (keys of `ui.i18n`).
STAGES = ("stage_embedder", "stage_answerer", "stage_index")

_lock = threading.Lock()
_assistants: dict[str, AssistantLike] = {}
_variants: dict[tuple[str, int, str], AssistantLike] = {}


def settings_key(settings: Settings) -> str:
    return settings.model_dump_json()


def ready(settings: Settings) -> bool:
    return settings_key(settings) in _assistants


def remote(settings: Settings) -> bool:
    """Are the answers made by a service rather than in this process?"""
    return bool(settings.server_url)


def get_assistant(settings: Settings, progress: Callable[[int, str], None] | None = None) -> AssistantLike:
    """The warmed-up assistant for ``settings``; ``progress(i, stage)`` is told each stage."""
    key = settings_key(settings)
    with _lock:  # concurrent first visitors wait for one loading, not start their own
        bot = _assistants.get(key)
        if bot is None:
            bot = open_assistant(settings)
            if not remote(settings):
                _load(bot, progress)
            _assistants[key] = bot
        return bot


def _load(bot: AssistantLike, progress: Callable[[int, str], None] | None) -> None:
    """Load an embedded assistant's models stage by stage (the pipeline is imported only here)."""
    from assistant.pipeline import Assistant

    assert isinstance(bot, Assistant)
    for i, stage in enumerate(STAGES):
        if progress:
            progress(i, stage)
        if stage == "stage_embedder":
            _ = bot.embedder
        elif stage == "stage_answerer":
            _ = bot.answerer
        else:
            bot.warm_up()


def get_variant(base: AssistantLike, top_k: int, answerer: str) -> AssistantLike:
    """The assistant with a session's own choices: embedded, it shares the base's embedder (models
    load once); through the service, the choices travel with each question."""
    if top_k == base.settings.top_k and answerer == base.settings.answerer:
        return base
    key = (settings_key(base.settings), top_k, answerer)
    with _lock:
        if key not in _variants:
            _variants[key] = base.with_options(top_k=top_k, answerer=answerer)
        return _variants[key]


@lru_cache(maxsize=8)
def conversation_store(data_dir: Path) -> ConversationStore:
    return ConversationStore(data_dir / "conversations.sqlite3")
