"""Ingestion: brand-kit files read, chunked, embedded and stored idempotently, one reader per format."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import rules
from core.db import Database
from core.domain import LOCALES
from core.errors import ValidationFailed
from knowledge.chunking import chunk_sections
from knowledge.proposals import find_rules
from knowledge.readers import READERS, check_size, split_front_matter  # noqa: F401 (moved)
from knowledge.store import ChunkRecord, KnowledgeStore

# Part of every content hash: bump it when chunking or metadata change so the next ingest
# re-embeds every file instead of keeping chunks cut the old way.
PIPELINE_VERSION = "3"  # 3: one chunk per smallest section, none packed
BATCH = 32
DEFAULT_LOCALE = "en"
GENERAL = "general"

# Which kind of guideline a file holds, guessed from words in its name (accents stripped).
KIND_WORDS: dict[str, set[str]] = {
    kind: set(words.split())
    for kind, words in {
        "voice": "voice voix tone ton tonalite style stimme voz tono",
        "rules": "rules rule regles policy policies dos donts legal compliance claims regeln reglas "
        "recht normas",
        "glossary": "glossary glossaire terms terminology lexique vocabulary vocabulaire glossar "
        "glosario",
        "examples": "examples example exemples exemple samples beispiele ejemplos esempi",
        "platforms": "platforms platform plateformes networks reseaux redes kanale channels social "
        "linkedin instagram bluesky mastodon threads",
    }.items()
}
KINDS = (*KIND_WORDS, GENERAL)

# progress(chunks embedded so far, chunks to embed, source being embedded)
Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since the last ingest
    removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, what went wrong)
    proposals: list[rules.Rule] = field(default_factory=list)  # rules found, new to the store
    chunks: int = 0  # chunks embedded by this run
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.skipped)} unchanged",
            f"{len(self.removed)} removed",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} error{'s' if len(self.errors) > 1 else ''}")
        return f"{', '.join(parts)}: {self.chunks} chunks embedded in {self.seconds:.1f} s"


@dataclass(frozen=True)
class _File:
    path: Path
    source: str  # relative to the folder given, POSIX separators: the id users see in citations
    folders: tuple[str, ...]  # enclosing folder names, for locale detection


def ingest(
    store: KnowledgeStore,
    paths: Sequence[Path],
    *,
    progress: Progress | None = None,
    prune: bool = False,
    db: Database | None = None,
) -> IngestReport:
    """Bring the store in line with the files under `paths` (folders are walked recursively).

    Unchanged files are skipped, changed ones replace their old chunks, and with `prune`
    sources no longer present under `paths` are removed, so pass the whole kit. A file that
    cannot be read becomes a per-file error and keeps its previously stored chunks. A failing
    store or embeddings server raises (StorageError, LLMUnavailable): that is no one file's
    fault, and sources left half-stored are re-ingested by the next run.

    With `db`, the rules each file's prose states are stored as proposals for a human to
    review (core.rules); `report.proposals` holds the new ones. A file already indexed but
    never read for rules (a new database) is read for them too.
    """
    started = time.monotonic()
    report = IngestReport()
    files, complete = _collect(paths, report)
    stored = store.sources()
    if db is not None:
        with db.session() as session:
            scanned = rules.scanned(session)
    planned: list[ChunkRecord] = []
    found: list[tuple[str, str, str, list[rules.Finding]]] = []  # source, digest, locale, findings
    for file in files:
        try:
            check_size(file.path)
            digest = content_hash(file.path)
            unchanged = stored.get(file.source) == digest
            if unchanged and (db is None or scanned.get(file.source) == digest):
                report.skipped.append(file.source)
                continue
            records, findings = read(file.path, file.source, digest, folders=file.folders)
            found.append((file.source, digest, records[0].locale, findings))
        except Exception as exc:  # any reader failure stays a per-file error
            report.errors.append((str(file.path), _describe(exc)))
            continue
        if unchanged:
            report.skipped.append(file.source)
            continue
        planned += records
        (report.updated if file.source in stored else report.added).append(file.source)

    _embed(store, planned, replace=set(report.updated), progress=progress)
    report.chunks = len(planned)

    if prune:
        if complete:
            present = {file.source for file in files}
            for source in sorted(stored.keys() - present):
                store.delete_source(source)
                report.removed.append(source)
        else:
            report.errors.append(("--prune", "skipped because a path above is missing"))
    if db is not None:
        with db.session() as session:
            for source, digest, locale, findings in found:
                report.proposals += rules.record_guidelines(
                    session, source=source, digest=digest, locale=locale, findings=findings
                )
            for source in report.removed:
                rules.forget_source(session, source=source)
    report.seconds = time.monotonic() - started
    return report


def prepare(
    path: Path, source: str, digest: str, *, folders: Iterable[str] = ()
) -> list[ChunkRecord]:
    """Read and chunk one file into records ready to embed; raises on unreadable input."""
    return read(path, source, digest, folders=folders)[0]


def read(
    path: Path, source: str, digest: str, *, folders: Iterable[str] = ()
) -> tuple[list[ChunkRecord], list[rules.Finding]]:
    """One file's chunks ready to embed, and the rules its prose states."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValidationFailed(
            f"unsupported file type {path.suffix or path.name!r} (supported: {', '.join(READERS)})"
        )
    document = reader(path)
    locale = detect_locale(document.meta, path.name, tuple(folders), hint=document.locale_hint)
    kind = detect_kind(document.meta, path)
    sections = document.outline()
    chunks = chunk_sections(sections)
    if not chunks:
        raise ValidationFailed("no text to index")
    records = [
        ChunkRecord(
            source=source,
            index=i,
            heading=c.heading,
            text=c.text,
            locale=locale,
            kind=kind,
            content_hash=digest,
            total=len(chunks),
        )
        for i, c in enumerate(chunks)
    ]
    return records, find_rules(sections)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def detect_locale(
    meta: dict[str, Any], filename: str, folders: tuple[str, ...] = (), hint: str | None = None
) -> str:
    """Front matter `locale:`, else a name like `voice.fr.md`, else a folder like `fr/`, else the
    language the file declares (HTML `lang`, Word's language) when supported, else en.

    The folder wins over a declared language because page templates often say lang="en"
    whatever the text is written in.
    """
    if "locale" in meta:
        locale = _locale_code(str(meta["locale"]))
        if locale is None:
            raise ValidationFailed(
                f"front matter locale {meta['locale']!r} is not supported "
                f"(use one of: {', '.join(LOCALES)})"
            )
        return locale
    suffixes = Path(filename).suffixes
    if len(suffixes) >= 2 and (locale := _locale_code(suffixes[-2][1:])):
        return locale
    for folder in reversed(folders):
        if locale := _locale_code(folder):
            return locale
    if hint and (locale := _locale_code(hint)):
        return locale
    return DEFAULT_LOCALE


def detect_kind(meta: dict[str, Any], path: Path) -> str:
    """Front matter `kind:`, else a word of the file name (voice, règles, glossary…), else general."""
    if "kind" in meta:
        kind = _plain(str(meta["kind"])).replace(" notes", "").strip()
        for name, words in KIND_WORDS.items():
            if kind == name or kind in words:
                return name
        if kind == GENERAL:
            return GENERAL
        raise ValidationFailed(
            f"front matter kind {meta['kind']!r} is unknown (use one of: {', '.join(KINDS)})"
        )
    stem = path.name.split(".")[0]
    for word in re.split(r"[^a-z]+", _plain(stem)):
        for name, words in KIND_WORDS.items():
            if word in words:
                return name
    return GENERAL


def _embed(
    store: KnowledgeStore,
    records: list[ChunkRecord],
    *,
    replace: set[str],
    progress: Progress | None,
) -> None:
    """Embed in batches across files (fewer, fuller calls), clearing a changed file's old
    chunks just before its first new ones go in."""
    cleared: set[str] = set()
    if progress and records:  # the first batch can take a while: show the bar at once
        progress(0, len(records), records[0].source)
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        for source in dict.fromkeys(r.source for r in batch):
            if source in replace and source not in cleared:
                store.delete_source(source)
                cleared.add(source)
        store.add_chunks(batch)
        if progress:
            progress(start + len(batch), len(records), batch[-1].source)


def _collect(paths: Sequence[Path], report: IngestReport) -> tuple[list[_File], bool]:
    """Files to ingest, and whether every path given exists (pruning is unsafe otherwise).

    Walking a folder picks supported files only, skipping names that start with "." or "_"
    (brand.yaml and drafts stay out) and Word's "~$" lock files; a file named explicitly must
    be a supported type.
    """
    files: dict[str, _File] = {}
    complete = True

    def add(file: _File) -> None:
        if file.source in files:
            report.errors.append((str(file.path), f"same source name as {files[file.source].path}"))
        else:
            files[file.source] = file

    for root in map(Path, paths):
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if any(part.startswith((".", "_", "~$")) for part in relative.parts):
                    continue
                if path.is_file() and path.suffix.lower() in READERS:
                    add(
                        _File(
                            path, relative.as_posix(), (root.resolve().name, *relative.parts[:-1])
                        )
                    )
        elif root.is_file():
            if root.suffix.lower() in READERS:
                add(_File(root, root.name, (root.resolve().parent.name,)))
            else:
                report.errors.append(
                    (
                        str(root),
                        f"unsupported file type {root.suffix or root.name!r} "
                        f"(supported: {', '.join(READERS)})",
                    )
                )
        else:
            complete = False
            report.errors.append((str(root), "no such file or folder"))
    return list(files.values()), complete


def _locale_code(value: str) -> str | None:
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LOCALES else None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, ValidationFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
