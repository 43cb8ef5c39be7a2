"""A small threaded HTTP server for the Bolt app: ``POST /slack/events`` and ``GET /healthz``.

Standard library only. Each request gets its own thread, and Bolt acknowledges
before answering, so Slack's 3-second limit holds under bursts of events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App, BoltRequest

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of events must not be refused at the socket

    def __init__(self, address: tuple[str, int], app: App, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.events_path = path
        self.started = time.time()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        if self.path.partition("?")[0] == HEALTH_PATH:
            body = {"ok": True, "uptime_seconds": round(time.time() - self.server.started, 1)}
            self._send(200, {"content-type": ["application/json"]}, json.dumps(body))
        else:
            self._send(404, {"content-type": ["text/plain; charset=utf-8"]}, "Not Found")

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path != self.server.events_path:
            self._send(404, {"content-type": ["text/plain; charset=utf-8"]}, "Not Found")
            return
        headers: dict[str, str | Sequence[str]] = {key.lower(): value for key, value in self.headers.items()}
        response = self.server.app.dispatch(
            BoltRequest(body=raw.decode("utf-8"), query=query, headers=headers)
        )
        self._send(response.status, response.headers, response.body)

    def _send(self, status: int, headers: dict[str, Any], body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        for key, values in headers.items():
            if key.lower() in ("content-length", "connection"):
                continue
            for value in values if isinstance(values, list | tuple) else [values]:
                self.send_header(key, str(value))
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_http_server(
    app: App, host: str = "127.0.0.1", port: int = 3000, path: str = EVENTS_PATH
) -> SlackHTTPServer:
    """Bind the server (port 0 picks a free one); call ``serve_forever`` or ``start_in_thread``."""
    return SlackHTTPServer((host, port), app, path)
