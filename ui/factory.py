"""The one place the browser chat builds its `Assistant`: once per process, warmed up.

`ui/serve.py` (``make run``) calls `get_assistant` before the server starts, so the
URL is printed only when the models and the index are loaded; a page served by a
plain ``streamlit run`` shows the stages in a progress bar instead. A later
resident service only has to change this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from assistant.pipeline import Assistant
from assistant.settings import Settings
from ui.conversations import ConversationStore

log = logging.getLogger(__name__)

#: The stages of getting ready, in order (keys of `ui.i18n`).
STAGES = ("stage_embedder", "stage_answerer", "stage_index")

_lock = threading.Lock()
_assistants: dict[str, Assistant] = {}
_variants: dict[tuple[str, int, str], Assistant] = {}


def settings_key(settings: Settings) -> str:
    return settings.model_dump_json()


def ready(settings: Settings) -> bool:
    return settings_key(settings) in _assistants


def get_assistant(settings: Settings, progress: Callable[[int, str], None] | None = None) -> Assistant:
    """The warmed-up Assistant for ``settings``; ``progress(i, stage)`` is told each stage."""
    key = settings_key(settings)
    with _lock:  # concurrent first visitors wait for one loading, not start their own
        bot = _assistants.get(key)
        if bot is not None:
            return bot
        bot = Assistant(settings)
        for i, stage in enumerate(STAGES):
            if progress:
                progress(i, stage)
            if stage == "stage_embedder":
                _ = bot.embedder
            elif stage == "stage_answerer":
                _ = bot.answerer
            else:
                bot.warm_up()
        _assistants[key] = bot
        return bot


def get_variant(base: Assistant, top_k: int, answerer: str) -> Assistant:
    """The Assistant with a session's own choices; it shares the base's embedder (models load once)."""
    if top_k == base.settings.top_k and answerer == base.settings.answerer:
        return base
    key = (settings_key(base.settings), top_k, answerer)
    with _lock:
        if key not in _variants:
            settings = base.settings.model_copy(update={"top_k": top_k, "answerer": answerer})
            _variants[key] = Assistant(settings, embedder=base.embedder)
        return _variants[key]


@lru_cache(maxsize=8)
def conversation_store(data_dir: Path) -> ConversationStore:
    return ConversationStore(data_dir / "conversations.sqlite3")
