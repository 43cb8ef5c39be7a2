"""A stand-in chat model server on 127.0.0.1 for tests.

It speaks OpenAI's chat-completions protocol (``POST /v1/chat/completions``, with
``stream: true`` as server-sent events ending in ``data: [DONE]``) and Ollama's
native one (``POST /api/chat``, newline-delimited JSON). It records every request.
What it answers is decided by ``responder(body) -> str``; faults are queued with
``fail(...)`` and served one per request before normal answers resume.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], str]


@dataclass
class Fault:
    """How one request goes wrong.

    kind: ``slow`` (waits ``seconds`` before answering), ``500``, ``429`` (with
    ``Retry-After: seconds``), ``malformed`` (invalid JSON in the body or in the
    first event), ``cut`` (streams a few pieces, then breaks the stream).
    """

    kind: str
    seconds: float = 0.0


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    at: float


@dataclass
class StandIn:
    host: str = "127.0.0.1"
    port: int = 0
    responder: Responder = field(default=lambda body: "コンテナは秒単位で起動します [1]。")
    piece_size: int = 4
    requests: list[Recorded] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def pieces(self, text: str) -> list[str]:
        return [text[i : i + self.piece_size] for i in range(0, len(text), self.piece_size)]

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path in ("/v1/chat/completions", "/api/chat")]


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"raw": raw.decode("utf-8", "replace")}
            state.requests.append(Recorded(self.path, body, time.monotonic()))
            fault = state.faults.popleft() if state.faults else None
            if fault and fault.kind == "slow":
                state.stopping.wait(fault.seconds)
            if fault and fault.kind == "500":
                return self._json(500, {"error": {"message": "internal error", "type": "server"}})
            if fault and fault.kind == "429":
                return self._json(
                    429,
                    {"error": {"message": "rate limited", "type": "rate_limit"}},
                    {"Retry-After": str(fault.seconds)},
                )
            text = state.responder(body)
            if self.path == "/api/chat":
                return self._ollama(body, text, fault)
            if self.path == "/v1/chat/completions":
                return self._openai(body, text, fault)
            return self._json(404, {"error": {"message": f"no route {self.path}"}})

        # --- OpenAI -------------------------------------------------------------------

        def _openai(self, body: dict[str, Any], text: str, fault: Fault | None) -> None:
            model = body.get("model", "standin")
            if not body.get("stream"):
                if fault and fault.kind == "malformed":
                    return self._raw(200, "application/json", b'{"id": "x", "choices": [')
                return self._json(200, {
                    "id": "chatcmpl-standin", "object": "chat.completion", "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            if fault and fault.kind == "malformed":
                self._send(b"data: {this is not json\n\n")
                self.close_connection = True
                return
            pieces = state.pieces(text)
            for i, piece in enumerate(pieces):
                if fault and fault.kind == "cut" and i == 3:
                    self._send(b"data: {broken\n\n")
                    self.close_connection = True
                    return
                delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                self._event({"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                             "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})  # fmt: skip
            last = {"index": 0, "delta": {}, "finish_reason": "stop"}
            self._event({"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0,
                         "model": model, "choices": [last]})  # fmt: skip
            self._send(b"data: [DONE]\n\n")
            self.close_connection = True

        def _event(self, data: dict[str, Any]) -> None:
            self._send(b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n")

        # --- Ollama -------------------------------------------------------------------

        def _ollama(self, body: dict[str, Any], text: str, fault: Fault | None) -> None:
            model = body.get("model", "standin")
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Connection", "close")
            self.end_headers()
            if fault and fault.kind == "malformed":
                self._send(b"{this is not json\n")
                self.close_connection = True
                return
            for piece in state.pieces(text) if body.get("stream", True) else [text]:
                self._line({"model": model, "created_at": "2025-01-01T00:00:00Z",
                            "message": {"role": "assistant", "content": piece}, "done": False})  # fmt: skip
            self._line({"model": model, "created_at": "2025-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": ""}, "done": True,
                        "done_reason": "stop", "total_duration": 1, "eval_count": 1,
                        "prompt_eval_count": 1})  # fmt: skip
            self.close_connection = True

        def _line(self, data: dict[str, Any]) -> None:
            self._send(json.dumps(data, ensure_ascii=False).encode() + b"\n")

        # --- plumbing -------------------------------------------------------------------

        def _send(self, data: bytes) -> None:
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            self._raw(status, "application/json", json.dumps(data).encode(), headers)

        def _raw(self, status: int, ctype: str, data: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self._send(data)

    return Handler


class StandInServer:
    """Runs a `StandIn` in a thread; use as a context manager."""

    def __init__(self, state: StandIn | None = None) -> None:
        self.state = state or StandIn()
        self._server = ThreadingHTTPServer((self.state.host, 0), _handler(self.state))
        self._server.daemon_threads = True
        self.state.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return ""


def system_text(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "system":
            return str(message.get("content"))
    return ""
