"""Build the Bolt app from tokens and an `Assistant`.

The app acknowledges every request at once and answers afterwards in Bolt's
listener thread pool (``process_before_response=False``). Its `WebClient` retries
429s after ``Retry-After``, 5xx answers and dropped connections.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from assistant.slack.dedupe import make_dedupe_middleware
from assistant.slack.handlers import SLACK_ERRORS, Responder, register
from assistant.slack.state import SlackState

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MODES = ("socket", "http")


def check_credentials(
    mode: str,
    *,
    bot_token: str | None,
    signing_secret: str | None = None,
    app_token: str | None = None,
    need_app_token: bool = True,
) -> None:
    """Raise a `ConfigError` naming every setting the chosen mode still needs."""
    if mode not in MODES:
        raise ConfigError(f"Unknown Slack mode {mode!r}.", f"Use one of: {', '.join(MODES)}.")
    needed = {"ASSISTANT_SLACK_BOT_TOKEN": (bot_token, "the Bot User OAuth Token, xoxb-…")}
    if mode == "http":
        needed["ASSISTANT_SLACK_SIGNING_SECRET"] = (signing_secret, "Basic Information > Signing Secret")
    elif need_app_token:
        needed["ASSISTANT_SLACK_APP_TOKEN"] = (app_token, "an app-level token with connections:write, xapp-…")
    missing = [f"{name} ({what})" for name, (value, what) in needed.items() if not value]
    if missing:
        raise ConfigError(
            f"The Slack bot in {mode} mode needs: {'; '.join(missing)}.",
            "Set them in the environment or .env (see docs/slack.md for where Slack shows them).",
        )
    if mode == "socket" and app_token and not app_token.startswith("xapp-"):
        raise ConfigError(
            "ASSISTANT_SLACK_APP_TOKEN is not an app-level token (it should start with xapp-).",
            "Create one under Basic Information > App-Level Tokens with the connections:write scope.",
        )


def make_client(bot_token: str, api_url: str = DEFAULT_API_URL, *, max_retries: int = 2) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries 5xx answers and connection errors."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
    handlers: list[RetryHandler] = [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
        ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
    ]
    return WebClient(token=bot_token, base_url=api_url, timeout=30, retry_handlers=handlers)


def build_app(
    assistant: Assistant,
    *,
    bot_token: str | None,
    signing_secret: str | None = None,
    api_url: str = DEFAULT_API_URL,
    mode: str = "http",
    workers: int = 5,
    update_interval: float = 1.0,
    max_retries: int = 2,
    state_path: Path | None = None,
) -> App:
    """The Bolt app; calls ``auth.test`` once to learn the bot's own user and bot ids."""
    check_credentials(mode, bot_token=bot_token, signing_secret=signing_secret, need_app_token=False)
    assert bot_token is not None
    settings = assistant.settings
    state = SlackState(state_path or settings.data_dir / "slack" / "state.sqlite3")
    try:
        app = App(
            name="assistant",
            client=make_client(bot_token, api_url, max_retries=max_retries),
            signing_secret=signing_secret or "",
            request_verification_enabled=mode == "http",
            process_before_response=False,
            listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-answer"),
            logger=logging.getLogger("assistant.slack.bolt"),
        )
    except BoltError as exc:
        raise ConfigError(
            f"Slack did not accept the bot token: {exc}",
            "Check ASSISTANT_SLACK_BOT_TOKEN (Bot User OAuth Token, xoxb-…) and that the app is installed.",
        ) from None
    except SLACK_ERRORS as exc:
        raise ConfigError(
            f"Cannot reach the Slack Web API at {api_url}: {exc}",
            "Check the network, or ASSISTANT_SLACK_API_URL if you changed it.",
        ) from None
    assistant.warm_up()  # load the models once, before threads race to
    app.use(make_dedupe_middleware(state))
    register(app, Responder(assistant, state, settings.feedback_path, update_interval=update_interval))
    return app


def run_socket_mode(app: App, app_token: str) -> None:
    """Connect through Socket Mode (no public URL needed) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.warning("Slack bot connected in Socket Mode; press Ctrl+C to stop")
    SocketModeHandler(app, app_token).start()
