"""Serve the bot: HTTP Events API on Starlette under uvicorn, or Socket Mode.

HTTP: ``POST /slack/events`` (events, button clicks, the ``/ask`` command),
``GET``/``HEAD /healthz`` (alive) and ``/readyz`` (index loaded, Slack token works).
Each request is checked before Bolt sees it: a body over the size limit gets 413,
a missing, non-numeric or stale timestamp or a wrong signature 401, and a signed
body that cannot be parsed 400; none of them reaches a listener. Bolt's dispatch
runs in Starlette's thread pool, so the event loop never waits for it.

Both modes stop gracefully on SIGTERM/SIGINT: no new requests, running answers
finish within the grace period, the rest are answered at the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from slack_bolt import BoltRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from assistant.slack.app import SlackBot

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_SKEW = 5 * 60  # Slack: reject requests whose timestamp is more than 5 minutes off


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _valid_signature(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of ``v0:{timestamp}:{body}``, over the raw bytes."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + digest.hexdigest(), signature)


def make_asgi_app(
    bot: SlackBot,
    signing_secret: str,
    *,
    path: str = EVENTS_PATH,
    max_body: int = 1_000_000,
    shutdown_grace: float = 20.0,
) -> Starlette:
    started = time.time()

    async def events(request: Request) -> Response:
        try:
            raw = await _read_body(request, max_body)
        except _TooLarge:
            return PlainTextResponse(f"Request body over {max_body} bytes", status_code=413)
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW:
            return PlainTextResponse("Missing, malformed or stale timestamp", status_code=401)
        if not signature or not _valid_signature(signing_secret, raw, timestamp, signature):
            return PlainTextResponse("Invalid signature", status_code=401)
        try:
            headers: dict[str, str | Sequence[str]] = dict(request.headers.items())
            bolt_request = BoltRequest(body=raw.decode("utf-8"), query=request.url.query, headers=headers)
        except ValueError as exc:  # also UnicodeDecodeError and json.JSONDecodeError
            log.info("malformed signed request: %s", exc)
            return PlainTextResponse("Malformed request body", status_code=400)
        if not isinstance(bolt_request.body, dict) or not bolt_request.body:
            return PlainTextResponse("Malformed request body", status_code=400)
        response = await run_in_threadpool(bot.app.dispatch, bolt_request)
        return Response(response.body, status_code=response.status, headers=response.first_headers())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "uptime_seconds": round(time.time() - started, 1)})

    async def readyz(request: Request) -> Response:
        status = await run_in_threadpool(bot.readiness)
        return JSONResponse(status, status_code=200 if status["ok"] else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        log.warning("stopping: finishing running answers (up to %.0f s)", shutdown_grace)
        await run_in_threadpool(bot.stop, shutdown_grace)

    return Starlette(
        routes=[
            Route(path, events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )


class SlackServer:
    """uvicorn serving the ASGI app; `run` in the main thread (handles SIGTERM/SIGINT),
    or `start_in_thread` / `stop` (tests, benchmarks)."""

    def __init__(self, asgi: Starlette, host: str = "127.0.0.1", port: int = 3000) -> None:
        import uvicorn

        config = uvicorn.Config(
            asgi, host=host, port=port, log_level="warning", lifespan="on",
            backlog=256, timeout_graceful_shutdown=30, access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    @property
    def url(self) -> str:
        return f"http://{self.server.config.host}:{self.port}"

    def run(self) -> None:
        self.server.run()

    def start_in_thread(self, timeout: float = 15.0) -> SlackServer:
        self.thread = threading.Thread(target=self.server.run, name="slack-uvicorn", daemon=True)
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("the Slack HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(30)


def make_http_server(
    bot: SlackBot, signing_secret: str, host: str = "127.0.0.1", port: int = 3000, **options: Any
) -> SlackServer:
    return SlackServer(make_asgi_app(bot, signing_secret, **options), host, port)


def run_socket_mode(bot: SlackBot, app_token: str, *, shutdown_grace: float = 20.0) -> None:
    """Connect through Socket Mode (no public URL needed) until SIGTERM/SIGINT."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bot.app, app_token)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        handler.connect()
        log.warning("Slack bot connected in Socket Mode; press Ctrl+C to stop")
        stop.wait()
    finally:
        log.warning("stopping: finishing running answers (up to %.0f s)", shutdown_grace)
        handler.close()
        bot.stop(shutdown_grace)
        for sig, old in previous.items():
            signal.signal(sig, old)
