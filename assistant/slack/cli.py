"""``assistant slack``: run the Slack bot in Socket Mode or over HTTP."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from assistant.errors import ServiceUnavailableError
from assistant.settings import Settings

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  # Socket Mode: no public URL; needs ASSISTANT_SLACK_BOT_TOKEN and ASSISTANT_SLACK_APP_TOKEN
  assistant slack
  # HTTP Events API behind your own HTTPS proxy; needs ASSISTANT_SLACK_BOT_TOKEN and
  # ASSISTANT_SLACK_SIGNING_SECRET; Slack posts to https://<your host>/slack/events
  assistant slack --mode http --host 0.0.0.0 --port 3000
  curl http://127.0.0.1:3000/healthz     # alive
  curl http://127.0.0.1:3000/readyz      # index loaded and the Slack token works

set-up (app manifest, scopes, tokens): docs/slack.md
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "slack",
        help="answer questions in Slack (Socket Mode or HTTP Events API)",
        description="Run the Slack bot: it answers @mentions, direct messages and follow-ups in its threads.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=("socket", "http"), help="connection mode (ASSISTANT_SLACK_MODE)")
    parser.add_argument("--host", help="HTTP mode: address to listen on (ASSISTANT_SLACK_HOST)")
    parser.add_argument("--port", type=int, help="HTTP mode: port to listen on (ASSISTANT_SLACK_PORT)")
    parser.set_defaults(handler=run)


def _secret(value: Any) -> str | None:
    """Settings may hold secrets as plain strings or pydantic ``SecretStr``."""
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value) or None


def run(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.slack.app import build_bot, check_credentials, make_assistant
    from assistant.slack.server import make_http_server, run_socket_mode

    mode = args.mode or settings.slack_mode
    bot_token = _secret(settings.slack_bot_token)
    signing_secret = _secret(settings.slack_signing_secret)
    app_token = _secret(settings.slack_app_token)
    check_credentials(mode, bot_token=bot_token, signing_secret=signing_secret, app_token=app_token)
    assistant = make_assistant(settings)
    try:
        assistant.info()  # fail now, with a hint, when there is no index yet
    except ServiceUnavailableError as exc:  # the service may come up after the bot; askers are told
        log.warning("%s", exc.message)
    bot = build_bot(assistant, bot_token=bot_token, signing_secret=signing_secret,
                    api_url=settings.slack_api_url, mode=mode)  # fmt: skip
    bot.start()
    grace = settings.slack_shutdown_grace
    if mode == "socket":
        assert app_token is not None
        run_socket_mode(bot, app_token, shutdown_grace=grace)
        return 0
    assert signing_secret is not None
    server = make_http_server(
        bot, signing_secret, args.host or settings.slack_host, args.port or settings.slack_port,
        max_body=settings.slack_max_body_bytes, shutdown_grace=grace,
    )  # fmt: skip
    log.warning("Slack bot listening on %s:%s/slack/events (health: /healthz, /readyz); Ctrl+C to stop",
                server.server.config.host, server.server.config.port)  # fmt: skip
    server.run()  # returns after SIGTERM/SIGINT, once running answers are finished
    return 0
