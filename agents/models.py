"""The model factory and the one guarded way to ask the model for structured output."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import openai
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ValidationError

from core.errors import LLMUnavailable
from core.settings import Settings

log = logging.getLogger(__name__)
PARSE_ATTEMPTS = 2  # a malformed answer is asked for once more, then the caller falls back


@dataclass
class Usage:
    """Model calls and tokens, for the benchmarks and the logs."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time spent waiting for the model
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, metadata: dict | None, seconds: float) -> None:
        with self._lock:
            self.calls += 1
            self.seconds += seconds
            self.prompt_tokens += (metadata or {}).get("input_tokens", 0)
            self.completion_tokens += (metadata or {}).get("output_tokens", 0)

    def snapshot(self) -> dict[str, int]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "seconds": self.seconds}


class Model:
    """A configured chat model. Every failure surfaces as LLMUnavailable with a readable reason."""

    def __init__(self, chat: ChatOpenAI, name: str):
        self.chat = chat
        self.name = name
        self.usage = Usage()

    def structured(self, schema: type[BaseModel], system: str, user: str) -> BaseModel:
        # Function calling rather than json_schema: llama.cpp, Ollama and vLLM all support it.
        runnable = self.chat.with_structured_output(schema, method="function_calling", include_raw=True)
        messages = [SystemMessage(system), HumanMessage(user)]
        problem = "no answer"
        for _ in range(PARSE_ATTEMPTS):
            started = time.perf_counter()
            try:
                result = runnable.invoke(messages)
            except openai.APIError as exc:  # timeouts, 429 and 5xx were already retried by the client
                raise LLMUnavailable(f"the model at {self.name} failed: {describe(exc)}") from exc
            except (OutputParserException, ValidationError, ValueError) as exc:
                problem = str(exc).splitlines()[0][:200]
                continue
            raw = result.get("raw")
            self.usage.add(getattr(raw, "usage_metadata", None), time.perf_counter() - started)
            if result.get("parsed") is not None:
                return result["parsed"]
            problem = str(result.get("parsing_error") or "the answer did not match the expected fields")
            log.warning("model answer for %s was malformed: %s", schema.__name__, problem[:200])
        raise LLMUnavailable(f"the model's answer was not valid {schema.__name__} ({problem[:160]})")


def describe(exc: openai.APIError) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APITimeoutError):
        return "it timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "it could not be reached"
    return f"HTTP {status}" if status else type(exc).__name__


def make_model(settings: Settings) -> Model | None:
    """The configured model, or None for offline mode (no PLUME_MODEL)."""
    if not settings.model_configured:
        return None
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    options: dict = {}
    if settings.openai_base_url:
        # Other OpenAI-compatible servers (llama.cpp in particular) read `max_tokens`, while
        # ChatOpenAI renames its own max_tokens to `max_completion_tokens`.
        options["extra_body"] = {"max_tokens": settings.plume_max_tokens}
    else:
        options["max_tokens"] = settings.plume_max_tokens
    chat = ChatOpenAI(model=settings.plume_model, base_url=settings.openai_base_url, api_key=api_key,
                      timeout=settings.plume_llm_timeout, max_retries=settings.plume_llm_retries,
                      temperature=0.4, **options)
    return Model(chat, settings.openai_base_url or "OpenAI")
