"""A loopback web site (stdlib only) serving pages, PDFs and feeds that tests set up by path.

    with FakeWeb() as web:
        web.page("/guji", "<html>…</html>")                        # text/html
        web.route("/feed.xml", rss, content_type="application/rss+xml")
        web.redirect("/old", "/guji")
        web.route("/slow", b"x" * 100, drip=0.5)                   # one byte every 0.5 s
        web.url("/guji")  # http://127.0.0.1:<port>/guji
        web.hits["/guji"]  # how many times it was asked for
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    drip: float = 0.0  # seconds between bytes: a server that never quite times out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    web: FakeWeb


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):
        pass

    def do_GET(self):
        web = self.server.web
        path = urlsplit(self.path).path
        with web.lock:
            web.hits[path] += 1
            web.hosts.append(self.headers.get("Host", ""))
            route = web.routes.get(path)
        if route is None:
            route = Route(b"<html><body>not here</body></html>", status=404)
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", route.headers.get("Content-Length", str(len(route.body))))
        self.end_headers()
        try:
            if route.drip:
                for byte in route.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if web.closing.wait(route.drip):
                        return
            else:
                self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class FakeWeb:
    """`name`: the host name its URLs use (a brief's link needs a real domain ending); `resolving(monkeypatch)`
    makes that name resolve to the loopback address, as a DNS record pointing inside would."""

    def __init__(self, host: str = "127.0.0.1", *, name: str | None = None):
        self.routes: dict[str, Route] = {}
        self.hits: Counter = Counter()
        self.hosts: list[str] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self._server = _Server((host, 0), _Handler)
        self._server.web = self
        self.port = self._server.server_address[1]
        self.host = host
        self.base = f"http://{name or host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="FakeWeb")
        self._thread.start()

    def __enter__(self) -> FakeWeb:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def resolving(self, monkeypatch, *names: str) -> None:
        """Make `names` (default: this site's) resolve to where this site listens, for this test only."""
        real = socket.getaddrinfo
        wanted = set(names) or {urlsplit(self.base).hostname}

        def lookup(host, port, *args, **kwargs):
            return real(self.host if host in wanted else host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)

    def route(self, path: str, body: bytes | str, *, content_type: str = "text/html; charset=utf-8",
              status: int = 200, headers: dict | None = None, drip: float = 0.0) -> str:
        data = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.routes[path] = Route(data, content_type, status, dict(headers or {}), drip)
        return self.url(path)

    def page(self, path: str, html: str, **kwargs) -> str:
        return self.route(path, html, **kwargs)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.route(path, b"", status=status, headers={"Location": location})


def article(title: str, body: str, *, published: str | None = None, description: str = "",
            site: str = "Tidewren Roasters", image: str = "") -> str:
    """An article page with OpenGraph tags, a menu and a footer around its main text."""
    meta = [f'<meta property="og:title" content="{title}">', f'<meta property="og:site_name" content="{site}">']
    if description:
        meta.append(f'<meta property="og:description" content="{description}">')
    if image:
        meta.append(f'<meta property="og:image" content="{image}">')
    if published:
        meta.append(f'<meta property="article:published_time" content="{published}">')
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title} — {site}</title>"
            f"{''.join(meta)}</head><body><nav><a href=/>Home</a> <a href=/shop>Shop</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>© {site}</footer></body></html>")


def rss(items: list[dict], *, title: str = "Coffee News") -> str:
    """An RSS 2.0 feed; each item {title, link, description, published: datetime}."""
    entries = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link><description>{i.get('description', '')}"
        f"</description>"
        + (f"<pubDate>{format_datetime(i['published'].astimezone(UTC))}</pubDate>" if i.get("published") else "")
        + "</item>" for i in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://news.example</link><description>News</description>{entries}</channel></rss>")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
