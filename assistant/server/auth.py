"""API keys (stored as SHA-256 hashes), request size and rate limits."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from assistant.settings import Settings

Role = Literal["admin", "read"]


def hash_key(key: str) -> str:
    """The form in which a key is kept in the settings: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class HTTPProblem(Exception):
    """An error answered with a status code, a message and a hint (no AssistantError behind it)."""

    def __init__(self, status: int, message: str, hint: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers or {}


class KeyRing:
    """Which role a presented key has. With no keys configured the service is open."""

    def __init__(self, settings: Settings) -> None:
        self._roles: dict[str, Role] = {h.lower(): "read" for h in settings.server_read_keys}
        self._roles.update({h.lower(): "admin" for h in settings.server_admin_keys})
        for stored in self._roles:
            if not stored.startswith("sha256:") or len(stored) != 7 + 64:
                from assistant.errors import ConfigError

                raise ConfigError(
                    "API keys must be stored as SHA-256 hashes (sha256:<64 hex digits>).",
                    "Make one with `assistant serve --hash-key YOUR-KEY` and put that in "
                    "ASSISTANT_SERVER_ADMIN_KEYS / ASSISTANT_SERVER_READ_KEYS.",
                )

    @property
    def open(self) -> bool:
        return not self._roles

    def role(self, key: str | None) -> Role | None:
        if key is None:
            return None
        presented = hash_key(key)
        for stored, role in self._roles.items():
            if hmac.compare_digest(stored, presented):
                return role
        return None

    def check(self, key: str | None, needed: Role) -> str:
        """Return an identity for rate limiting; raise 401/403 when the key does not allow ``needed``."""
        if self.open:
            return "anonymous"
        if not key:
            raise HTTPProblem(
                401,
                "This service needs an API key.",
                "Send it as `Authorization: Bearer <key>` (ASSISTANT_SERVER_API_KEY for our clients).",
                {"WWW-Authenticate": "Bearer"},
            )
        role = self.role(key)
        if role is None:
            raise HTTPProblem(
                401, "The API key is not valid.", "Check the key you send.", {"WWW-Authenticate": "Bearer"}
            )
        if needed == "admin" and role != "admin":
            raise HTTPProblem(
                403, "This key is read-only.", "Ingesting and listing documents need an admin key."
            )
        return hash_key(key)[7:23]


def bearer(headers: Any) -> str | None:
    """The key from ``Authorization: Bearer …`` or ``X-API-Key``."""
    value = headers.get("authorization") or ""
    if value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return headers.get("x-api-key") or None


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per identity: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, identity: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            if len(self._buckets) > 10_000:  # forget identities that are full again
                full = [k for k, b in self._buckets.items() if now - b.updated > 60]
                for k in full:
                    del self._buckets[k]
            bucket = self._buckets.setdefault(identity, _Bucket(float(self.per_minute), now))
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                wait = max(1, int((1.0 - bucket.tokens) / rate + 0.999))
                raise HTTPProblem(
                    429,
                    f"Too many requests: the limit is {self.per_minute} per minute.",
                    f"Retry in {wait} s, or raise ASSISTANT_SERVER_RATE_LIMIT on the service.",
                    {"Retry-After": str(wait)},
                )
            bucket.tokens -= 1.0


class BodyLimit:
    """ASGI middleware: request bodies above ``limit`` bytes get 413 before anything reads them."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Any:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Answer now and tell the app the client went away, so it stops reading.
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Any) -> None:
        import json

        body = json.dumps(
            {
                "error": {
                    "type": "request_too_large",
                    "message": f"The request body is larger than {self.limit} bytes.",
                    "hint": "Send less (split large uploads) or raise ASSISTANT_SERVER_MAX_REQUEST_BYTES.",
                    "code": 413,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
