"""Building the FastAPI app and running it under uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from assistant.server import chat, errors, routes
from assistant.server.auth import BodyLimit
from assistant.server.state import Service
from assistant.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """\
Ask questions about the indexed documents, in Japanese or English.

* `POST /v1/ask` and `POST /v1/ask/stream` (server-sent events) — the assistant's own API.
* `POST /v1/chat/completions` and `GET /v1/models` — OpenAI-compatible: use the assistant as a model.
* `POST /v1/ingest`, `GET /v1/documents` — admin key; `GET /v1/info`, `/healthz`, `/readyz`.

Send the API key as `Authorization: Bearer <key>`. Errors are JSON:
`{"error": {"type", "message", "hint", "code"}}`.
"""


def create_app(settings: Settings, assistant: Assistant | None = None, *, warm_up: bool = True) -> FastAPI:
    service = Service(settings, assistant)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            threading.Thread(target=service.warm_up, name="warm-up", daemon=True).start()
        else:
            service.ready.set()
        yield

    app = FastAPI(title="assistant", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = service
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(chat.router)
    app.add_middleware(BodyLimit, limit=settings.server_max_request_bytes)
    return app


def check_exposure(settings: Settings, host: str) -> None:
    """Listening beyond this machine without any API key is refused."""
    if settings.server_admin_keys or settings.server_read_keys:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"Refusing to listen on {host} without API keys: anyone could ingest documents.",
            "Set ASSISTANT_SERVER_ADMIN_KEYS (and READ_KEYS) to hashes from `assistant serve --hash-key KEY`, "
            "or listen on 127.0.0.1 behind a reverse proxy.",
        )


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    host = host or settings.server_host
    port = settings.server_port if port is None else port
    check_exposure(settings, host)
    app = create_app(settings)
    log.warning("assistant serve: http://%s:%d (API docs at /docs)", host, port)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False)
