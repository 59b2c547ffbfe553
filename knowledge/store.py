"""The knowledge store: brand-guideline chunks in one Chroma collection, searched across languages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from core.domain import Passage
from core.errors import ConfigError, PlumeError, StorageError
from core.settings import Settings
from knowledge import embeddings

COLLECTION = "guidelines"
MODEL_KEY = "embedding_model"
SCHEMA_KEY = "plume_schema"
SCHEMA_VERSION = 1
_PAGE = 1000


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
        # The heading path says what a short passage is about ("Voice › Emoji"); embed it too.
        return f"{self.heading}\n\n{self.text}" if self.heading else self.text

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

    The collection records which embedding model wrote its vectors; opening it with another
    model raises ConfigError instead of silently mixing incomparable vectors. `rebuild=True`
    drops the collection first (what `plume ingest --rebuild` does).
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
        with _storage(f"opening the knowledge store at {self.location}"):
            self._client = _client(settings)
            self._collection = self._open(rebuild)

    def _open(self, rebuild: bool) -> Any:
        if rebuild:
            with suppress(NotFoundError):
                self._client.delete_collection(COLLECTION)
        try:
            # Peek without an embedding function: Chroma would otherwise refuse a different
            # one with a message about its internals before we could explain.
            existing = self._client.get_collection(COLLECTION, embedding_function=None)
        except NotFoundError:
            existing = None
        if existing is not None:
            stored = (existing.metadata or {}).get(MODEL_KEY)
            if stored != self.model:
                raise ConfigError(
                    f"The knowledge store at {self.location} holds vectors from the embedding model "
                    f"{stored or 'unknown'!r}, but PLUME_EMBEDDINGS now selects {self.model!r}. "
                    "Vectors of two models cannot be mixed: re-ingest with "
                    "`plume ingest --rebuild PATH…`, or set PLUME_EMBEDDINGS back."
                )
        return self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=self._ef,
            metadata={MODEL_KEY: self.model, SCHEMA_KEY: SCHEMA_VERSION},
            configuration={"hnsw": {"space": "cosine"}},
        )

    def count(self) -> int:
        with _storage("counting guidelines"):
            return self._collection.count()

    def search(self, query: str, k: int = 4, locale: str | None = None) -> list[Passage]:
        """The k passages closest to `query`, best first; score is cosine similarity in [0, 1].

        Multilingual models still rank same-language text first, so with a `locale` the best
        passages of that locale take up to half the slots and an unfiltered search fills the
        rest: a French draft gets the French typography rules even for an English query, and
        still the English platform notes that have no French version.
        """
        query = query.strip()
        if not query or k <= 0:
            return []
        with _storage("searching guidelines"):
            if not self._collection.count():
                return []
            vector = self._ef.embed_query([query])
            best = self._query(vector, k, None)
            local = self._query(vector, (k + 1) // 2, {"locale": locale}) if locale else []
        unique: dict[str, Passage] = {}
        for passage in local + best:  # locale passages first, so the cut to k keeps them
            unique.setdefault(passage.id, passage)
        return sorted(list(unique.values())[:k], key=lambda p: p.score, reverse=True)

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """Passages by chunk id, in the order asked; ids no longer stored are left out."""
        if not ids:
            return []
        with _storage("reading guidelines"):
            got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        found = {
            i: _passage(i, doc, meta, None)
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [found[i] for i in ids if i in found]

    def add_chunks(self, records: Sequence[ChunkRecord]) -> None:
        """Embed and store records (upsert: re-adding the same chunk id replaces it)."""
        if not records:
            return
        with _storage("storing guidelines"):
            vectors = self._ef([r.embedded_text for r in records])
            self._collection.upsert(
                ids=[r.id for r in records],
                embeddings=vectors,
                documents=[r.text for r in records],
                metadatas=[r.metadata() for r in records],
            )

    def delete_source(self, source: str) -> int:
        """Remove every chunk of one source; returns how many were removed."""
        with _storage(f"removing {source}"):
            ids = self._collection.get(where={"source": source}, include=[])["ids"]
            if ids:
                self._collection.delete(ids=ids)
        return len(ids)

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
        offset = 0
        while True:
            page = self._collection.get(include=include, where=where, limit=_PAGE, offset=offset)
            yield page
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def _query(self, vector: Any, k: int, where: dict[str, Any] | None) -> list[Passage]:
        result = self._collection.query(
            query_embeddings=vector,
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            _passage(i, doc, meta, dist)
            for i, doc, meta, dist in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
        ]


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
