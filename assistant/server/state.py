"""What the service holds: one `Assistant`, the key ring, the limits, readiness."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request

from assistant.errors import AssistantError, ConfigError
from assistant.pipeline import Assistant
from assistant.server.auth import KeyRing, RateLimiter, Role, bearer
from assistant.settings import Settings

log = logging.getLogger(__name__)

#: The answerer a client may always choose instead of the service's: the offline one.
OFFLINE_ANSWERER = "extractive"


class Service:
    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.keys = KeyRing(settings)
        self.limiter = RateLimiter(settings.server_rate_limit)
        self._slots = threading.BoundedSemaphore(settings.server_concurrency)
        self.started = time.time()
        self.ready = threading.Event()
        self.warm_error: str | None = None
        self._variants: dict[tuple[int, str], Assistant] = {}
        self._variants_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the models and the lexical index before the first question (in a thread)."""
        started = time.perf_counter()
        try:
            self.assistant.warm_up()
            self.assistant.embedder.embed_query("warm up")
            self.warm_error = None
        except AssistantError as exc:
            self.warm_error = exc.message
            log.error("warm-up failed: %s", exc)
        log.info("warm-up done in %.1fs", time.perf_counter() - started)
        self.ready.set()

    def assistant_for(self, top_k: int | None = None, answerer: str | None = None) -> Assistant:
        """The assistant with a client's choices; variants share the embedder and are kept."""
        top_k = top_k or self.settings.top_k
        answerer = answerer or self.settings.answerer
        allowed = dict.fromkeys([self.settings.answerer, OFFLINE_ANSWERER])
        if answerer not in allowed:
            raise ConfigError(f"This service does not offer the answerer {answerer!r}.",
                              f"Use one of: {', '.join(allowed)}, or leave it out for the default.")  # fmt: skip
        with self._variants_lock:
            if (top_k, answerer) not in self._variants:
                self._variants[(top_k, answerer)] = self.assistant.with_options(
                    top_k=top_k, answerer=answerer
                )
            return self._variants[(top_k, answerer)]

    def authorize(self, request: Request, needed: Role) -> None:
        identity = self.keys.check(bearer(request.headers), needed)
        if identity == "anonymous" and request.client is not None:
            identity = request.client.host
        self.limiter.hit(identity)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """At most ``server_concurrency`` questions at once; the others wait their turn."""
        with self._slots:
            yield

    def acquire_slot(self) -> None:
        """`slot` for a stream, whose end is in another call (a release may come from another thread)."""
        self._slots.acquire()

    def release_slot(self) -> None:
        self._slots.release()

    def info(self) -> dict[str, Any]:
        return {
            "model": self.settings.server_model_name,
            "embedder": self.settings.embedder,
            "answerer": self.settings.answerer,
            "top_k": self.settings.top_k,
            "uptime_s": round(time.time() - self.started, 1),
            "ready": self.ready.is_set(),
            "index_version": self.assistant.index_version(),
        }
