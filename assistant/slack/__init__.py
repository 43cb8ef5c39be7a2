"""The Slack bot: a thin frontend that answers questions from Slack with the core `Assistant`.

`build_bot` makes the bot (mentions, DMs, thread follow-ups, ``/ask``, App Home,
👍/👎 feedback); `assistant.slack.server` serves it over HTTP (Starlette under
uvicorn) or Socket Mode. ``assistant slack`` starts it. Needs the ``slack`` extra.
"""

from __future__ import annotations

from assistant.slack.app import DEFAULT_API_URL, SlackBot, build_bot, check_credentials, make_assistant

__all__ = ["DEFAULT_API_URL", "SlackBot", "build_bot", "check_credentials", "make_assistant"]
