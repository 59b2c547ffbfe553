"""Serving the Slack app: a small threaded HTTP server (POST /slack/events, GET /healthz) or Socket Mode."""

from __future__ import annotations

import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt.request import BoltRequest

from bot.slack.app import SlackApp, build

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack payloads are far smaller; anything bigger is not Slack


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the stdlib's backlog of 5 resets connections under a burst of Slack retries

    def __init__(self, address, app: SlackApp, *, events: bool = True):
        self.app, self.events = app, events
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, values in (headers or {}).items():
            for value in values if isinstance(values, list | tuple) else [values]:
                if name.lower() != "content-length":
                    self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if urlsplit(self.path).path == "/healthz":
            ready = self.server.app.ready
            body = json.dumps({"ok": ready, "mode": "socket" if self.server.app.socket_mode else "http"}).encode()
            self._send(200 if ready else 503, body, {"Content-Type": "application/json"})
        else:
            self._send(404, b"not found")

    def do_POST(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if parts.path != EVENTS_PATH or not self.server.events:
            self._send(404, b"not found")
            return
        if length > MAX_BODY:
            self._send(413, b"too large")
            return
        raw = self.rfile.read(length)
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        # Bolt verifies the signature over exactly these bytes, as Slack sent them.
        try:
            request = BoltRequest(body=raw.decode("utf-8", errors="replace"), query=parts.query, headers=headers)
        except ValueError:  # not JSON or a form: refuse without telling a forger more than Slack would
            self._send(400 if self.server.app.verifies(raw, headers) else 401, b"")
            return
        response = self.server.app.bolt.dispatch(request)
        body = (response.body or "").encode("utf-8") if isinstance(response.body, str) else response.body
        self._send(response.status, body, response.headers)


def make_server(app: SlackApp, *, host: str = "0.0.0.0", port: int = 3000, events: bool = True) -> SlackHTTPServer:
    return SlackHTTPServer((host, port), app, events=events)


def serve(plume) -> int:
    """`plume serve`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT. Blocks until Ctrl-C."""
    settings = plume.settings
    app = build(plume)
    plume.start()  # after build(): the app now hears what the scheduler publishes, also on start-up
    # In Socket Mode the HTTP server only answers /healthz: unsigned POSTs must never reach Bolt.
    server = make_server(app, port=settings.port, events=not app.socket_mode)
    try:
        if app.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            threading.Thread(target=server.serve_forever, name="plume-healthz", daemon=True).start()
            handler = SocketModeHandler(app.bolt, settings.slack_app_token.get_secret_value(), web_client=app.api.client)
            print(f"Plume is connected to Slack (Socket Mode); health at http://0.0.0.0:{settings.port}/healthz",
                  file=sys.stderr)
            handler.start()
        else:
            print(f"Plume is listening on http://0.0.0.0:{settings.port}{EVENTS_PATH} (health: /healthz)",
                  file=sys.stderr)
            server.serve_forever()
    finally:
        server.shutdown()
        server.server_close()
        app.close()
    return 0
