"""Build the bot from tokens and an `Assistant`: the Bolt app, whose listeners only
acknowledge and queue, the answer queue with its own workers, the outbox that
delivers under Slack's rate limits, and the state store.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from assistant.door import AssistantLike, open_assistant
from assistant.errors import ConfigError, ServiceUnavailableError
from assistant.settings import SLACK_API_URL, Settings
from assistant.slack.answering import AnswerService, BotConfig
from assistant.slack.dedupe import make_dedupe_middleware
from assistant.slack.handlers import Listeners, register
from assistant.slack.outbox import Outbox
from assistant.slack.pacing import Pacer
from assistant.slack.state import SlackState
from assistant.slack.workers import AnswerQueue

log = logging.getLogger(__name__)

DEFAULT_API_URL = SLACK_API_URL  # the settings default; tests point it at a local stand-in
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


def make_assistant(settings: Settings) -> AssistantLike:
    """The one place the Slack frontend gets its assistant: a client of ``assistant serve``
    when ``ASSISTANT_SERVER_URL`` is set (nothing is loaded here), embedded otherwise."""
    return open_assistant(settings)


def warm_up(assistant: AssistantLike) -> None:
    """Load the models before the first question, not inside it; through the service, wait for
    it to be ready. A service that is down is no reason not to start: each question is told so."""
    try:
        assistant.warm_up()
    except ServiceUnavailableError as exc:
        log.warning("%s The bot starts anyway and tells each asker until the service is back.", exc.message)


def make_client(bot_token: str, api_url: str = DEFAULT_API_URL) -> WebClient:
    """A WebClient without its own retries: the outbox retries (until a deadline,
    after Retry-After, without holding a thread)."""
    return WebClient(token=bot_token, base_url=api_url, timeout=30, retry_handlers=[])


def bot_config(settings: Settings) -> BotConfig:
    return BotConfig(
        thread_window=settings.slack_thread_window_minutes * 60,
        delivery_deadline=settings.slack_delivery_deadline,
        recover_max_age=settings.slack_recover_max_age_minutes * 60,
        allowed_teams=list(settings.slack_allowed_teams),
        allowed_channels=list(settings.slack_allowed_channels),
        ask_visibility=settings.slack_ask_visibility,
    )


class SlackBot:
    """The Bolt app plus what answers behind it: the answer queue, the outbox and the state."""

    def __init__(self, app: App, service: AnswerService) -> None:
        self.app = app
        self.service = service
        self._auth_checked: tuple[float, bool, str] = (time.monotonic(), True, "")

    def start(self) -> int:
        """Prune old texts and pick up what a previous run left unanswered."""
        self.service.state.prune(force=True)
        return self.service.recover()

    def stop(self, grace: float) -> None:
        """Take nothing new; finish running answers and their delivery within ``grace``.
        Unfinished questions stay pending in the state store for the next start."""
        started = time.monotonic()
        left = self.service.queue.stop(grace)
        remaining = max(0.5, grace - (time.monotonic() - started))
        if not self.service.outbox.drain(remaining):
            log.warning("%d delivery(ies) unfinished at shutdown", self.service.outbox.pending())
        self.service.outbox.close()
        if left:
            log.warning("%d question(s) left for the next start", left)

    def readiness(self) -> dict[str, Any]:
        """Index loaded and Slack reachable with this token (``auth.test``, checked once a minute)."""
        index = self.service.index_status()
        checked_at, ok, error = self._auth_checked
        if time.monotonic() - checked_at > 60:
            try:
                self.service.client.auth_test()
                ok, error = True, ""
            except (SlackClientError, OSError) as exc:
                ok, error = False, str(exc)
            self._auth_checked = (time.monotonic(), ok, error)
        slack = {"ok": ok, **({"error": error} if error else {})}
        return {"ok": bool(index.get("ok")) and ok, "index": index, "slack": slack,
                "queue": {"waiting": self.service.queue.waiting, "busy": self.service.queue.busy},
                "outbox": self.service.outbox.pending()}  # fmt: skip


def build_bot(
    assistant: AssistantLike,
    *,
    bot_token: str | None,
    signing_secret: str | None = None,
    api_url: str = DEFAULT_API_URL,
    mode: str = "http",
    state_path: Path | None = None,
) -> SlackBot:
    """The bot; calls ``auth.test`` once to learn its own user, bot and workspace ids."""
    check_credentials(mode, bot_token=bot_token, signing_secret=signing_secret, need_app_token=False)
    assert bot_token is not None
    settings = assistant.settings
    client = make_client(bot_token, api_url)
    try:
        identity = dict(client.auth_test().validate().data)
    except SlackApiError as exc:
        raise ConfigError(
            f"Slack did not accept the bot token: {exc.response.get('error')}",
            "Check ASSISTANT_SLACK_BOT_TOKEN (Bot User OAuth Token, xoxb-…) and that the app is installed.",
        ) from None
    except (SlackClientError, OSError) as exc:
        raise ConfigError(
            f"Cannot reach the Slack Web API at {api_url}: {exc}",
            "Check the network, or ASSISTANT_SLACK_API_URL if you changed it.",
        ) from None
    app = App(
        name="assistant",
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=mode == "http",
        token_verification_enabled=False,  # done above, with a clear error
        process_before_response=False,
        # Listeners only acknowledge and queue; answers run in the AnswerQueue's own workers.
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-listener"),
        logger=logging.getLogger("assistant.slack.bolt"),
    )
    state = SlackState(
        state_path or settings.data_dir / "slack" / "state.sqlite3",
        retention_days=settings.slack_retention_days,
    )
    warm_up(assistant)
    service = AnswerService(
        assistant, client, state,
        AnswerQueue(settings.slack_workers, settings.slack_queue_size),
        Outbox(client, Pacer()), bot_config(settings), identity,
    )  # fmt: skip
    app.use(make_dedupe_middleware(state))
    register(app, Listeners(service))
    return SlackBot(app, service)
