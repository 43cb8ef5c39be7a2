"""Who is using the page: viewer (the default) or admin, and whose conversations are theirs.

- With OIDC configured in ``.streamlit/secrets.toml`` (an ``[auth]`` section), people
  sign in with Streamlit's own `st.login`; those listed in ``ui_admin_emails`` are admins.
- Otherwise a single admin password (``ui_admin_password``) turns a browser session
  into an admin session; without one nobody is admin.

Conversations belong to the signed-in e-mail address or, for anonymous viewers, to a
random id kept in a cookie of the browser.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from dataclasses import dataclass

import streamlit as st

from assistant.settings import Settings

log = logging.getLogger(__name__)

BROWSER_COOKIE = "assistant_browser"
_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class User:
    owner: str  # the key conversations are stored under
    name: str | None  # shown in the sidebar; None for an anonymous viewer
    admin: bool
    signed_in: bool


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def browser_id() -> str:
    """The id of this browser: from its cookie, or a new one that `page_script` stores."""
    if "browser_id" not in st.session_state:
        cookie = st.context.cookies.get(BROWSER_COOKIE, "")
        valid = isinstance(cookie, str) and _BROWSER_ID.match(cookie)
        st.session_state["browser_id"] = cookie if valid else uuid.uuid4().hex
    return str(st.session_state["browser_id"])


def page_script(language: str) -> str:
    """A constant script (nothing from users in it): the page's language and the browser's id cookie."""
    ident = browser_id()
    assert _BROWSER_ID.match(ident) and language in ("ja", "en")
    return (
        "<script>"
        f"document.documentElement.lang = '{language}';"
        f"document.cookie = '{BROWSER_COOKIE}={ident}; path=/; max-age=31536000; SameSite=Lax';"
        "</script>"
    )


def current_user(settings: Settings) -> User:
    if oidc_configured() and st.user.is_logged_in:
        email = str(st.user.get("email") or "")
        name = str(st.user.get("name") or email)
        admins = {a.lower() for a in settings.ui_admin_emails}
        return User(f"user:{email.lower()}", name, email.lower() in admins, True)
    admin = bool(st.session_state.get("admin"))
    return User(f"browser:{browser_id()}", None, admin, admin)


def check_password(settings: Settings, password: str) -> bool:
    """True (and the session becomes admin) when ``password`` is the configured admin password."""
    expected = settings.ui_admin_password.get_secret_value() if settings.ui_admin_password else ""
    if not expected or not hmac.compare_digest(password.encode(), expected.encode()):
        log.warning("a wrong admin password was entered")
        return False
    st.session_state["admin"] = True
    return True


def sign_out() -> None:
    st.session_state["admin"] = False
    if oidc_configured() and st.user.is_logged_in:
        st.logout()
