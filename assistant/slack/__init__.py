"""The Slack bot: a thin frontend that answers questions from Slack with the core `Assistant`.

`build_app` makes the Bolt app (mentions, DMs, thread follow-ups, 👍/👎 feedback);
`make_http_server` serves it over HTTP with a ``/healthz`` endpoint, and
`run_socket_mode` connects it through Socket Mode. ``assistant slack`` starts it.
Needs the ``slack`` extra (slack-bolt, slack-sdk).
"""

from __future__ import annotations

from assistant.slack.app import DEFAULT_API_URL, build_app, check_credentials, make_client

__all__ = ["DEFAULT_API_URL", "build_app", "check_credentials", "make_client"]
