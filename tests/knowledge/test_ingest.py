"""Ingestion on small kits: per-file errors, locale and kind detection, batching, prune, resume."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.errors import ValidationFailed
from core.settings import Settings
from knowledge import ingest as ingest_module
from knowledge.ingest import content_hash, detect_kind, detect_locale, ingest
from knowledge.store import ChunkRecord, KnowledgeStore


@pytest.fixture
def store(tmp_path) -> KnowledgeStore:
    return KnowledgeStore(Settings(_env_file=None, plume_home=tmp_path / "home"))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_bad_files_are_reported_one_by_one_and_the_rest_is_ingested(store, tmp_path):
    kit = tmp_path / "kit"
    write(kit / "voice.md", "# Voice\nWarm and precise.")
    write(kit / "latin1.md", "# Règles\nPas cher.".encode("latin-1"))
    write(kit / "front.md", "---\nlocale: [fr\n---\n# Broken\ntext")
    write(kit / "japanese.md", "---\nlocale: ja\n---\n# 声\ntext")
    write(kit / "empty.md", "---\nkind: rules\n---\n\n")
    write(kit / "brand.yaml", "name: Acme\n")  # not a guideline: walking a folder skips it
    pdf = write(tmp_path / "deck.pdf", b"%PDF-1.7")  # a header and nothing else
    keynote = write(tmp_path / "deck.key", b"PK\x03\x04")

    report = ingest(store, [kit, pdf, keynote, tmp_path / "missing"])

    assert report.added == ["voice.md"]
    errors = {Path(path).name: message for path, message in report.errors}
    assert errors.pop("front.md").startswith("malformed front matter: ")
    assert errors.pop("deck.pdf").startswith("not a readable PDF (")
    assert errors == {
        "latin1.md": "not UTF-8 text (byte 0xe8 at offset 3)",
        "japanese.md": "front matter locale 'ja' is not supported (use one of: en, fr, de, es, it, pt, nl)",
        "empty.md": "no text to index",
        "deck.key": "unsupported file type '.key' "
        "(supported: .md, .markdown, .txt, .pdf, .docx, .html, .htm)",
        "missing": "no such file or folder",
    }
    assert store.count() == 1
    assert "error" in report.summary() and not report.ok


def test_locale_and_kind_come_from_front_matter_names_and_folders(store, tmp_path, monkeypatch):
    kit = tmp_path / "kit"
    write(kit / "fr" / "regles.md", "# Règles\nVouvoyez toujours.")
    write(kit / "voice.fr.md", "# Voix\nChaleureuse.")
    write(kit / "platform-notes.md", "---\nlocale: de-DE\n---\n# LinkedIn\nKurz und klar.")
    write(kit / "misc.md", "---\nkind: platform notes\n---\n# Misc\nShort.")
    write(kit / "notes.txt", "# not a heading\n\nPlain text notes.")
    write(kit / "_draft.md", "# Draft\nnot ready")
    write(kit / ".obsidian" / "cache.md", "# Cache\nnot a guideline")
    monkeypatch.setattr(ingest_module, "BATCH", 2)
    calls = []

    report = ingest(
        store, [kit], progress=lambda done, total, label: calls.append((done, total, label))
    )

    assert sorted(report.added) == [
        "fr/regles.md",
        "misc.md",
        "notes.txt",
        "platform-notes.md",
        "voice.fr.md",
    ]
    assert [(done, total) for done, total, _ in calls] == [(0, 5), (2, 5), (4, 5), (5, 5)]
    seen = {r.source: (r.locale, r.kind, r.heading) for r in store.records()}
    assert seen == {
        "fr/regles.md": ("fr", "rules", "Règles"),
        "voice.fr.md": ("fr", "voice", "Voix"),
        "platform-notes.md": ("de", "platforms", "LinkedIn"),
        "misc.md": ("en", "platforms", "Misc"),
        "notes.txt": ("en", "general", ""),
    }
    assert report.chunks == 5 and report.ok


@pytest.mark.parametrize(
    ("meta", "name", "folders", "locale"),
    [
        ({"locale": "FR_ca"}, "voice.md", (), "fr"),
        ({}, "voice.es.md", ("fr",), "es"),
        ({}, "voice.md", ("kit", "it", "drafts"), "it"),
        ({}, "voice.final.md", ("brand",), "en"),
    ],
)
def test_detect_locale(meta, name, folders, locale):
    assert detect_locale(meta, name, folders) == locale


def test_detect_kind():
    assert detect_kind({}, Path("Règles-de-publication.md")) == "rules"
    assert detect_kind({}, Path("glossaire.fr.md")) == "glossary"
    assert detect_kind({}, Path("Exemples.md")) == "examples"
    assert detect_kind({}, Path("about-us.md")) == "general"
    assert detect_kind({"kind": "Voice"}, Path("x.md")) == "voice"
    with pytest.raises(ValidationFailed, match="kind 'memes' is unknown"):
        detect_kind({"kind": "memes"}, Path("x.md"))


def test_an_interrupted_source_is_ingested_again(store, tmp_path):
    path = write(tmp_path / "kit" / "voice.md", "# Voice\nWarm.")
    partial = ChunkRecord(
        source="voice.md",
        index=0,
        heading="Voice",
        text="Warm.",
        locale="en",
        kind="voice",
        content_hash=content_hash(path),
        total=2,
    )
    store.add_chunks([partial])  # as if the run died before chunk 1 was stored
    assert store.sources() == {"voice.md": ""}

    report = ingest(store, [tmp_path / "kit"])

    assert report.updated == ["voice.md"]
    assert store.sources() == {"voice.md": content_hash(path)}


def test_prune_needs_every_path_to_exist(store, tmp_path):
    kit = tmp_path / "kit"
    write(kit / "a.md", "# A\nalpha")
    write(kit / "b.md", "# B\nbeta")
    ingest(store, [kit])
    (kit / "b.md").unlink()

    report = ingest(store, [kit, tmp_path / "typo"], prune=True)
    assert (
        report.removed == []
        and ("--prune", "skipped because a path above is missing") in report.errors
    )
    assert set(store.sources()) == {"a.md", "b.md"}

    report = ingest(store, [kit], prune=True)
    assert report.removed == ["b.md"] and report.skipped == ["a.md"]
    assert set(store.sources()) == {"a.md"}


def test_two_files_with_the_same_source_name(store, tmp_path):
    write(tmp_path / "one" / "voice.md", "# Voice\none")
    write(tmp_path / "two" / "voice.md", "# Voice\ntwo")
    report = ingest(store, [tmp_path / "one", tmp_path / "two"])
    assert report.added == ["voice.md"]
    assert report.errors == [
        (str(tmp_path / "two" / "voice.md"), f"same source name as {tmp_path / 'one' / 'voice.md'}")
    ]


def test_a_kit_chunked_the_old_packed_way_is_rechunked_once_per_section(store, tmp_path):
    path = write(
        tmp_path / "kit" / "platforms.md",
        "# Per-network notes\n## LinkedIn\nLonger posts, one link.\n## X\nOne hashtag at most.\n",
    )
    old_digest = hashlib.sha256(b"2" + path.read_bytes()).hexdigest()  # pipeline 2 packed
    packed = ChunkRecord(source="platforms.md", index=0, heading="Per-network notes › LinkedIn · X",
                         text="**LinkedIn**\nLonger posts, one link.\n\n**X**\nOne hashtag at most.",
                         locale="en", kind="platforms", content_hash=old_digest, total=1)  # fmt: skip
    store.add_chunks([packed])

    report = ingest(store, [tmp_path / "kit"])
    assert report.updated == ["platforms.md"] and report.chunks == 2
    assert [(r.heading, r.text) for r in store.records()] == [
        ("Per-network notes › LinkedIn", "Longer posts, one link."),
        ("Per-network notes › X", "One hashtag at most."),
    ]
    (x,) = store.search("How many hashtags on X?", k=1, locale="en")
    assert x.heading == "Per-network notes › X"  # cites X alone, never the LinkedIn notes
    assert ingest(store, [tmp_path / "kit"]).skipped == ["platforms.md"]
