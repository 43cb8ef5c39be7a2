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


@dataclass
class Limit:
    """A Slack-like rate limit: ``rate`` calls per second with bursts of ``burst``."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """0 when a call may go now (and takes it), else the seconds to wait."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class SlackStub:
    def __init__(self) -> None:
        self.limits: dict[str, Limit] = {}
        self.channel_limit: tuple[float, float] | None = None
        self._channel_buckets: dict[str, Limit] = {}
        self.responses: list[dict[str, Any]] = []  # what was POSTed to response_urls
        self.socket_url = ""  # what apps.connections.open answers
        self.reactions: dict[tuple[str, str], set[str]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.failures: dict[str, Failure] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._start = int(time.time()) - 3600
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
            self.limits.clear()
            self.channel_limit = None
            self._channel_buckets.clear()
            self.responses.clear()
            self.reactions.clear()
            self.views.clear()

    def slack_like_limits(self) -> None:
        """Limits like Slack's: messages ~1/s per channel (bursts of 3), chat.update and
        reactions at Tier 3 (50/min), reactions.remove Tier 2 (20/min)."""
        with self._lock:
            for method, per_minute in {
                "chat.update": 50,
                "reactions.add": 50,
                "reactions.remove": 20,
                "chat.postMessage": 300,
                "conversations.replies": 50,
            }.items():
                self.limits[method] = Limit(
                    per_minute / 60, max(2.0, per_minute / 10), max(2.0, per_minute / 10), time.monotonic()
                )
            self.channel_limit = (1.0, 3.0)

    def response_url(self, name: str) -> str:
        return self.api_url.replace("/api/", f"/response/{name}")

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
        return f"{self._start}.{next(self._ts):06d}"

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
            wait = self._rate_limited(method, params)
            if wait:
                self.calls.append(Call(method, params, time.time(), 429))
                return 429, {"Retry-After": str(max(1, round(wait)))}, {"ok": False, "error": "ratelimited"}
            self.calls.append(Call(method, params, time.time(), 200))
            return 200, {}, self._answer(method, params)

    def _rate_limited(self, method: str, params: dict[str, Any]) -> float:
        now = time.monotonic()
        limit = self.limits.get(method)
        if limit is not None:
            wait = limit.take(now)
            if wait:
                return wait
        channel = params.get("channel")
        if self.channel_limit and channel and method in ("chat.postMessage", "chat.update"):
            bucket = self._channel_buckets.setdefault(
                channel, Limit(self.channel_limit[0], self.channel_limit[1], self.channel_limit[1], now)
            )
            return bucket.take(now)
        return 0.0

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
                "blocks": blocks_of(p),
            }
            if p.get("thread_ts"):
                message["thread_ts"] = p["thread_ts"]
            self.messages.setdefault(p["channel"], []).append(message)
            return {"ok": True, "channel": p["channel"], "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in self.messages.get(p["channel"], []):
                if message["ts"] == p["ts"]:
                    message.update(text=p.get("text", ""), blocks=blocks_of(p))
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
        if method in ("reactions.add", "reactions.remove"):
            names = self.reactions.setdefault((p["channel"], p["timestamp"]), set())
            if method == "reactions.add":
                names.add(p["name"])
            elif p["name"] in names:
                names.discard(p["name"])
            else:
                return {"ok": False, "error": "no_reaction"}
            return {"ok": True}
        if method == "conversations.history":
            oldest = float(p.get("oldest") or 0)
            messages = [m for m in self.messages.get(p["channel"], []) if float(m["ts"]) >= oldest]
            return {
                "ok": True,
                "messages": sorted(messages, key=lambda m: -float(m["ts"])),
                "has_more": False,
            }
        if method == "views.publish":
            view = p["view"]
            self.views[p["user_id"]] = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": self.views[p["user_id"]]}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}


def blocks_of(params: dict[str, Any]) -> list[dict[str, Any]]:
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
            if self.path.startswith("/response/"):
                body = self._params()
                with stub._lock:
                    stub.responses.append({"name": self.path.rsplit("/", 1)[-1], **body})
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                return
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


class SocketStandIn:
    """A local stand-in of Slack's Socket Mode WebSocket endpoint.

    Each connection gets ``{"type": "hello"}``; `send` pushes an envelope to the
    newest connection and waits for the client's acknowledgement (the envelope id,
    with a payload for slash commands); `refresh` asks the client to reconnect the way
    Slack does (``disconnect`` / ``refresh_requested``); `drop` closes the socket.
    """

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.connections: list[Any] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def start(self) -> SocketStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def _handle(self, connection: Any) -> None:
        with self._cond:
            self.connections.append(connection)
            self._cond.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._cond:
                    self.acks[message.get("envelope_id", "")] = message
                    self._cond.notify_all()
        except Exception:  # the client went away
            pass

    def wait_connections(self, count: int, timeout: float = 15) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"{len(self.connections)} connection(s), expected {count}")

    def send(self, kind: str, payload: dict[str, Any], timeout: float = 5) -> tuple[dict[str, Any], float]:
        """Push an envelope (``events_api``, ``interactive``, ``slash_commands``); returns
        the acknowledgement and the seconds it took."""
        envelope_id = f"env-{next(_envelopes)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0}  # fmt: skip
        started = time.perf_counter()
        self.connections[-1].send(json.dumps(envelope))
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged in {timeout}s")
            return self.acks[envelope_id], time.perf_counter() - started

    def refresh(self, timeout: float = 15) -> None:
        """Ask for a reconnection, wait for the new connection, then close the old one (as Slack does)."""
        old, count = self.connections[-1], len(self.connections)
        old.send(json.dumps({"type": "disconnect", "reason": "refresh_requested"}))
        self.wait_connections(count + 1, timeout)
        old.close()

    def drop(self) -> None:
        self.connections[-1].close()


_envelopes = itertools.count(1)


# --- building requests the way Slack sends them ------------------------------------------

SECRET = "test-signing-secret"
MENTION = f"<@{BOT_USER_ID}>"


def signed_post(
    url: str,
    body: str | bytes,
    *,
    headers: dict[str, str] | None = None,
    timestamp: str | int | None = None,
    secret: str = SECRET,
    form: bool = False,
    path: str = "/slack/events",
) -> tuple[int, str, float]:
    """POST a request signed as Slack signs it; returns status, body and seconds taken."""
    import http.client

    from slack_sdk.signature import SignatureVerifier

    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=ts, body=raw.decode("utf-8", "replace")
    )
    all_headers = {
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        **(headers or {}),
    }
    split = urlsplit(url)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
    try:
        conn.request("POST", path, body=raw, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read().decode(), time.perf_counter() - started
    finally:
        conn.close()


def envelope(event: dict[str, Any], event_id: str | None = None, team: str = TEAM_ID) -> str:
    import uuid

    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event": event,
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        },
        ensure_ascii=False,
    )


def mention_event(
    stub: SlackStub, channel: str, text: str, *, thread_ts: str | None = None, user: str = "UHUMAN"
) -> dict[str, Any]:
    message = stub.add_user_message(channel, f"{MENTION} {text}", thread_ts=thread_ts, user=user)
    event = {"type": "app_mention", "user": user, "text": message["text"], "ts": message["ts"],
             "channel": channel, "event_ts": message["ts"]}  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(message: dict[str, Any], channel: str, channel_type: str = "channel") -> dict[str, Any]:
    return {**message, "channel": channel, "channel_type": channel_type, "event_ts": message["ts"]}


def click_payload(
    answer: dict[str, Any], channel: str, button: int = 0, user: str = "UHUMAN"
) -> dict[str, Any]:
    """The block_actions payload of a click on an answer's 👍 (0) or 👎 (1)."""
    element = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][button]
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0TEST",
        "team": {"id": TEAM_ID},
        "channel": {"id": channel},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": answer["ts"], "channel_id": channel},
        "message": {
            "ts": answer["ts"],
            "thread_ts": answer.get("thread_ts"),
            "text": answer["text"],
            "blocks": answer["blocks"],
        },
        "actions": [
            {
                "type": "button",
                "action_id": element["action_id"],
                "block_id": "assistant_feedback",
                "value": element["value"],
                "action_ts": str(time.time()),
            }
        ],
    }


def form(payload: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
