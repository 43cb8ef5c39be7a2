"""Who is using the page: viewer (the default) or admin, and whose conversations are theirs.

- With OIDC configured in ``.streamlit/secrets.toml`` (an ``[auth]`` section), people
  sign in with Streamlit's own `st.login`; those whose ``email`` claim is listed in
  ``ui_admin_emails`` (compared without case, and not marked ``email_verified: false``)
  are admins. Tested end to end against a stand-in provider (`tests/test_ui_oidc.py`).
- Otherwise a single admin password (``ui_admin_password``) turns a browser session
  into an admin session; without one nobody is admin.

Conversations belong to the signed-in e-mail address (or the token's subject when it has
no address) or, for anonymous viewers, to a random id kept in a cookie of the browser.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

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


def signed_in_with_oidc() -> bool:
    # st.user is a mapping; is_logged_in is only there once Streamlit has read an [auth] section
    return oidc_configured() and bool(st.user.get("is_logged_in", False))


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
    if signed_in_with_oidc():
        user = oidc_user(st.user.to_dict(), settings.ui_admin_emails)
        email = str(st.user.get("email") or "").strip().lower()
        if (
            email in _addresses(settings.ui_admin_emails)
            and not user.admin
            and not st.session_state.get("unverified_logged")
        ):
            st.session_state["unverified_logged"] = True  # once per session, not on every rerun
            log.warning("an admin's e-mail address signed in unverified by the provider: treated as a viewer")
        return user
    admin = bool(st.session_state.get("admin"))
    return User(f"browser:{browser_id()}", None, admin, admin)


def oidc_user(claims: Mapping[str, Any], admin_emails: list[str]) -> User:
    """The person an identity token (``st.user``) names.

    Conversations belong to the e-mail address (compared without case), or to the
    provider's subject when the token carries no address. Admin needs an address in
    ``admin_emails`` that the provider has not marked as unverified (``email_verified``
    false: anyone could have typed it).
    """
    email = str(claims.get("email") or "").strip().lower()
    subject = str(claims.get("sub") or "")
    issuer = str(claims.get("iss") or "")
    owner = f"user:{email}" if email else f"sub:{issuer}#{subject}"
    name = str(claims.get("name") or claims.get("email") or claims.get("preferred_username") or subject)
    verified = claims.get("email_verified", True) not in (False, "false")
    admin = bool(email) and verified and email in _addresses(admin_emails)
    return User(owner, name, admin, True)


def _addresses(emails: list[str]) -> set[str]:
    return {e.strip().lower() for e in emails if e.strip()}


def check_password(settings: Settings, password: str) -> bool:
    """True (and the session becomes admin) when ``password`` is the configured admin password."""
    expected = settings.ui_admin_password.get_secret_value() if settings.ui_admin_password else ""
    if not expected or not hmac.compare_digest(password.encode(), expected.encode()):
        log.warning("a wrong admin password was entered")
        return False
    st.session_state["admin"] = True
    return True


def sign_out() -> NoReturn:
    """End the admin role; with OIDC also clear the identity cookie (the browser is redirected)."""
    st.session_state["admin"] = False
    if signed_in_with_oidc():
        # st.logout() queues a redirect to /auth/logout, which clears the identity cookie and
        # signs out at the provider when it can. End the run with st.stop(), never st.rerun():
        # a rerun empties the browser queue and, when it had not been flushed yet, drops the
        # redirect (the page then looked signed out but a reload signed the person in again).
        st.logout()
        st.stop()
    st.rerun()
