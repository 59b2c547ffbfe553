"""A loopback fake of Slack's Web API (stdlib only): records every call, answers like Slack, fails on demand.

    with FakeSlack() as slack:
        settings = make_settings(slack_api_url=slack.api_url, ...)
        slack.fail("chat.postMessage", "not_in_channel")           # next call only
        slack.fail("chat.postMessage", status=429, retry_after=1)  # rate limited once
        ...
        slack.calls_to("chat.postMessage")  # [{"channel": ..., "blocks": [...], ...}]

Also answers response_url posts at `slack.response_url(name)` (recorded in `slack.responses`).
File uploads take Slack's three steps: files.getUploadURLExternal, the bytes to its upload_url (kept in
`slack.uploads` by file id), then files.completeUploadExternal, refused for a file never uploaded.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BOT_USER = "UPLUME"
BOT_ID = "BPLUME"
TEAM = "T0001"


@dataclass
class Failure:
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    drop: bool = False  # do the work, then reset the connection before answering


TRIGGER_LIFETIME = 3.0  # seconds a trigger_id may open a modal, as on Slack


@dataclass
class Call:
    method: str
    args: dict
    headers: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _args(self) -> dict:
        parts = urlsplit(self.path)
        args = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if raw:
            if "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw))
            else:
                args.update({k: v[0] for k, v in parse_qs(raw).items()})
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        fake = self.server.fake
        path = urlsplit(self.path).path
        if path.startswith("/upload/"):  # step 2 of a file upload: the raw bytes, to the URL step 1 gave
            length = int(self.headers.get("Content-Length") or 0)
            fake._record(Call("upload", {"file_id": path.removeprefix("/upload/")}))
            with fake._lock:
                fake.uploads[path.removeprefix("/upload/")] = self.rfile.read(length)
            self._answer(200, {"ok": True})
            return
        args = self._args()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path.startswith("/respond/"):
            fake._record(Call("response_url", {**args, "name": path.removeprefix("/respond/")}, headers))
            self._answer(200, {"ok": True})
            return
        method = path.removeprefix("/api/")
        fake._record(Call(method, args, headers))
        if fake.delay:
            time.sleep(fake.delay)
        failure = fake._next_failure(method)
        if failure and failure.drop:
            fake._reply(method, args)  # stored on Slack's side…
            self.close_connection = True
            self.connection.shutdown(2)  # …but the caller never hears back
            return
        if failure:
            extra = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            self._answer(failure.status, {"ok": False, "error": failure.error or "ratelimited"}, extra)
            return
        if method == "apps.connections.open":  # Socket Mode: the app-level token gets a WebSocket URL
            ok = fake.socket_url and headers.get("authorization") == f"Bearer {fake.app_token}"
            self._answer(200, {"ok": True, "url": fake.socket_url} if ok else {"ok": False, "error": "invalid_auth"})
            return
        if headers.get("authorization") != f"Bearer {fake.token}":
            self._answer(200, {"ok": False, "error": "invalid_auth"})
            return
        self._answer(200, fake._reply(method, args))


class FakeSlack:
    def __init__(self, *, token: str = "xoxb-test-token"):
        self.token = token
        self.app_token = "xapp-test-token"
        self.socket_url: str | None = None  # set by a test that runs a fake Socket Mode server
        self.delay = 0.0
        self.user_zones: dict[str, str] = {}
        self.groups: dict[str, list[str]] = {}
        self.uploads: dict[str, bytes] = {}  # file id → bytes sent to its upload URL
        self._calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.api_url = f"{self.url}/api/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="FakeSlack")
        self._thread.start()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ----------------------------------------------------------------------------

    def fail(self, method: str, error: str | None = None, *, times: int = 1, status: int = 200,
             retry_after: int | None = None, drop: bool = False) -> None:
        with self._lock:
            self._failures[method] += [Failure(error, status, retry_after, drop)] * times

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/respond/{name}"

    # --- records --------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[dict]:
        return [c.args for c in self.calls if c.method == method]

    @property
    def responses(self) -> list[dict]:
        return self.calls_to("response_url")

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} call(s) to {method}, got {len(self.calls_to(method))}: "
                             f"{[c.method for c in self.calls]}")

    # --- internals ----------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def _next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def _reply(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://plume-test.slack.com/", "team": "Plume Test", "user": "plume",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        if method in ("chat.postMessage", "chat.update"):
            problem = invalid_blocks(args.get("blocks") or [])
            if problem:
                return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
        if method == "views.open" and _trigger_age(args.get("trigger_id", "")) > TRIGGER_LIFETIME:
            return {"ok": False, "error": "expired_trigger_id"}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {**(args.get("view") or {}), "id": f"V{next(self._views):05d}"}}
        if method == "users.info":
            user = args.get("user", "")
            return {"ok": True, "user": {"id": user, "tz": self.user_zones.get(user, "Europe/Paris")}}
        if method == "usergroups.users.list":
            group = args.get("usergroup", "")
            if group not in self.groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.groups[group]}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            listed = json.loads(args["files"]) if isinstance(args.get("files"), str) else args.get("files") or []
            missing = [f["id"] for f in listed if f["id"] not in self.uploads]
            if missing:
                return {"ok": False, "error": "file_upload_not_found"}
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}
        return {"ok": True}


def _trigger_age(trigger_id: str) -> float:
    """Test triggers are `trigger-<time_ns>`; anything else counts as fresh."""
    stamp = trigger_id.removeprefix("trigger-")
    return (time.time_ns() - int(stamp)) / 1e9 if stamp.isdigit() else 0.0


def invalid_blocks(blocks: list[dict]) -> str | None:
    """The checks Slack applies that matter to Plume: block count and text lengths."""
    if len(blocks) > 50:
        return "no more than 50 items allowed [json-pointer:/blocks]"
    for i, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text", "")
        if len(text) > 3000:
            return f"must be less than 3001 characters [json-pointer:/blocks/{i}/text]"
    return None
