"""Fresh context Plume reads besides the brand kit: web pages and news feeds, fetched safely.

One small API, also for other parts of Plume (a link card, "repurpose this URL"):

    page = fetch("https://tidewren.coffee/guji", limits=Limits.from_settings(settings))
    page.title, page.text, page.published_at, page.link_card()
    items = read_feed("https://news.example/feed.xml", limits=limits)

Every failure is a `SourceUnavailable` whose message says why (timeout, too large, a content type
that is not HTML or PDF, a refused private address, an HTTP status…), safe to show on a card.

Server-side request forgery: a brief is typed by anyone in the workspace, so a link must never
reach Plume's own network. Every host is resolved first and every address it resolves to is
checked (loopback, RFC 1918, link-local, CGNAT, unique-local, multicast, unspecified, reserved, and
IPv4 addresses mapped or embedded in IPv6); redirects are followed here, a few at most, and each
hop is checked the same way. The connection then goes to the address that was checked, never to a
fresh lookup of the name (the Host header and TLS SNI still carry the name, so virtual hosts and
certificates work): a DNS answer that changes between the check and the connection (DNS
rebinding) cannot send the request elsewhere. `PLUME_FETCH_ALLOW_PRIVATE=true` lifts the address
check, for tests and for teams that want Plume to read their intranet.

What is fetched is data, never instructions: it is quoted to the model as sources and checked by
the claims check; nothing in it can approve, schedule or delete anything.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from core.domain import LinkCard, Record
from core.errors import PlumeError, ValidationFailed

log = logging.getLogger(__name__)

MAX_REDIRECTS = 4
MAX_TEXT = 20_000  # characters of a page kept: a product page or an article, not a book
USER_AGENT = "Plume/0.1 (reads pages linked in a brief; +https://github.com/)"
PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf"}
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/feed+json")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class SourceUnavailable(PlumeError):
    """A source could not be read; the message is the reason, shown as “source not read: …”."""


@dataclass(frozen=True)
class Limits:
    """How far a fetch may go: seconds in all, bytes read, and whether private addresses are allowed."""

    timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(timeout=settings.plume_fetch_timeout, max_bytes=int(settings.plume_fetch_max_mb * 1024 * 1024),
                   allow_private=settings.plume_fetch_allow_private)


@dataclass
class Page(Record):
    """A fetched page: its main text, and what a link preview shows (OpenGraph, else the page's own tags).

    Times are ISO 8601 strings, as everywhere in Plume's state: `fetched_at` in UTC, `published_at` the
    page's own date (a day, or a moment) when it states one, else None."""

    url: str
    final_url: str
    fetched_at: str
    kind: str  # "html" | "pdf"
    title: str = ""
    text: str = ""
    published_at: str | None = None
    description: str = ""
    image_url: str = ""
    site_name: str = ""

    def link_card(self) -> LinkCard:
        """A link preview of this page (core.domain.LinkCard); its thumbnail is not downloaded here."""
        return LinkCard(url=self.url, title=self.title, description=self.description,
                        note="" if not self.image_url else "thumbnail not downloaded")


@dataclass
class FeedItem(Record):
    """One entry of an RSS or Atom feed."""

    title: str
    link: str
    published_at: str | None  # ISO 8601 UTC, None when the feed gives no date
    summary: str = ""
    feed_title: str = ""
    feed_url: str = ""


@dataclass
class _Response:
    url: str
    content_type: str
    body: bytes
    headers: dict = field(default_factory=dict)


# --- the one way out -----------------------------------------------------------------------------

def fetch(url: str, *, limits: Limits = Limits(), now: datetime | None = None) -> Page:
    """Fetch a web page or a PDF and extract its main text and dates; SourceUnavailable says why not."""
    fetched_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    response = _get(url, limits=limits, accept=PAGE_TYPES)
    kind = PAGE_TYPES[response.content_type]
    if kind == "pdf":
        return _pdf_page(url, response, fetched_at)
    return _html_page(url, response, fetched_at)


def read_feed(url: str, *, limits: Limits = Limits()) -> list[FeedItem]:
    """The entries of an RSS or Atom feed, newest first; SourceUnavailable when it cannot be read."""
    import feedparser

    response = _get(url, limits=limits, accept={t: "feed" for t in FEED_TYPES}, lenient_xml=True)
    parsed = feedparser.parse(response.body, response_headers={"content-location": response.url})
    if parsed.bozo and not parsed.entries:
        raise SourceUnavailable(f"not a readable feed ({type(parsed.bozo_exception).__name__})")
    feed_title = _clean(parsed.feed.get("title", ""))
    items = []
    for entry in parsed.entries:
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*stamp[:6], tzinfo=UTC).isoformat() if stamp else None
        link = entry.get("link", "")
        items.append(FeedItem(title=_clean(entry.get("title", "")), link=urljoin(response.url, link) if link else "",
                              published_at=published, summary=_summary(entry), feed_title=feed_title,
                              feed_url=url))
    return sorted(items, key=lambda i: i.published_at or "", reverse=True)


def check_url(url: str) -> str:
    """A URL Plume may try to fetch (http or https, with a host), or ValidationFailed saying why not."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 — raises ValueError for a port that is not a number
    except ValueError:
        raise ValidationFailed(f"“{url[:80]}” is not a web address") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"“{url[:80]}” is not an http(s) address")
    if parts.username or parts.password:
        raise ValidationFailed("addresses with a user name or password are not fetched")
    return url.strip()


# --- SSRF: which addresses are refused -------------------------------------------------------------

def refused(address: str) -> str | None:
    """Why Plume will not connect to `address`, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.sixtofour) or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refused(str(embedded))
    for test, name in ((ip.is_unspecified, "unspecified"), (ip.is_loopback, "loopback"),
                       (ip.is_link_local, "link-local"), (ip.is_multicast, "multicast"),
                       (ip.is_private, "private"), (ip.is_reserved, "reserved")):
        if test:
            return f"{name} address {ip}"
    if not ip.is_global:  # CGNAT (100.64.0.0/10), benchmarking and the other special ranges
        return f"non-public address {ip}"
    return None


def _resolve(host: str, port: int, limits: Limits) -> str:
    """The address to connect to: every address the name resolves to must be public (or allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise SourceUnavailable(f"{host} could not be found ({exc.__class__.__name__})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise SourceUnavailable(f"{host} could not be found")
    if not limits.allow_private:
        # All of them: a name that also points inside (one public, one private record) is refused whole.
        for address in addresses:
            why = refused(address)
            if why:
                raise SourceUnavailable(f"refused: {host} points to a {why} (private addresses are never fetched)")
    return addresses[0]


def _pinned(url: str, address: str) -> tuple[str, str, dict]:
    """The URL with its host replaced by the checked address, the Host header and the TLS server name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = host if not parts.port else f"{host}:{parts.port}"
    if ":" in host and not host.startswith("["):  # an IPv6 literal in the original URL
        host_header = f"[{host}]" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, \
        {"sni_hostname": host} if parts.scheme == "https" else {}


# --- HTTP -----------------------------------------------------------------------------------------

def _get(url: str, *, limits: Limits, accept: dict[str, str] | tuple, lenient_xml: bool = False) -> _Response:
    try:
        current = check_url(url)
    except ValidationFailed as exc:
        raise SourceUnavailable(str(exc)) from None
    deadline = time.monotonic() + limits.timeout
    with httpx.Client(timeout=httpx.Timeout(limits.timeout), follow_redirects=False, trust_env=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = _resolve(parts.hostname or "", port, limits)
            target, host_header, extensions = _pinned(current, address)
            headers = {"Host": host_header, "User-Agent": USER_AGENT,
                       "Accept": ", ".join(accept) + ", */*;q=0.1"}
            try:
                with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                    if response.is_redirect and response.headers.get("location"):
                        current = check_url(urljoin(current, response.headers["location"]))
                        continue
                    if response.status_code >= 400:
                        raise SourceUnavailable(f"the site answered HTTP {response.status_code}")
                    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if kind not in accept and not (lenient_xml and kind.endswith("xml")):
                        what = "HTML or PDF" if "text/html" in accept else "an RSS or Atom feed"
                        raise SourceUnavailable(f"content type {kind or 'unknown'} is not {what}")
                    body = _read(response, limits, deadline)
                    return _Response(current, kind, body, dict(response.headers))
            except ValidationFailed as exc:  # a redirect to somewhere that is not a web address
                raise SourceUnavailable(f"redirected to {exc}") from None
            except httpx.TimeoutException:
                raise SourceUnavailable(f"timed out after {limits.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"could not connect ({type(exc).__name__})") from None
    raise SourceUnavailable(f"more than {MAX_REDIRECTS} redirects")


def _read(response: httpx.Response, limits: Limits, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise SourceUnavailable(f"too large ({int(declared) / 2**20:.1f} MB; the limit is {_mb(limits.max_bytes)})")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise SourceUnavailable(f"too large (over {_mb(limits.max_bytes)})")
        if time.monotonic() > deadline:  # a server that drips bytes never trips the per-read timeout
            raise SourceUnavailable(f"timed out after {limits.timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


# --- extraction ------------------------------------------------------------------------------------

def _html_page(url: str, response: _Response, fetched_at: str) -> Page:
    import trafilatura

    from knowledge.readers import decode_html

    html = decode_html(response.body)
    for name in ("trafilatura", "htmldate", "courlan"):  # they log every page they cannot parse; the reason is ours
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        found = trafilatura.bare_extraction(html, url=response.url, with_metadata=True, include_comments=False,
                                            include_tables=True, favor_precision=True)
    except Exception as exc:  # trafilatura and lxml raise many types on broken markup
        raise SourceUnavailable(f"the page could not be read ({type(exc).__name__})") from None
    data = found.as_dict() if found is not None and hasattr(found, "as_dict") else (found or {})
    text = _clean_text(data.get("text") or "")
    if not text:
        raise SourceUnavailable("no readable text on the page")
    return Page(url=url, final_url=response.url, fetched_at=fetched_at, kind="html",
                title=_clean(data.get("title") or ""), text=text[:MAX_TEXT],
                published_at=_day(data.get("date")), description=_clean(data.get("description") or ""),
                image_url=data.get("image") or "", site_name=_clean(data.get("sitename") or ""))


def _pdf_page(url: str, response: _Response, fetched_at: str) -> Page:
    from knowledge.readers import read_pdf

    try:
        document = read_pdf(io.BytesIO(response.body))
    except ValidationFailed as exc:
        raise SourceUnavailable(str(exc)) from None
    text = _clean_text(document.text)
    title = (text.splitlines() or [""])[0][:120]
    return Page(url=url, final_url=response.url, fetched_at=fetched_at, kind="pdf", title=_clean(title),
                text=text[:MAX_TEXT])


def _day(value: str | None) -> str | None:
    """trafilatura's date (YYYY-MM-DD), checked; anything else is no date."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _clean_text(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _summary(entry) -> str:
    from knowledge.readers import html_text

    raw = entry.get("summary") or ""
    return _clean(html_text(raw))[:2000] if raw else ""
