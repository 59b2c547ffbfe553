"""OAuth for channels: `plume channels connect NAME` (PKCE and a loopback callback, like `gh auth login`),
the refresh of stored tokens, and OAuth 1.0a request signing for X's user keys.

The browser is sent to the network's authorize page with redirect_uri http://127.0.0.1:PORT/callback
(RFC 8252 §7.3: native apps listen on the loopback interface); Plume exchanges the code with the
PKCE verifier (RFC 7636, S256) and stores the tokens encrypted (publishing.tokens).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from oauthlib import oauth1

from core.errors import ConfigError
from publishing.publishers.base import SHORT, NotSent, Timeouts
from publishing.publishers.http import USER_AGENT, origin
from publishing.tokens import Token, Tokens

CALLBACK = "/callback"
WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class Provider:
    """A network's OAuth 2.0 endpoints and the scopes Plume asks for."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    expires_in: float | None = None  # when the token answer does not say (LinkedIn: 60 days)


def provider(kind: str, values: dict) -> Provider:
    """The endpoints for a channel; `auth_url` / `token_url` in the channel override them (tests, proxies)."""
    if kind == "x":
        # docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token: a token lives
        # 2 hours; offline.access adds a refresh token, which rotates on every refresh.
        found = Provider("https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token",
                         ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"))
    elif kind == "linkedin":
        # learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow: access tokens
        # last 60 days; refresh tokens (365 days) only for approved Marketing partners.
        page = str(values.get("author", "")).startswith("urn:li:organization:")
        scopes = ("w_organization_social", "r_organization_social", "rw_organization_admin") if page else \
            ("w_member_social", "openid", "profile")
        found = Provider("https://www.linkedin.com/oauth/v2/authorization",
                         "https://www.linkedin.com/oauth/v2/accessToken", scopes, expires_in=60 * 86400)
    elif kind == "mastodon":
        base = str(values["base_url"]).rstrip("/")  # docs.joinmastodon.org/methods/oauth (PKCE since 4.3)
        found = Provider(f"{base}/oauth/authorize", f"{base}/oauth/token",
                         ("read:accounts", "read:statuses", "write:statuses", "write:media"))
    else:
        raise ConfigError(f"`plume channels connect` works for x, linkedin and mastodon channels, not {kind}; "
                          "Bluesky uses an app password in the channels file")
    return Provider(values.get("auth_url") or found.authorize_url, values.get("token_url") or found.token_url,
                    tuple(str(values["scopes"]).split()) if values.get("scopes") else found.scopes, found.expires_in)


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def connect(settings, channel_name: str, *, open_url: Callable[[str], object] = webbrowser.open,
            say: Callable[[str], None] = print, wait: float = WAIT_SECONDS, db=None) -> str:
    """Get a channel's tokens through the network's own OAuth flow and store them; says what it stored."""
    from core.db import Database
    from publishing.channels import Channels

    own = db is None
    db = db or Database(settings.db_url).migrate()
    try:
        channels = Channels.load(settings, db=db)
        setup = channels.oauth_setup(channel_name)
        if not setup.get("client_id"):
            raise ConfigError(f"Channel {channel_name} needs a `client_id` (and `client_secret` for a confidential "
                              "app) from the network's developer portal before it can be connected")
        tokens = Tokens(db=db, secret_key=_key(settings))
        tokens.cipher  # noqa: B018 — refuse before the browser opens when the key is missing or bad
        found = provider(setup["kind"], setup)
        grant = authorize(found, client_id=setup["client_id"], client_secret=setup.get("client_secret"),
                          port=int(setup.get("redirect_port") or 0), open_url=open_url, say=say, wait=wait)
        token = tokens.save(channel=channel_name, network=setup["network"], access=grant["access_token"],
                            refresh=grant.get("refresh_token"),
                            expires_in=_float(grant.get("expires_in")) or found.expires_in,
                            refresh_expires_in=_float(grant.get("refresh_token_expires_in")),
                            extra={"scope": grant.get("scope", " ".join(found.scopes)), "token_url": found.token_url})
    finally:
        if own:
            db.dispose()
    lasts = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
    renews = ", renewed automatically with its refresh token" if token.refresh else ""
    return f"Channel {channel_name} is connected: its token {lasts}{renews}. Check it with `plume channels test {channel_name}`."


def authorize(found: Provider, *, client_id: str, client_secret: str | None, port: int = 0,
              open_url: Callable[[str], object], say: Callable[[str], None], wait: float = WAIT_SECONDS) -> dict:
    """The authorization-code flow with PKCE through a one-shot loopback server; returns the token answer."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(24)
    heard: dict[str, str] = {}
    done = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — the name http.server calls
            url = urlsplit(self.path)
            if url.path != CALLBACK:
                self.send_error(404)
                return
            heard.update({k: v[-1] for k, v in parse_qs(url.query).items()})
            body = ("Plume is connected. You can close this tab." if "code" in heard
                    else "Plume was not connected; see the terminal.").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

        def log_message(self, *args):
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Callback)
    except OSError as exc:
        raise ConfigError(f"Cannot listen on 127.0.0.1:{port} for the OAuth callback: {exc.strerror or exc}") from None
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        url = found.authorize_url + "?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(found.scopes), "state": state, "code_challenge": challenge,
            "code_challenge_method": "S256"})
        say(f"Opening the browser to authorize Plume. If it does not open, visit:\n  {url}")
        open_url(url)
        if not done.wait(wait):
            raise ConfigError(f"No answer from the browser within {int(wait)} s; run the command again")
    finally:
        server.shutdown()
        server.server_close()
    if heard.get("state") != state:
        raise ConfigError("The OAuth answer did not carry the state Plume sent; nothing was stored")
    if "code" not in heard:
        why = heard.get("error_description") or heard.get("error") or "no code"
        raise ConfigError(f"The network did not authorize Plume: {why}")
    return exchange(found.token_url, client_id=client_id, client_secret=client_secret, form={
        "grant_type": "authorization_code", "code": heard["code"], "redirect_uri": redirect_uri,
        "code_verifier": verifier})


def exchange(token_url: str, *, client_id: str, client_secret: str | None, form: dict,
             timeouts: Timeouts = SHORT) -> dict:
    """POST to a token endpoint (a confidential client authenticates with HTTP Basic, RFC 6749 §2.3.1)."""
    auth = (client_id, client_secret) if client_secret else None
    body = dict(form) if client_secret else {**form, "client_id": client_id}
    try:
        with httpx.Client(timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
                          headers={"User-Agent": USER_AGENT}) as client:
            response = client.post(token_url, data=body, auth=auth)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise NotSent(f"could not reach the token endpoint {origin(token_url)}; nothing was sent",
                      retryable=True) from exc
    except httpx.TransportError as exc:
        raise NotSent(f"the token endpoint {origin(token_url)} did not answer ({type(exc).__name__})",
                      retryable=True) from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code >= 500:
        raise NotSent(f"the token endpoint failed with {response.status_code}", retryable=True)
    if response.status_code >= 300 or "access_token" not in answer:
        why = answer.get("error_description") or answer.get("error") or response.reason_phrase
        raise NotSent(f"the token endpoint refused: {why}", retryable=False)
    return answer


def refresher(*, channel: str, token_url: str, client_id: str, client_secret: str | None,
              timeouts: Timeouts = SHORT) -> Callable[[Token], dict]:
    """Spend a refresh token (called under the token's row lock, see publishing.tokens)."""

    def refresh(token: Token) -> dict:
        try:
            return exchange(token_url, client_id=client_id, client_secret=client_secret, timeouts=timeouts,
                            form={"grant_type": "refresh_token", "refresh_token": token.refresh})
        except NotSent as failure:
            if failure.retryable:
                raise
            raise NotSent(f"the token of channel {channel} could not be renewed ({failure}); run "
                          f"`plume channels connect {channel}`", retryable=False) from failure

    return refresh


class OAuth1(httpx.Auth):
    """OAuth 1.0a user-context signing (HMAC-SHA1) for X's consumer keys and access token."""

    def __init__(self, *, consumer_key: str, consumer_secret: str, token: str, token_secret: str):
        self._client = oauth1.Client(consumer_key, client_secret=consumer_secret, resource_owner_key=token,
                                     resource_owner_secret=token_secret, signature_method=oauth1.SIGNATURE_HMAC)

    def auth_flow(self, request: httpx.Request):
        # Only a form body is part of the signature (RFC 5849 §3.4.1.3.1); JSON and multipart are not.
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        body = request.content.decode() if form else None
        _, headers, _ = self._client.sign(str(request.url), http_method=request.method, body=body,
                                          headers={"Content-Type": request.headers["content-type"]} if form else {})
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def _key(settings) -> str | None:
    key = getattr(settings, "plume_secret_key", None)
    return key.get_secret_value() if key is not None else None


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None

