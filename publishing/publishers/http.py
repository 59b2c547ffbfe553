"""One HTTP call to a network, its failures sorted into "certainly not sent" and "maybe sent"."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from publishing.publishers.base import NotSent, OutcomeUnknown, Timeouts, refused, retry_after

USER_AGENT = "Plume/0.1"


def client(timeouts: Timeouts) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
                        headers={"User-Agent": USER_AGENT}, follow_redirects=False)


def send(http: httpx.Client, method: str, url: str, *, network: str, channel: str,
         idempotent: bool, error_text: Callable[[httpx.Response], str], env: str | None = None,
         credentials_refused: Callable[[httpx.Response], bool] | None = None,
         renew: str | None = None, wait: Callable[[httpx.Response], tuple[float | None, str]] | None = None,
         credential: str = "token", **kwargs) -> httpx.Response:
    """Send once and return a 2xx response; anything else becomes NotSent or OutcomeUnknown.

    `idempotent` says whether the network would refuse a second copy of this request (an
    idempotency key, a fixed record key, a read): only then is a 5xx safe to retry. `wait` reads a
    429 the network's own way: (seconds to wait, what limit it is).
    """
    try:
        response = http.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise NotSent(f"could not reach {network} at {origin(url)} ({type(exc).__name__}); "
                      "nothing was sent", retryable=True) from exc
    except httpx.TransportError as exc:
        what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "dropped the connection"
        raise OutcomeUnknown(f"{network} {what} after the request was sent ({type(exc).__name__}); "
                             "the post may exist") from exc
    status = response.status_code
    if status < 300:
        return response
    detail = error_text(response) or response.reason_phrase
    if status == 429:
        seconds, limit = wait(response) if wait else (retry_after(response.headers), "rate limit")
        raise NotSent(f"{network} is rate-limiting channel {channel} ({limit}: {detail})", retryable=True,
                      retry_after=seconds, waiting=True)
    if (credentials_refused or _auth_status)(response):
        failure = refused(network, channel, detail, env=env, renew=renew, credential=credential)
        failure.status = status
        raise failure
    if status >= 500:
        if idempotent:
            raise NotSent(f"{network} failed with {status} ({detail}); safe to retry", retryable=True,
                          retry_after=retry_after(response.headers))
        raise OutcomeUnknown(f"{network} failed with {status} ({detail}) after receiving the post; "
                             "it may have been published")
    failure = NotSent(f"{network} refused the post: {detail}", retryable=False)
    failure.status = status
    raise failure


def _auth_status(response: httpx.Response) -> bool:
    return response.status_code in (401, 403)


def json_field(response: httpx.Response, *paths: tuple[str, ...]) -> str:
    """The first non-empty string found at one of `paths` in a JSON error body, else ''."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    for path in paths:
        value = body
        for part in path:
            if isinstance(value, list):
                value = value[0] if value else None
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return ""


def origin(url: str) -> str:
    """Scheme, host and port only: webhook paths and user info often carry a token."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
