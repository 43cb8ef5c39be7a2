"""A stand-in OpenID Connect identity provider for the browser tests of ``st.login``.

A real HTTP server on 127.0.0.1 (a free port, a thread of the test process) speaking
the parts of OIDC that Streamlit's sign-in (Authlib) uses, strictly enough that a
wrong request fails the way a real provider would refuse it:

- ``/.well-known/openid-configuration``: the discovery document (with S256 PKCE and an
  ``end_session_endpoint``, like Keycloak or Entra ID);
- ``/authorize``: checks the client, the redirect URI, the scope and the PKCE challenge,
  then shows a tiny sign-in form (e-mail address, name, whether the address is verified);
  submitting it redirects back with a one-time code and the ``state``;
- ``/token``: exchanges the code (client authentication by HTTP Basic or form, the same
  redirect URI, the PKCE verifier) for an access token and an RS256-signed ``id_token``
  with ``iss``, ``aud``, ``sub``, ``nonce``, ``iat``, ``exp``, ``at_hash`` and the user's claims;
- ``/jwks``: the public key (generated at start); ``/userinfo``: the claims for a bearer token;
- ``/logout``: RP-initiated logout, back to a registered ``post_logout_redirect_uri``.

Everything it did is kept in ``events`` so that a test can check what happened.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CODE_LIFETIME = 60
TOKEN_LIFETIME = 300


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    claims: dict[str, Any]
    expires: float


@dataclass
class StandinIdP:
    """``with StandinIdP(client_id, client_secret, [redirect_uri]) as idp: idp.issuer …``"""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> StandinIdP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the protocol ---------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "email",
                "email_verified",
                "name",
            ],
        }

    def check_authorize(self, query: dict[str, str]) -> str | None:
        """Why an authorization request is refused, or None."""
        if query.get("client_id") != self.client_id:
            return "unknown client_id"
        if query.get("redirect_uri") not in self.redirect_uris:
            return f"redirect_uri not registered: {query.get('redirect_uri')}"
        if query.get("response_type") != "code":
            return "response_type must be code"
        if "openid" not in query.get("scope", "").split():
            return "scope must contain openid"
        if not query.get("state"):
            return "state missing"
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return "only S256 code challenges"
        return None

    def grant(self, query: dict[str, str], email: str, name: str, verified: bool) -> str:
        """The code for a person who signed in, and the URL that brings them back to the client."""
        code = secrets.token_urlsafe(24)
        claims = {
            "sub": hashlib.sha256(email.lower().encode()).hexdigest()[:24],
            "email": email,
            "email_verified": verified,
            "name": name or email.split("@")[0],
        }
        with self._lock:
            self._grants[code] = _Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                nonce=query.get("nonce"),
                challenge=query.get("code_challenge"),
                claims=claims,
                expires=time.time() + CODE_LIFETIME,
            )
        self.events.append(("signed-in", email))
        self.events.append(("pkce", query.get("code_challenge_method", "none")))
        back = {"code": code, "state": query["state"]}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        return query["redirect_uri"] + separator + urllib.parse.urlencode(back)

    def exchange(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            user, _, password = decoded.partition(":")
            client_id, client_secret = urllib.parse.unquote(user), urllib.parse.unquote(password)
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code is used once
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(32)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "at_hash": _b64url(hashlib.sha256(access_token.encode()).digest()[:16]),
            **grant.claims,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        id_token = jwt.encode(header, claims, self.key)
        with self._lock:
            self._tokens[access_token] = grant.claims
        self.events.append(("token", grant.claims["email"]))
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": "openid email profile",
            "id_token": id_token,
        }

    def userinfo(self, authorization: str | None) -> tuple[int, dict[str, Any]]:
        token = (authorization or "").removeprefix("Bearer ")
        with self._lock:
            claims = self._tokens.get(token)
        return (200, claims) if claims else (401, {"error": "invalid_token"})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def logout(self, query: dict[str, str]) -> str | None:
        """Where to send the browser after RP-initiated logout (None: show a page)."""
        self.events.append(("logout", query.get("client_id", "")))
        target = query.get("post_logout_redirect_uri")
        return target if target in self.redirect_uris else None


_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in IdP</title></head>
<body><h1>Stand-in identity provider</h1>
<form method="post" action="/authorize">{hidden}
<label>E-mail <input name="email" type="email" required></label>
<label>Name <input name="name"></label>
<label><input name="email_verified" type="checkbox" checked> verified address</label>
<button type="submit">Sign in</button></form></body></html>"""


def _handler(idp: StandinIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: the events say what happened
            pass

        def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict[str, Any]) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def _redirect(self, url: str) -> None:
            self._send(302, b"", "text/plain", {"Location": url})

        def _refuse(self, reason: str) -> None:
            idp.events.append(("refused", reason))
            self._send(400, html.escape(reason).encode(), "text/plain; charset=utf-8")

        def _query(self) -> dict[str, str]:
            query = urllib.parse.urlsplit(self.path).query
            return dict(urllib.parse.parse_qsl(query))

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                self._json(200, idp.discovery())
            elif path == "/jwks":
                self._json(200, idp.jwks())
            elif path == "/userinfo":
                self._json(*idp.userinfo(self.headers.get("Authorization")))
            elif path == "/authorize":
                query = self._query()
                problem = idp.check_authorize(query)
                if problem:
                    return self._refuse(problem)
                hidden = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                    for k, v in query.items()
                )
                self._send(200, _FORM.format(hidden=hidden).encode(), "text/html; charset=utf-8")
            elif path == "/_events":  # for a test in another process
                self._json(200, {"events": idp.events})
            elif path == "/logout":
                target = idp.logout(self._query())
                if target:
                    self._redirect(target)
                else:
                    self._send(200, b"signed out", "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            form = self._form()
            if path == "/token":
                self._json(*idp.exchange(form, self.headers.get("Authorization")))
            elif path == "/authorize":
                query = {k: v for k, v in form.items() if k not in ("email", "name", "email_verified")}
                problem = idp.check_authorize(query)
                if problem or not form.get("email"):
                    return self._refuse(problem or "email missing")
                url = idp.grant(query, form["email"], form.get("name", ""), "email_verified" in form)
                self._redirect(url)
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


class StandinProcess:
    """The stand-in provider in a process of its own, so that a busy test process (threads
    left by earlier tests hold the GIL) cannot slow its answers past Authlib's timeouts.
    ``issuer``, ``metadata_url`` and ``events`` as on `StandinIdP`."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.client_id, self.client_secret, self.redirect_uris = client_id, client_secret, redirect_uris
        self.issuer = ""
        self._process: subprocess.Popen[str] | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def events(self) -> list[tuple[str, str]]:
        with self._opener.open(f"{self.issuer}/_events", timeout=10) as response:
            return [(str(a), str(b)) for a, b in json.load(response)["events"]]

    def __enter__(self) -> StandinProcess:
        command = [sys.executable, __file__, self.client_id, self.client_secret, *self.redirect_uris]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        self.issuer = self._process.stdout.readline().strip()
        if not self.issuer:
            raise RuntimeError(f"the stand-in provider did not start (exit {self._process.poll()})")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)


if __name__ == "__main__":  # python tests/oidc_standin.py CLIENT_ID CLIENT_SECRET REDIRECT_URI...
    provider = StandinIdP(sys.argv[1], sys.argv[2], sys.argv[3:])
    print(provider.issuer, flush=True)
    provider._server.serve_forever()
