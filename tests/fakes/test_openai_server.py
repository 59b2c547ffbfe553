"""The fake OpenAI server, exercised through the real ChatOpenAI / openai client."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from langchain_core.exceptions import ContextOverflowError, ModelError
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel, ValidationError

from tests.fakes.openai_server import (
    Error,
    FakeOpenAI,
    Hang,
    Text,
    ToolCall,
    auto_tool,
    forced_tool,
    last_user_text,
    tool_names,
)


class Plan(BaseModel):
    steps: list[str]
    urgent: bool = False


@pytest.fixture(scope="module")
def server():
    # One server per module: ChatOpenAI caches its httpx clients per base_url, and
    # building one costs ~80 ms (SSL context), so a stable port keeps tests fast.
    with FakeOpenAI() as srv:
        yield srv


@pytest.fixture
def fake(server):
    server.reset()
    server.set_script(None)
    server.delay = 0.0
    yield server


def make_llm(fake: FakeOpenAI, **kwargs: Any) -> ChatOpenAI:
    params: dict[str, Any] = {"timeout": 5, "max_retries": 0, **kwargs}
    return ChatOpenAI(model="fake-model", base_url=fake.base_url, api_key="test", **params)


def structured(fake: FakeOpenAI, **kwargs: Any):
    return make_llm(fake).with_structured_output(Plan, method="function_calling", **kwargs)


# ------------------------------------------------------------------ structured output


def test_structured_output_function_calling_round_trip(fake):
    seen = []

    def plan(request):
        seen.append(last_user_text(request))
        return {"steps": ["draft", "post"], "urgent": True}

    fake.set_script(auto_tool({"Plan": plan}))
    result = structured(fake).invoke("plan the launch")

    assert result == Plan(steps=["draft", "post"], urgent=True)
    assert seen == ["plan the launch"]
    assert fake.calls == 1
    body = fake.requests[0]
    assert body["model"] == "fake-model"
    assert body["messages"] == [{"role": "user", "content": "plan the launch"}]
    # What with_structured_output(method="function_calling") sends:
    assert tool_names(body) == ["Plan"]
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["steps"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Plan"}}
    assert forced_tool(body) == "Plan"
    assert body["parallel_tool_calls"] is False
    assert body["stream"] is False
    fake.assert_no_errors()


def test_structured_output_include_raw_has_usage(fake):
    fake.set_script(ToolCall("Plan", {"steps": ["a"]}))
    out = structured(fake, include_raw=True).invoke("hi")
    assert out["parsed"] == Plan(steps=["a"])
    assert out["parsing_error"] is None
    usage = out["raw"].usage_metadata
    assert usage["input_tokens"] >= 1 and usage["output_tokens"] >= 1
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_auto_tool_handler_may_return_model_or_reply(fake):
    fake.set_script(auto_tool({"Plan": lambda req: Plan(steps=["x"])}))
    assert structured(fake).invoke("hi") == Plan(steps=["x"])

    fake.set_script(auto_tool({"Plan": lambda req: Error(503)}))
    with pytest.raises(openai.InternalServerError):
        structured(fake).invoke("hi")

    fake.set_script(auto_tool({"Plan": {"steps": ["constant"]}}))
    assert structured(fake).invoke("hi") == Plan(steps=["constant"])


def test_auto_tool_without_handler_is_a_recorded_500(fake):
    fake.set_script(auto_tool({"Other": lambda req: {}}))
    with pytest.raises(openai.InternalServerError, match="no handler"):
        structured(fake).invoke("hi")
    assert [type(e) for e in fake.errors] == [LookupError]

    fake.set_script(auto_tool({"Other": lambda req: {}}, fallback=Text("plain")))
    assert make_llm(fake).invoke("hi").content == "plain"


def test_malformed_tool_arguments_are_silently_none(fake):
    """langchain-openai 1.7.3 / langchain-core 1.7.2: malformed JSON does NOT raise.

    The tool call lands in `AIMessage.invalid_tool_calls`, `tool_calls` is empty
    and PydanticToolsParser(first_tool_only=True) returns None.
    """
    fake.set_script(ToolCall("Plan", '{"steps": ["a",'))
    assert structured(fake).invoke("hi") is None

    out = structured(fake, include_raw=True).invoke("hi")
    assert out["parsed"] is None and out["parsing_error"] is None
    raw = out["raw"]
    assert raw.tool_calls == []
    [bad] = raw.invalid_tool_calls
    assert bad["name"] == "Plan" and bad["args"] == '{"steps": ["a",'
    assert "are not valid JSON" in bad["error"]


def test_plain_text_instead_of_tool_call_is_none(fake):
    fake.set_script(Text("I'd rather chat"))
    assert structured(fake).invoke("hi") is None


def test_schema_violations_raise(fake):
    # Valid JSON, wrong shape -> pydantic.ValidationError from PydanticToolsParser.
    fake.set_script(ToolCall("Plan", {"steps": 3}))
    with pytest.raises(ValidationError):
        structured(fake).invoke("hi")
    # JSON that is not an object -> ValidationError building the AIMessage.
    fake.set_script(ToolCall("Plan", "[1, 2]"))
    with pytest.raises(ValidationError):
        structured(fake).invoke("hi")
    # Unknown function name -> OutputParserException (a ValueError).
    from langchain_core.exceptions import OutputParserException

    fake.set_script(ToolCall("Nope", {"steps": []}))
    with pytest.raises(OutputParserException, match="Unknown tool type"):
        structured(fake).invoke("hi")


def test_recipe_make_malformed_output_raise(fake):
    """How a caller turns the silent None into an exception (include_raw=True)."""

    def invoke_strict(prompt: str) -> Plan:
        out = structured(fake, include_raw=True).invoke(prompt)
        if out["parsing_error"] is not None:
            raise out["parsing_error"]
        if out["parsed"] is None:
            bad = out["raw"].invalid_tool_calls
            detail = bad[0]["error"] if bad else "model did not call the tool"
            raise ValueError(f"structured output failed: {detail}")
        return out["parsed"]

    fake.set_script([ToolCall("Plan", "{oops"), Text("no tool"), ToolCall("Plan", {"steps": []})])
    with pytest.raises(ValueError, match="not valid JSON"):
        invoke_strict("a")
    with pytest.raises(ValueError, match="did not call the tool"):
        invoke_strict("b")
    assert invoke_strict("c") == Plan(steps=[])


# ------------------------------------------------------------------------- chat


def test_text_reply_invoke_and_usage(fake):
    fake.set_script(Text("hello there"))
    msg = make_llm(fake).invoke("say hi")
    assert msg.content == "hello there"
    assert msg.response_metadata["model_name"] == "fake-model"
    assert msg.response_metadata["finish_reason"] == "stop"
    usage = msg.usage_metadata
    assert usage is not None
    # prompt_tokens = len(json(request)) // 4 ; completion = len(content) // 4
    assert usage["input_tokens"] == len(json.dumps(fake.requests[0])) // 4
    assert usage["output_tokens"] == len("hello there") // 4
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_model_is_echoed_and_usage_overridable(fake):
    fake.set_script(Text("x", finish_reason="length", usage={"prompt_tokens": 7}))
    msg = ChatOpenAI(model="other", base_url=fake.base_url, api_key="t", max_retries=0).invoke("q")
    assert msg.response_metadata["model_name"] == "other"
    assert msg.response_metadata["finish_reason"] == "length"
    assert msg.usage_metadata["input_tokens"] == 7


def test_tool_calling_loop_sequence(fake):
    @tool
    def lookup(query: str) -> str:
        """Look something up."""
        return f"result for {query}"

    fake.set_script([ToolCall("lookup", {"query": "q1"}, id="call_1"), Text("done")])
    llm = make_llm(fake).bind_tools([lookup])
    first = llm.invoke("go")
    assert first.tool_calls == [
        {"name": "lookup", "args": {"query": "q1"}, "id": "call_1", "type": "tool_call"}
    ]
    assert first.response_metadata["finish_reason"] == "tool_calls"
    tool_msg = lookup.invoke(first.tool_calls[0])
    second = llm.invoke(["go", first, tool_msg])
    assert second.content == "done"
    sent = fake.requests[1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert sent[2] == {"role": "tool", "content": "result for q1", "tool_call_id": "call_1"}
    assert "tool_choice" not in fake.requests[0]


def test_multiple_tool_calls_in_one_message(fake):
    fake.set_script([[ToolCall("a", {"x": 1}), ToolCall("b", "{}")]])
    msg = make_llm(fake).invoke("hi")
    assert [c["name"] for c in msg.tool_calls] == ["a", "b"]


def test_async_invoke(fake):
    fake.set_script(auto_tool({"Plan": lambda req: {"steps": ["async"]}}))
    assert asyncio.run(structured(fake).ainvoke("hi")) == Plan(steps=["async"])


def test_streaming_text_tool_calls_and_usage(fake):
    fake.set_script(Text("a fairly long streamed answer, in pieces"))
    chunks = list(make_llm(fake, stream_usage=True).stream("hi"))
    assert len(chunks) > 3
    assert "".join(c.content for c in chunks) == "a fairly long streamed answer, in pieces"
    assert fake.last_request["stream"] is True
    assert fake.last_request["stream_options"] == {"include_usage": True}
    assert [c.usage_metadata for c in chunks if c.usage_metadata][0]["output_tokens"] > 0

    fake.set_script(ToolCall("Plan", {"steps": ["s1", "s2"], "urgent": True}))
    parts = list(structured(fake).stream("hi"))
    assert parts[-1] == Plan(steps=["s1", "s2"], urgent=True)


def test_requests_are_thread_safe_and_served_concurrently(fake):
    fake.set_script(lambda req: Text(last_user_text(req).upper()))
    fake.delay = 0.15
    llm = make_llm(fake)
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda i: llm.invoke(f"m{i}").content, range(8)))
    elapsed = time.monotonic() - start
    assert out == [f"M{i}" for i in range(8)]
    assert fake.calls == 8
    assert sorted(last_user_text(r) for r in fake.requests) == [f"m{i}" for i in range(8)]
    assert elapsed < 0.8  # 8 x 0.15 s would be 1.2 s if served one by one


# ----------------------------------------------------------------------- errors


def test_http_500_raises_internal_server_error(fake):
    fake.set_script(Error(500))
    with pytest.raises(openai.InternalServerError) as info:
        make_llm(fake).invoke("hi")
    err = info.value
    assert isinstance(err, openai.APIStatusError) and isinstance(err, ModelError)
    assert type(err).__name__ == "OpenAIAPIError"  # langchain_openai's wrapper subclass
    assert err.status_code == 500
    assert err.body["type"] == "server_error"
    assert fake.calls == 1  # max_retries=0: no retry


def test_http_400_and_context_overflow(fake):
    fake.set_script(Error(400))
    with pytest.raises(openai.BadRequestError):
        make_llm(fake).invoke("hi")

    # langchain-openai maps a 400 to ContextOverflowError only by the error *text*
    # ("context_length_exceeded" in str(e), "prompt is too long", ...). openai 3.54
    # puts only error.message in str(e), so the error *code* alone is not enough.
    def overflow(message: str) -> Error:
        return Error(400, body={"error": {"message": message, "type": "invalid_request_error",
                                          "param": "messages", "code": "context_length_exceeded"}})  # fmt: skip

    fake.set_script(overflow("Input tokens exceed the configured limit of 8192 tokens."))
    with pytest.raises(ContextOverflowError):
        make_llm(fake).invoke("hi")

    fake.set_script(overflow("This model's maximum context length is 8192 tokens."))
    with pytest.raises(openai.BadRequestError) as info:
        make_llm(fake).invoke("hi")
    assert not isinstance(info.value, ContextOverflowError)


def test_http_429_with_retry_after(fake):
    fake.set_script(Error(429, headers={"Retry-After": "1"}))
    with pytest.raises(openai.RateLimitError) as info:
        make_llm(fake).invoke("hi")
    assert info.value.response.headers["retry-after"] == "1"

    fake.reset()
    fake.set_script([Error(429, headers={"retry-after-ms": "10"}), Text("after retry")])
    assert make_llm(fake, max_retries=1).invoke("hi").content == "after retry"
    assert fake.calls == 2
    assert [h["x-stainless-retry-count"] for h in fake.request_headers] == ["0", "1"]


def test_non_json_error_body(fake):
    fake.set_script(Error(502, body="<html>bad gateway</html>"))
    with pytest.raises(openai.InternalServerError) as info:
        make_llm(fake).invoke("hi")
    assert info.value.status_code == 502


def test_hang_variants(fake):
    with FakeOpenAI(Hang(5)) as private:  # own server: close() wakes the sleeper
        start = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            make_llm(private, timeout=0.1).invoke("hi")
        assert time.monotonic() - start < 2

    fake.set_script(Hang(0.01, close=True))
    with pytest.raises(openai.APIConnectionError):
        make_llm(fake).invoke("hi")

    fake.set_script(Hang(0.01))
    with pytest.raises(openai.InternalServerError) as info:
        make_llm(fake).invoke("hi")
    assert info.value.status_code == 504

    fake.set_script(Hang(0.01, then=Text("slow but fine")))
    assert make_llm(fake).invoke("hi").content == "slow but fine"
    fake.assert_no_errors()


def test_close_wakes_hanging_handlers():
    server = FakeOpenAI(Hang(30))
    llm = make_llm(server, timeout=0.1)
    with pytest.raises(openai.APITimeoutError):
        llm.invoke("hi")
    start = time.monotonic()
    server.close()
    server.close()  # idempotent
    assert time.monotonic() - start < 1.5
    assert server.errors == []


def test_script_exception_is_500_and_server_survives(fake):
    def boom(request):
        raise RuntimeError("kaboom")

    fake.set_script(boom)
    with pytest.raises(openai.InternalServerError, match="kaboom"):
        make_llm(fake).invoke("hi")
    assert [str(e) for e in fake.errors] == ["kaboom"]

    fake.set_script(["not a reply"])
    with pytest.raises(openai.InternalServerError, match="unsupported reply"):
        make_llm(fake).invoke("hi")

    fake.set_script(Text("still alive"))
    assert make_llm(fake).invoke("hi").content == "still alive"
    assert len(fake.errors) == 2


def test_exhausted_sequence_is_an_error(fake):
    fake.set_script([Text("only one")])
    llm = make_llm(fake)
    assert llm.invoke("1").content == "only one"
    with pytest.raises(openai.InternalServerError, match="exhausted"):
        llm.invoke("2")


# ----------------------------------------------------------------- max_tokens


def test_max_tokens_field_is_sent_as_max_completion_tokens(fake):
    """ChatOpenAI 1.7.3 renames max_tokens -> max_completion_tokens (all routes)."""
    make_llm(fake, max_tokens=5).invoke("hi")
    make_llm(fake).invoke("hi", max_tokens=6)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # "Parameters {'max_tokens'} should be specified explicitly"
        make_llm(fake, model_kwargs={"max_tokens": 7}).invoke("hi")
    for body, n in zip(fake.requests, (5, 6, 7), strict=True):
        assert body["max_completion_tokens"] == n
        assert "max_tokens" not in body


def test_max_tokens_recipe_extra_body(fake):
    """llama.cpp recipe: extra_body={"max_tokens": N} (and leave max_tokens unset)."""
    fake.set_script(auto_tool({"Plan": {"steps": []}}, fallback=Text("ok")))
    llm = make_llm(fake, extra_body={"max_tokens": 64})
    llm.invoke("hi")
    llm.with_structured_output(Plan, method="function_calling").invoke("hi")
    make_llm(fake).bind(extra_body={"max_tokens": 32}).invoke("hi")  # per call
    sent = [(b.get("max_tokens"), "max_completion_tokens" in b) for b in fake.requests]
    assert sent == [(64, False), (64, False), (32, False)]


# --------------------------------------------------------------- other endpoints


def test_models_embeddings_and_404(fake):
    client = openai.OpenAI(base_url=fake.base_url, api_key="t", max_retries=0)
    assert [m.id for m in client.models.list()] == ["fake-model"]

    # openai defaults to encoding_format="base64"; both formats decode alike.
    v64 = client.embeddings.create(model="fake-model", input="hello").data[0].embedding
    vf = client.embeddings.create(model="m", input=["hello"], encoding_format="float")
    assert len(v64) == 8 and vf.data[0].embedding == pytest.approx(v64, abs=1e-6)
    assert vf.usage.prompt_tokens >= 1
    emb = OpenAIEmbeddings(
        model="fake-model", base_url=fake.base_url, api_key="t", check_embedding_ctx_length=False
    )
    a, b, a2 = emb.embed_documents(["a", "b", "a"])
    assert a == a2 and a != b
    assert fake.embedding_requests[0]["input"] == "hello"

    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="m", prompt="x")


def test_raw_http_bad_json_and_unknown_path(fake):
    req = urllib.request.Request(
        fake.base_url + "/chat/completions", data=b"{not json", method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 400
    assert "not valid JSON" in json.load(info.value)["error"]["message"]

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(fake.url + "/nope", timeout=5)
    assert info.value.code == 404
    assert json.load(info.value)["error"]["type"] == "invalid_request_error"
    assert fake.errors == [] and fake.calls == 0


def test_chat_model_helper(fake):
    fake.set_script(Text("via helper"))
    llm = fake.chat_model(temperature=0)
    assert isinstance(llm, ChatOpenAI)
    assert llm.invoke("hi").content == "via helper"
    assert fake.last_request["temperature"] == 0
    assert fake.request_headers[0]["authorization"] == "Bearer test"
