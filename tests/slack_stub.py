"""A local stand-in of the Slack Web API for the Slack bot's tests.

A real HTTP server on 127.0.0.1 that answers the methods the bot calls, keeps the
messages of each channel (so ``conversations.replies`` returns real threads),
records every call, and can be told to fail a method with an HTTP status (429 with
``Retry-After``, 500...) a number of times or for good.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER_ID = "UASSISTANT"
BOT_ID = "BASSISTANT"
TEAM_ID = "T0TEST"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int


@dataclass
class Failure:
    status: int
    times: int | None  # None: for good
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "internal_error"


class SlackStub:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.failures: dict[str, Failure] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> SlackStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self.failures.clear()

    # --- test controls ---------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        times: int | None = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Answer ``method`` with ``{"ok": false}`` and this HTTP status, ``times`` times (None: always)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        error = error or ("ratelimited" if status == 429 else "internal_error")
        with self._lock:
            self.failures[method] = Failure(status, times, headers, error)

    def new_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def add_user_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "UHUMAN",
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """A message a person wrote, as Slack would store it; returns it."""
        message = {"type": "message", "user": user, "text": text, "ts": ts or self.new_ts()}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def bot_messages(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages.get(channel, []) if m.get("bot_id") == BOT_ID]

    def answers(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Bot messages that show a finished answer (they carry the feedback buttons)."""
        with self._lock:
            found = []
            for ch, messages in self.messages.items():
                for m in messages:
                    blocks = m.get("blocks") or []
                    if (channel in (None, ch)) and any(b.get("type") == "actions" for b in blocks):
                        found.append({**m, "channel": ch})
            return found

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout}s; calls: {[c.method for c in self.calls]}")

    # --- the API ---------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            failure = self.failures.get(method)
            if failure is not None and failure.times != 0:
                if failure.times is not None:
                    failure.times -= 1
                self.calls.append(Call(method, params, time.time(), failure.status))
                return failure.status, failure.headers, {"ok": False, "error": failure.error}
            self.calls.append(Call(method, params, time.time(), 200))
            return 200, {}, self._answer(method, params)

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "assistant",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": self.new_ts(),
                "text": p.get("text", ""),
                "blocks": _blocks(p),
            }
            if p.get("thread_ts"):
                message["thread_ts"] = p["thread_ts"]
            self.messages.setdefault(p["channel"], []).append(message)
            return {"ok": True, "channel": p["channel"], "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in self.messages.get(p["channel"], []):
                if message["ts"] == p["ts"]:
                    message.update(text=p.get("text", ""), blocks=_blocks(p))
                    return {"ok": True, "channel": p["channel"], "ts": p["ts"], "text": message["text"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "conversations.replies":
            thread = p["ts"]
            messages = [
                m
                for m in self.messages.get(p["channel"], [])
                if m["ts"] == thread or m.get("thread_ts") == thread
            ]
            return {"ok": True, "messages": sorted(messages, key=lambda m: float(m["ts"])), "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.new_ts()}
        if method == "reactions.add":
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _make_handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _params(self) -> dict[str, Any]:
            url = urlsplit(self.path)
            params: dict[str, Any] = dict(parse_qsl(url.query))
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            if raw and "json" in (self.headers.get("content-type") or ""):
                params.update(json.loads(raw))
            elif raw:
                params.update(parse_qsl(raw))
            return params

        def _serve(self) -> None:
            method = urlsplit(self.path).path.rsplit("/", 1)[-1]
            status, headers, body = stub.handle(method, self._params())
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

    return Handler
