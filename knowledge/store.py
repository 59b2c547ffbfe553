"""The knowledge store: brand-guideline chunks in Chroma, one collection per language, searched
by meaning and by keywords across languages."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from core.domain import Passage
from core.errors import ConfigError, PlumeError, StorageError
from core.settings import Settings
from knowledge import embeddings
from knowledge.language import guess_locale
from knowledge.lexical import LexicalIndex, fuse

PREFIX = "guidelines-"  # + locale: one collection per language
LEGACY = "guidelines"  # the single collection of schema 1
MODEL_KEY = "embedding_model"
SCHEMA_KEY = "plume_schema"
SCHEMA_VERSION = 2
# Changed on every write to a collection, so that every process rebuilds its keyword index.
REVISION_KEY = "revision"
# How many passages each of the two rankings (meaning, keywords) offers the fusion, per locale.
CANDIDATES = 20
_PAGE = 1000
# Query vectors kept per store: the same question comes back (`/plume guidelines` asked again,
# a brief's retrieve step re-run on resume), and embedding it costs 20-50 ms on a busy CPU.
QUERY_CACHE = 256
# How long a search trusts its list of per-locale collections (listing them costs ~1.5 ms);
# a collection another process adds or rebuilds is seen within this delay.
COLLECTIONS_TTL = 2.0
# Threads that query the per-locale collections at once, besides the searching thread.
# Chroma's Rust core releases the GIL: at 10k chunks in three locales, a search with a known
# query vector went from 6.5-7.3 to 3.9-4.1 ms at p50 (docs/benchmarks.md, Retrieval). A
# bound, so that concurrent searches (Slack workers) queue here rather than add threads.
SEARCH_THREADS = 2


def chunk_id(source: str, index: int) -> str:
    return f"{source}#{index}"


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as stored: text plus the metadata that retrieval, citations and re-ingest read."""

    source: str  # path relative to the ingested folder, e.g. "fr/voix.md"
    index: int
    heading: str
    text: str
    locale: str
    kind: str
    content_hash: str  # of the whole source file: unchanged files are skipped
    total: (
        int  # chunks in the source, so an interrupted ingest is never mistaken for a complete one
    )

    @property
    def id(self) -> str:
        return chunk_id(self.source, self.index)

    @property
    def embedded_text(self) -> str:
        return _embedded(self.heading, self.text)

    def metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "index": self.index,
            "heading": self.heading,
            "locale": self.locale,
            "kind": self.kind,
            "content_hash": self.content_hash,
            "chunks": self.total,
        }


class KnowledgeStore:
    """Guideline passages in Chroma: embedded under PLUME_HOME/chroma, or on CHROMA_URL.

    One collection per locale ("guidelines-en", "guidelines-fr"…): a search restricted to one
    language is then a plain nearest-neighbour query on a small index, where a metadata filter
    on one big collection cost 20-50 ms at 10k chunks. Every collection records which
    embedding model wrote its vectors; opening them with another model raises ConfigError
    instead of silently mixing incomparable vectors. `rebuild=True` drops them first (what
    `plume ingest --rebuild` does). A single "guidelines" collection left by an earlier
    version is split by locale on open, vectors included (nothing is re-embedded). A search
    queries the locales' collections at once, on a few threads the store starts on first use
    and `close()` stops.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        rebuild: bool = False,
        embedding_function: EmbeddingFunction[Documents] | None = None,
    ) -> None:
        # Always our own function, also when reopening: Chroma's default one downloads a model.
        self._ef = embedding_function or embeddings.embedding_function(settings)
        self.model = embeddings.model_id(self._ef)
        self.location = settings.chroma_url or str(settings.plume_home / "chroma")
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._collections: dict[str, Any] = {}
        self._revisions: dict[str, str] = {}  # locale -> revision of its collection, as listed
        self._lexicons: dict[str, _Lexicon] = {}
        self._lexicons_lock = threading.Lock()
        self._listed_at = float("-inf")
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        with _storage(f"opening the knowledge store at {self.location}"):
            self._client = _client(settings)
            self._open(rebuild)

    def _open(self, rebuild: bool) -> None:
        names = self._names()
        if rebuild:
            for name in names:
                with suppress(NotFoundError):
                    self._client.delete_collection(name)
            names = []
        for name in names:
            # Peek without an embedding function: Chroma would otherwise refuse a different
            # one with a message about its internals before we could explain.
            stored = (
                self._client.get_collection(name, embedding_function=None).metadata or {}
            ).get(MODEL_KEY)
            if stored != self.model:
                raise ConfigError(
                    f"The knowledge store at {self.location} holds vectors from the embedding model "
                    f"{stored or 'unknown'!r}, but PLUME_EMBEDDINGS now selects {self.model!r}. "
                    "Vectors of two models cannot be mixed: re-ingest with "
                    "`plume ingest --rebuild PATH…`, or set PLUME_EMBEDDINGS back."
                )
        if LEGACY in names:
            self._split_legacy()
        self._refresh()

    def _names(self) -> list[str]:
        return list(self._listed())

    def _listed(self) -> dict[str, Any]:
        """Plume's collections by name, as listed (a rebuilt collection gets a new id)."""
        return {
            c.name: c
            for c in self._client.list_collections()
            if c.name == LEGACY or c.name.startswith(PREFIX)
        }

    def _refresh(self, max_age: float = 0.0) -> dict[str, Any]:
        """The per-locale collections as they are now: another process may have added one, or
        rebuilt the store. With `max_age`, a list that recent is trusted as it is."""
        if time.monotonic() - self._listed_at < max_age:
            return self._collections
        found, revisions = {}, {}
        for name, listed in self._listed().items():
            if name.startswith(PREFIX):
                locale = name[len(PREFIX) :]
                known = self._collections.get(locale)
                found[locale] = (
                    known
                    if known is not None and known.id == listed.id
                    else self._client.get_collection(name, embedding_function=self._ef)
                )
                revisions[locale] = str((listed.metadata or {}).get(REVISION_KEY, ""))
        self._collections, self._revisions = found, revisions
        self._listed_at = time.monotonic()
        return found

    def _changed(self, locale: str) -> None:
        """Mark a collection as written: every process's keyword index of it is out of date."""
        collection = self._collections[locale]
        revision = uuid.uuid4().hex
        collection.modify(metadata={**(collection.metadata or {}), REVISION_KEY: revision})
        self._revisions[locale] = revision

    def _collection(self, locale: str) -> Any:
        if locale not in self._collections:
            self._collections[locale] = self._client.get_or_create_collection(
                PREFIX + locale,
                embedding_function=self._ef,
                metadata={MODEL_KEY: self.model, SCHEMA_KEY: SCHEMA_VERSION, "locale": locale},
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._collections[locale]

    def _split_legacy(self) -> None:
        legacy = self._client.get_collection(LEGACY, embedding_function=None)
        for page in _paged(legacy, ["documents", "metadatas", "embeddings"]):
            by_locale: dict[str, list[int]] = {}
            for i, meta in enumerate(page["metadatas"]):
                by_locale.setdefault(str(meta.get("locale") or "en"), []).append(i)
            for locale, rows in by_locale.items():
                self._collection(locale).upsert(
                    ids=[page["ids"][i] for i in rows],
                    embeddings=[page["embeddings"][i] for i in rows],
                    documents=[page["documents"][i] for i in rows],
                    metadatas=[page["metadatas"][i] for i in rows],
                )
                self._changed(locale)
        self._client.delete_collection(LEGACY)

    def count(self) -> int:
        with _storage("counting guidelines"):
            return sum(c.count() for c in self._refresh().values())

    def locales(self) -> list[str]:
        """The locales that have guidelines, most passages first."""
        with _storage("counting guidelines"):
            counts = {locale: c.count() for locale, c in self._refresh().items()}
        return sorted((loc for loc, n in counts.items() if n), key=lambda loc: -counts[loc])

    def search(self, query: str, k: int = 4, locale: str | None = None) -> list[Passage]:
        """The k passages that best answer `query`, best first; score is cosine similarity in [0, 1].

        Each language's passages are ranked twice, by meaning (the vectors, in Chroma) and by
        keywords (BM25, knowledge.lexical), and the two rankings are fused by reciprocal rank:
        a small embedding model misses exact words ("anglicismes", "direct trade") that a
        keyword index finds. Multilingual models also rank same-language text first (a French
        question scores every French passage above the English one that answers it), so the
        search is split by language: the best passages of `locale` take half the slots
        (rounded up) and come first, and the best passages in the other languages take the rest;
        a side with too few passages leaves its slots to the other. A French draft thus gets the French
        guideline and the English one it depends on. Without a `locale`, the query's own
        language is guessed from its function words; when none stands out, every language
        competes on its fused rank alone.
        """
        query = query.strip()
        if not query or k <= 0:
            return []
        locale = locale or guess_locale(query)
        with _storage("searching guidelines"):
            try:
                local, other = self._search(query, k, locale, COLLECTIONS_TTL)
            except NotFoundError:  # rebuilt by another process since we listed collections
                local, other = self._search(query, k, locale, 0.0)
        if locale is None:
            return [hit.passage for hit in other]
        take = max((k + 1) // 2, k - len(other))
        # The draft's own language first: fused ranks of different collections tie rank for rank, and a
        # model (and a reader) takes the first passages as the main guidance.
        return [hit.passage for hit in [*local[:take], *other[: k - min(take, len(local))]]]

    def _search(
        self, query: str, k: int, locale: str | None, max_age: float
    ) -> tuple[list[_Hit], list[_Hit]]:
        """The k best passages of `locale`, and the k best of every other locale."""
        collections = self._refresh(max_age)
        if not collections:
            return [], []
        vector = self.embed_query(query)
        codes = sorted(collections, key=lambda code: code != locale)  # the query's locale first
        ranked = self._rank_all([(code, collections[code]) for code in codes], query, vector, k)
        if locale not in collections:
            return [], _best(ranked, k)
        return ranked[0], _best(ranked[1:], k)

    def _rank_all(
        self, collections: list[tuple[str, Any]], query: str, vector: Any, k: int
    ) -> list[list[_Hit]]:
        """Each collection's k best passages, in the order given, the collections searched at
        once: the first by this thread, the others by the store's pool."""
        if len(collections) < 2:
            return [self._rank(*c, query, vector, k) for c in collections]
        pool = self._executor()
        pending = [pool.submit(self._rank, *c, query, vector, k) for c in collections[1:]]
        try:
            first = self._rank(*collections[0], query, vector, k)
        finally:
            wait(pending)  # no search outlives its caller, even when one failed
        return [first, *(future.result() for future in pending)]

    def _rank(self, locale: str, collection: Any, query: str, vector: Any, k: int) -> list[_Hit]:
        """One language's k best passages: the nearest by meaning fused with the best by keywords."""
        nearest = collection.query(
            query_embeddings=vector, n_results=max(k, CANDIDATES), include=["distances"]
        )
        distances = dict(zip(nearest["ids"][0], nearest["distances"][0], strict=True))
        lexicon = self._lexicon(locale, collection)
        keywords = [i for i, _ in lexicon.index.search(query, CANDIDATES)]
        fused = fuse([list(distances), keywords])
        # Ties (one ranking's nth against the other's nth) go to meaning: its ids come first.
        best = sorted(dict.fromkeys([*distances, *keywords]), key=lambda i: -fused[i])[:k]
        # The winners' texts come from the copy the keyword index keeps (a Chroma read per
        # locale was a third of a search with a known query vector). Chroma is asked only for
        # a chunk written since that copy, and for a winner found by keywords alone: its
        # cosine similarity needs its stored vector, and one deleted since is left out.
        rows = {i: lexicon.rows[i] for i in best if i in distances and i in lexicon.rows}
        vectors = {}
        if missing := [i for i in best if i not in rows]:
            got = collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            for i, doc, meta, stored in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            ):
                rows[i], vectors[i] = (doc, meta), stored
        hits = []
        for i in best:
            if i not in rows:
                continue
            distance = distances[i] if i in distances else _cosine_distance(vectors[i], vector)
            hits.append(_Hit(fused[i], _passage(i, *rows[i], distance)))
        return hits

    def _lexicon(self, locale: str, collection: Any) -> _Lexicon:
        """The keyword index of one collection, with its texts, rebuilt when its revision changed."""
        revision = (collection.id, self._revisions.get(locale, ""))
        with self._lexicons_lock:
            known = self._lexicons.get(locale)
            if known is not None and known.revision == revision:
                return known
            rows: dict[str, tuple[str, dict[str, Any]]] = {}
            for page in _paged(collection, ["documents", "metadatas"]):
                pairs = zip(page["documents"], page["metadatas"], strict=True)
                rows.update(zip(page["ids"], pairs, strict=True))
            texts = [  # what the vectors embed, so both rankings judge the same text
                _embedded(str(meta.get("heading", "")), doc) for doc, meta in rows.values()
            ]
            built = _Lexicon(revision, LexicalIndex(list(rows), texts), rows)
            self._lexicons[locale] = built
            return built

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="plume-search")
            return self._pool

    def close(self) -> None:
        """Stop the search threads; a later search starts them again. Without it they stop when
        the store is garbage-collected or the interpreter exits."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def embed_query(self, query: str) -> Any:
        """The query's vector (as Chroma takes it), from a small LRU cache when asked before."""
        with self._vectors_lock:
            if query in self._vectors:
                self._vectors.move_to_end(query)
                return self._vectors[query]
        vector = self._ef.embed_query([query])
        with self._vectors_lock:
            self._vectors[query] = vector
            while len(self._vectors) > QUERY_CACHE:
                self._vectors.popitem(last=False)
        return vector

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """Passages by chunk id, in the order asked; ids no longer stored are left out."""
        if not ids:
            return []
        found: dict[str, Passage] = {}
        with _storage("reading guidelines"):
            for collection in self._refresh().values():
                got = collection.get(ids=list(ids), include=["documents", "metadatas"])
                for i, doc, meta in zip(
                    got["ids"], got["documents"], got["metadatas"], strict=True
                ):
                    found[i] = _passage(i, doc, meta, None)
        return [found[i] for i in ids if i in found]

    def add_chunks(
        self, records: Sequence[ChunkRecord], vectors: Sequence[Any] | None = None
    ) -> None:
        """Embed and store records (upsert: re-adding the same chunk id replaces it).

        `vectors` skips the embedding for callers that already hold them from this same
        model (bench/retrieval.py builds its 10k-chunk collection that way).
        """
        if not records:
            return
        if vectors is not None and len(vectors) != len(records):
            raise ValueError("one vector per record")
        with _storage("storing guidelines"):
            if vectors is None:
                vectors = self._ef([r.embedded_text for r in records])
            by_locale: dict[str, list[int]] = {}
            for i, record in enumerate(records):
                by_locale.setdefault(record.locale, []).append(i)
            for locale, rows in by_locale.items():
                self._collection(locale).upsert(
                    ids=[records[i].id for i in rows],
                    embeddings=[vectors[i] for i in rows],
                    documents=[records[i].text for i in rows],
                    metadatas=[records[i].metadata() for i in rows],
                )
                self._changed(locale)

    def delete_source(self, source: str) -> int:
        """Remove every chunk of one source (in whatever locale); returns how many were removed."""
        removed = 0
        with _storage(f"removing {source}"):
            for locale, collection in self._refresh().items():
                ids = collection.get(where={"source": source}, include=[])["ids"]
                if ids:
                    collection.delete(ids=ids)
                    self._changed(locale)
                    removed += len(ids)
        return removed

    def sources(self) -> dict[str, str]:
        """Each stored source with its content hash; "" when its chunks are incomplete."""
        hashes: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        expected: dict[str, int] = {}
        with _storage("listing guidelines"):
            for meta in self._metadatas():
                source = str(meta["source"])
                hashes.setdefault(source, set()).add(str(meta.get("content_hash", "")))
                counts[source] = counts.get(source, 0) + 1
                expected[source] = int(meta.get("chunks", 0))
        return {
            source: next(iter(found))
            if len(found) == 1 and counts[source] == expected[source]
            else ""
            for source, found in sorted(hashes.items())
        }

    def records(self, source: str | None = None) -> list[ChunkRecord]:
        """Stored chunks with their metadata (all, or one source's), ordered by source and index."""
        with _storage("reading guidelines"):
            pages = self._pages(["documents", "metadatas"], {"source": source} if source else None)
            found = [
                ChunkRecord(
                    source=str(meta["source"]),
                    index=int(meta["index"]),
                    heading=str(meta["heading"]),
                    text=doc,
                    locale=str(meta["locale"]),
                    kind=str(meta["kind"]),
                    content_hash=str(meta["content_hash"]),
                    total=int(meta["chunks"]),
                )
                for page in pages
                for doc, meta in zip(page["documents"], page["metadatas"], strict=True)
            ]
        return sorted(found, key=lambda r: (r.source, r.index))

    def _metadatas(self) -> Iterator[dict[str, Any]]:
        for page in self._pages(["metadatas"]):
            yield from page["metadatas"]

    def _pages(self, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
        for collection in self._refresh().values():
            yield from _paged(collection, include, where)


@dataclass(frozen=True)
class _Hit:
    """A passage with its fused rank score (comparable across collections, unlike cosine)."""

    fused: float
    passage: Passage


@dataclass(frozen=True)
class _Lexicon:
    revision: tuple[str, str]  # (collection id, revision) it was built from
    index: LexicalIndex
    rows: dict[str, tuple[str, dict[str, Any]]]  # id -> (text, metadata), as of that revision


def _paged(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
    """A collection's chunks, _PAGE at a time."""
    offset = 0
    while True:
        page = collection.get(include=include, where=where, limit=_PAGE, offset=offset)
        yield page
        if len(page["ids"]) < _PAGE:
            break
        offset += _PAGE


def _embedded(heading: str, text: str) -> str:
    # The heading path says what a short passage is about ("Voice › Emoji"); it is searched too.
    return f"{heading}\n\n{text}" if heading else text


def _best(lists: list[list[_Hit]], k: int) -> list[_Hit]:
    """The k best of several rankings: by fused rank, then by closeness of meaning."""
    merged = [hit for found in lists for hit in found]
    return sorted(merged, key=lambda h: (h.fused, h.passage.score), reverse=True)[:k]


def _cosine_distance(stored: Any, vector: Any) -> float:
    a = np.asarray(stored, dtype=np.float32).reshape(-1)
    b = np.asarray(vector, dtype=np.float32).reshape(-1)
    return 1.0 - float(a @ b / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))


def _passage(chunk: str, text: str, meta: dict[str, Any], distance: float | None) -> Passage:
    score = 0.0 if distance is None else round(min(1.0, max(0.0, 1.0 - distance)), 4)
    return Passage(
        id=chunk,
        source=str(meta.get("source", "")),
        heading=str(meta.get("heading", "")),
        text=text,
        locale=str(meta.get("locale", "")),
        score=score,
    )


def _client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = (
            settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}"
        )
        return chromadb.HttpClient(
            host=url, ssl=urlparse(url).scheme == "https", settings=chroma_settings
        )
    path = settings.plume_home / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


@contextmanager
def _storage(action: str) -> Iterator[None]:
    """Chroma's and the network's exceptions become one StorageError at this boundary."""
    try:
        yield
    except PlumeError:
        raise
    except Exception as exc:
        raise StorageError(f"Knowledge store failed while {action}: {exc}") from exc
