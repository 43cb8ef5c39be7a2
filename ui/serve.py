"""``make run``: load the models and the index, then start the browser chat.

Streamlit prints the URL only after the assistant is warmed up (`ui.factory`),
so the first visitor never waits for models; the stages are logged as they pass.
With ``ASSISTANT_SERVER_URL`` set nothing is loaded here: answers come from the service.
Any further arguments go to ``streamlit run`` (e.g. ``--server.port 8502``).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import load_settings
from ui import factory
from ui.i18n import default_language, error_text, text

APP = Path(__file__).resolve().parent / "app.py"
log = logging.getLogger("ui.serve")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    language = default_language(None)
    started = time.perf_counter()
    try:
        settings = load_settings()

        def progress(i: int, stage: str) -> None:
            log.info("[%d/%d] %s", i + 1, len(factory.STAGES), text(stage, language))

        factory.get_assistant(settings, progress)
        if factory.remote(settings):
            log.info("%s", text("stage_service", language, url=settings.server_url))
    except AssistantError as exc:
        message, hint = error_text(exc, language)
        log.error("%s %s\n%s", message, hint, exc)
        return 1
    log.info("%s (%.1f s)", text("stage_ready", language), time.perf_counter() - started)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(argv if argv is not None else sys.argv[1:])]
    cli.main()  # runs the server until it is stopped
    return 0


if __name__ == "__main__":
    sys.exit(main())
