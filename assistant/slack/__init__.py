"""The Slack bot: a thin frontend that answers questions from Slack with the core `Assistant`.

`build_bot` makes the bot (mentions, DMs, thread follow-ups, ``/ask``, App Home,
👍/👎 feedback); `assistant.slack.server` serves it over HTTP (Starlette under
uvicorn) or Socket Mode. ``assistant slack`` starts it. Needs the ``slack`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.slack.app import DEFAULT_API_URL, SlackBot, build_bot, check_credentials, make_assistant

__all__ = ["DEFAULT_API_URL", "SlackBot", "build_bot", "check_credentials", "make_assistant"]


def __getattr__(name: str) -> Any:
    """Import the bot only when it is used: ``assistant --help`` reads `assistant.slack.cli`,
    which must not pull in slack-bolt and the pipeline."""
    if name in __all__:
        from assistant.slack import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
