"""A loopback fake of an OpenAI-compatible HTTP server (stdlib only).

Tests and benchmarks point the *real* ``langchain_openai.ChatOpenAI`` (and thus
the real ``openai`` client) at it, so the whole HTTP path is exercised::

    with FakeOpenAI(auto_tool({"Plan": lambda req: {"steps": ["a"]}})) as fake:
        llm = ChatOpenAI(model="fake-model", base_url=fake.base_url,
                         api_key="test", max_retries=0)
        plan = llm.with_structured_output(Plan, method="function_calling").invoke("hi")
        assert fake.calls == 1 and fake.requests[0]["tools"]

A *script* decides every chat-completion answer: ``script(request) -> Reply``
where ``request`` is the parsed JSON body. Replies:

* ``Text(content)``              -- a plain assistant message.
* ``ToolCall(name, arguments)``  -- one ``tool_calls`` entry; ``arguments`` may
  be a dict (JSON-encoded) or a str (sent verbatim, so it can be malformed).
  A ``list`` of ``ToolCall`` gives one message with several tool calls.
* ``Error(status, body, headers)`` -- an HTTP error in OpenAI's error shape.
* ``Hang(seconds, close=False, then=None)`` -- sleep, then answer ``then`` or
  504, or drop the connection without answering (``close=True``).
* a ``dict``                     -- sent verbatim as the 200 JSON body.

Instead of a callable the script may also be a single reply (answered every
time) or a list of replies (answered in order; running out is an error).

Scripts run under a lock (one at a time) so sequences stay deterministic; use
``fake.delay`` or ``Hang`` for latency, never ``time.sleep`` in a script.
Every failure inside the server is answered with a 500 and kept in
``fake.errors``; the server never dies from a handler exception.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Error",
    "FakeOpenAI",
    "Hang",
    "Reply",
    "Script",
    "Text",
    "ToolCall",
    "auto_tool",
    "forced_tool",
    "last_user_text",
    "tool_names",
]

FAKE_MODEL = "fake-model"
EMBEDDING_DIM = 8


# --------------------------------------------------------------------------- replies


@dataclass
class Text:
    """A plain assistant message."""

    content: str
    finish_reason: str = "stop"  # "length" simulates a truncated answer
    usage: dict[str, int] | None = None  # override the estimated usage block


@dataclass
class ToolCall:
    """An assistant message carrying one ``tool_calls`` entry."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None  # default: "call_<n>"
    usage: dict[str, int] | None = None


@dataclass
class Error:
    """An HTTP error. ``body``: None -> OpenAI error JSON; dict -> JSON; str -> verbatim."""

    status: int
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] | None = None


@dataclass
class Hang:
    """Sleep ``seconds`` (cut short when the server closes), then answer.

    After the sleep: drop the connection if ``close``; else answer ``then``;
    else a 504 error.
    """

    seconds: float
    close: bool = False
    then: Reply | None = None


Reply = Text | ToolCall | Error | Hang | list | dict
Script = Callable[[dict[str, Any]], Reply]


# --------------------------------------------------------------------- request helpers


def tool_names(request: Mapping[str, Any]) -> list[str]:
    """Function names offered in the request's ``tools``."""
    names = []
    for tool in request.get("tools") or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            names.append(fn["name"])
    return names


def forced_tool(request: Mapping[str, Any]) -> str | None:
    """The function name ``tool_choice`` forces, if any.

    ``with_structured_output(method="function_calling")`` sends
    ``{"type": "function", "function": {"name": "<Schema>"}}``.
    """
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        fn = choice.get("function")
        if isinstance(fn, dict):
            return fn.get("name")
        return choice.get("name")
    if isinstance(choice, str) and choice not in {"auto", "none", "required", "any"}:
        return choice
    return None


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def last_user_text(request: Mapping[str, Any]) -> str:
    """Text of the last ``user`` message ("" if none)."""
    for msg in reversed(request.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return _content_text(msg.get("content"))
    return ""


def auto_tool(
    handlers: Mapping[str, Any],
    *,
    fallback: Script | Reply | None = None,
) -> Script:
    """Build a script answering tool/structured-output requests by function name.

    The tool is the one ``tool_choice`` forces, else the first offered tool
    (request ``tools``) that has a handler. The handler is called with the
    request and returns the arguments (dict, str sent verbatim, or a pydantic
    model) -- or any ``Reply`` to answer that instead. A non-callable handler
    is used as constant arguments. With no matching handler (or
    ``tool_choice == "none"``) the ``fallback`` answers; without a fallback
    that is an error (a 500 recorded in ``fake.errors``).
    """

    def script(request: dict[str, Any]) -> Reply:
        name: str | None = None
        choice = request.get("tool_choice")
        forced = forced_tool(request)
        if forced is not None:
            name = forced if forced in handlers else None
        elif choice != "none":
            name = next((n for n in tool_names(request) if n in handlers), None)
        if name is None:
            if fallback is None:
                raise LookupError(
                    f"auto_tool: no handler for tools={tool_names(request)} "
                    f"tool_choice={choice!r}; handlers={sorted(handlers)}"
                )
            return fallback(request) if callable(fallback) else fallback
        handler = handlers[name]
        result = handler(request) if callable(handler) else handler
        if isinstance(result, Text | ToolCall | Error | Hang | list):
            return result
        if hasattr(result, "model_dump"):  # pydantic model instance
            result = result.model_dump(mode="json")
        return ToolCall(name, result)

    return script


def _sequence(replies: Iterable[Reply]) -> Script:
    items = list(replies)
    it = iter(items)

    def script(request: dict[str, Any]) -> Reply:
        try:
            return next(it)
        except StopIteration:
            raise LookupError(f"script exhausted: all {len(items)} replies used") from None

    return script


def _coerce_script(script: Any) -> Script:
    if script is None:
        return lambda request: Text("ok")
    if callable(script):
        return script
    if isinstance(script, list | tuple):
        return _sequence(script)
    if isinstance(script, Text | ToolCall | Error | Hang | dict):
        return lambda request: script
    raise TypeError(f"script must be callable, a Reply or a list of replies: {script!r}")


# ---------------------------------------------------------------------- payloads


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


_ERROR_KINDS = {
    400: ("invalid_request_error", None, "Invalid request (fake server)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "Permission denied (fake server)."),
    404: ("invalid_request_error", None, "Not found (fake server)."),
    408: ("timeout", None, "Request timed out (fake server)."),
    409: ("invalid_request_error", None, "Conflict (fake server)."),
    422: ("invalid_request_error", None, "Unprocessable entity (fake server)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (fake server)."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway (fake server)."),
    503: ("server_error", None, "The engine is currently overloaded (fake server)."),
    504: ("server_error", None, "Gateway timeout (fake server)."),
}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """OpenAI's error JSON shape."""
    kind, code, default = _ERROR_KINDS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", None, f"HTTP {status}"),
    )
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _embedding(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    raw = [(b / 127.5) - 1.0 for b in digest[:EMBEDDING_DIM]]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


# ------------------------------------------------------------------------ server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeOpenAI


class _Drop(Exception):
    """Drop the connection without answering."""


class _BadRequest(Exception):
    """Answer 400 (client mistake, not a server error)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers (httpx pools connections)
    disable_nagle_algorithm = True  # else headers+body sends hit a 40 ms delayed-ACK stall
    server: _Server
    server_version = "FakeOpenAI/1.0"
    _headers_sent = False
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # silence access logs
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    # -- dispatch -------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/v1"):
            path = path[3:]
        self._headers_sent = False
        try:
            body = self._read_body()
            if method == "POST" and path == "/chat/completions":
                self._chat(body)
            elif method == "POST" and path == "/embeddings":
                self._embeddings(body)
            elif method == "GET" and path == "/models":
                self._json(200, {"object": "list", "data": [fake.model_card()]})
            elif method == "GET" and path == f"/models/{FAKE_MODEL}":
                self._json(200, fake.model_card())
            else:
                self._json(404, error_body(404, f"Unknown path: {method} {self.path}"))
        except _Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        except _BadRequest as exc:
            self._json(400, error_body(400, str(exc)))
        except ConnectionError:  # client went away (timeout, reset): nothing to answer
            self.close_connection = True
        except Exception as exc:  # never let a handler exception kill the server
            if fake._closing.is_set():
                self.close_connection = True
                return
            fake._record_error(exc)
            if self._headers_sent:  # a response is half written: all we can do is hang up
                self.close_connection = True
                return
            # Keep the connection alive: the request was read in full, and closing it
            # after the answer races with the client's pooled reuse of it.
            with contextlib.suppress(OSError):
                self._json(500, error_body(500, f"Fake server error: {type(exc).__name__}: {exc}"))

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _BadRequest(f"Request body is not valid JSON: {exc}") from None

    # -- writers --------------------------------------------------------------------

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str] | None
    ) -> None:
        self._headers_sent = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", f"req_fake_{next(self.server.fake._req_ids):06d}")
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json", headers)

    def _error(self, err: Error) -> None:
        if isinstance(err.body, str):
            self._send(err.status, err.body.encode("utf-8"), "application/json", err.headers)
        else:
            self._json(err.status, err.body or error_body(err.status), err.headers)

    # -- endpoints ------------------------------------------------------------------

    def _chat(self, request: Any) -> None:
        fake = self.server.fake
        if not isinstance(request, dict):
            self._json(400, error_body(400, "Request body must be a JSON object."))
            return
        fake._record_request(request, {k.lower(): v for k, v in self.headers.items()})
        if fake.delay:
            fake._sleep(fake.delay)
        reply = fake._run_script(request)
        while isinstance(reply, Hang):
            fake._sleep(reply.seconds)
            if reply.close:
                raise _Drop
            reply = reply.then if reply.then is not None else Error(504)
        if isinstance(reply, Error):
            self._error(reply)
            return
        if isinstance(reply, dict):
            self._json(200, reply)
            return
        completion = _build_completion(request, reply, fake._next_id())
        if request.get("stream"):
            self._stream(request, completion)
        else:
            self._json(200, completion)

    def _stream(self, request: dict[str, Any], completion: dict[str, Any]) -> None:
        self._headers_sent = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in _stream_chunks(request, completion):
            data = f"data: {json.dumps(chunk)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        done = b"data: [DONE]\n\n"
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
        self.wfile.flush()

    def _embeddings(self, request: Any) -> None:
        fake = self.server.fake
        if not isinstance(request, dict) or "input" not in request:
            self._json(400, error_body(400, "'input' is required."))
            return
        fake._record_embedding_request(request)
        inputs = request["input"]
        if isinstance(inputs, str) or (
            isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        ):
            inputs = [inputs]  # one string, or one list of token ids
        texts = [x if isinstance(x, str) else json.dumps(x) for x in inputs]
        as_base64 = request.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(texts):
            vec = _embedding(text)
            emb: Any = vec
            if as_base64:
                emb = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(_estimate_tokens(t) for t in texts)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": request.get("model") or FAKE_MODEL,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _build_completion(request: dict[str, Any], reply: Any, n: int) -> dict[str, Any]:
    usage_override = None
    if isinstance(reply, Text):
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        finish = reply.finish_reason
        completion_text = reply.content
        usage_override = reply.usage
    elif isinstance(reply, ToolCall) or (
        isinstance(reply, list) and reply and all(isinstance(r, ToolCall) for r in reply)
    ):
        calls = [reply] if isinstance(reply, ToolCall) else reply
        tool_calls = []
        for i, call in enumerate(calls):
            args = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
            tool_calls.append(
                {
                    "id": call.id or f"call_fake_{n:06d}_{i}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": args},
                }
            )
            usage_override = usage_override or call.usage
        message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": tool_calls}
        finish = "tool_calls"
        completion_text = "".join(
            c["function"]["name"] + c["function"]["arguments"] for c in tool_calls
        )
    else:
        raise TypeError(f"script returned an unsupported reply: {reply!r}")
    usage = _usage(_estimate_tokens(json.dumps(request)), _estimate_tokens(completion_text))
    if usage_override:
        usage.update(usage_override)
        if "total_tokens" not in usage_override:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": f"chatcmpl-fake{n:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or FAKE_MODEL,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }


def _stream_chunks(request: dict[str, Any], completion: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "system_fingerprint": completion["system_fingerprint"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    choice = completion["choices"][0]
    message = choice["message"]
    chunks = [chunk({"role": "assistant", "content": ""})]
    if message.get("tool_calls"):
        for i, call in enumerate(message["tool_calls"]):
            fn = call["function"]
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": fn["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            args = fn["arguments"]
            for j in range(0, len(args), 16):
                chunks.append(
                    chunk(
                        {
                            "tool_calls": [
                                {
                                    "index": i,
                                    "function": {"arguments": args[j : j + 16]},
                                }
                            ]
                        }
                    )
                )
    else:
        text = message.get("content") or ""
        for j in range(0, len(text), 16):
            chunks.append(chunk({"content": text[j : j + 16]}))
    chunks.append(chunk({}, choice["finish_reason"]))
    if (request.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


class FakeOpenAI:
    """A fake OpenAI-compatible server on 127.0.0.1 (random port), started at once.

    Attributes/API:
      base_url       "http://127.0.0.1:PORT/v1" -- pass to ChatOpenAI(base_url=...)
      requests       snapshot list of chat-completion request bodies (parsed JSON)
      request_headers  snapshot list of their HTTP headers (lower-cased keys), same order
      embedding_requests  snapshot list of /v1/embeddings bodies
      calls          number of chat-completion requests received
      last_request   the latest chat-completion body (or None)
      errors         exceptions raised inside the server (each answered with a 500)
      delay          seconds to sleep before answering each chat completion
      set_script(s)  replace the script; reset() clears the records; close()
    """

    def __init__(self, script: Any = None, *, delay: float = 0.0) -> None:
        self._lock = threading.RLock()
        self._script_lock = threading.Lock()
        self._script: Script = _coerce_script(script)
        self._requests: list[dict[str, Any]] = []
        self._request_headers: list[dict[str, str]] = []
        self._embedding_requests: list[dict[str, Any]] = []
        self._errors: list[BaseException] = []
        self._ids = itertools.count(1)
        self._req_ids = itertools.count(1)  # itertools.count is atomic under the GIL
        self._connections: set[socket.socket] = set()
        self._closing = threading.Event()
        self.delay = delay
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.url}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeOpenAI:{self.port}",
            daemon=True,
        )
        self._thread.start()

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, wake hanging handlers and drop open connections. Idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)

    # -- public state ---------------------------------------------------------------

    def set_script(self, script: Any) -> None:
        with self._script_lock:
            self._script = _coerce_script(script)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._request_headers.clear()
            self._embedding_requests.clear()
            self._errors.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._request_headers)

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._embedding_requests)

    @property
    def last_request(self) -> dict[str, Any] | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._errors)

    def assert_no_errors(self) -> None:
        errors = self.errors
        if errors:
            raise AssertionError(f"FakeOpenAI server errors: {errors!r}") from errors[0]

    def model_card(self) -> dict[str, Any]:
        return {
            "id": FAKE_MODEL,
            "object": "model",
            "created": 1700000000,
            "owned_by": "plume-fake",
        }

    def chat_model(self, **kwargs: Any) -> Any:
        """A real ``ChatOpenAI`` pointed at this server (langchain_openai imported lazily)."""
        from langchain_openai import ChatOpenAI

        params: dict[str, Any] = {
            "model": FAKE_MODEL,
            "base_url": self.base_url,
            "api_key": "test",
            "max_retries": 0,
            "timeout": 10,
        }
        params.update(kwargs)
        return ChatOpenAI(**params)

    # -- internals (called from handler threads) ------------------------------------

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _record_request(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(body)
            self._request_headers.append(headers)

    def _record_embedding_request(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._embedding_requests.append(body)

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _run_script(self, request: dict[str, Any]) -> Any:
        with self._script_lock:
            return self._script(request)

    def _sleep(self, seconds: float) -> None:
        """Sleep, cut short by close(); a closing server answers nothing more."""
        if self._closing.wait(max(0.0, float(seconds))):
            raise _Drop
