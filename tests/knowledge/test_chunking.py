"""Chunking: heading paths, sizes, and what is never a heading."""

from __future__ import annotations

import pytest

from core.settings import SAMPLE_KIT
from knowledge.chunking import (
    MAX_WORDS,
    MIN_WORDS,
    Section,
    chunk_markdown,
    chunk_text,
    size_sections,
    split_long,
    split_sections,
    word_count,
)
from knowledge.ingest import split_front_matter


def words(n: int, word: str = "coffee") -> str:
    return " ".join([word] * n)


def test_heading_paths_follow_the_outline():
    doc = "# Voice\nintro\n## Emoji\nat most two\n### On LinkedIn\none\n## Hashtags\nthree\n# Rules\nbe kind"
    sections = split_sections(doc)
    assert [(s.path, s.text) for s in sections] == [
        (("Voice",), "intro"),
        (("Voice", "Emoji"), "at most two"),
        (("Voice", "Emoji", "On LinkedIn"), "one"),
        (("Voice", "Hashtags"), "three"),
        (("Rules",), "be kind"),
    ]
    chunks = chunk_markdown(doc, min_words=1)
    assert [c.heading for c in chunks] == [
        "Voice",
        "Voice › Emoji",
        "Voice › Emoji › On LinkedIn",
        "Voice › Hashtags",
        "Rules",
    ]


def test_what_is_not_a_heading():
    doc = (
        "# Title\n"
        "#ad must open the post\n"  # no space after '#': a hashtag, not a heading
        "```\n# inside a fence\n```\n"
        "<!-- ## commented-out section -->\n"
        "text"
    )
    sections = split_sections(doc)
    assert [s.path for s in sections] == [("Title",)]
    assert "#ad must open the post" in sections[0].text
    assert "# inside a fence" in sections[0].text
    assert "commented-out" not in sections[0].text


def test_setext_headings_and_title_cleanup():
    doc = "Brand **voice**\n=============\nwarm\n\n[Emoji](https://x.example) `policy`\n---\nfew\n\n- item\n---\n"
    sections = split_sections(doc)
    assert [s.path for s in sections] == [("Brand voice",), ("Brand voice", "Emoji policy")]
    assert "- item" in sections[1].text  # a list item is never underlined into a heading


def test_long_section_is_split_on_paragraphs_under_the_same_heading():
    paragraphs = [words(120, f"p{i}") for i in range(6)]  # 720 words
    chunks = chunk_markdown("# Rules\n## Claims\n" + "\n\n".join(paragraphs))
    assert len(chunks) >= 3
    assert all(c.heading == "Rules › Claims" for c in chunks)
    assert all(c.words <= MAX_WORDS for c in chunks)
    assert sum(c.words for c in chunks) == 720
    # Paragraphs are never cut in the middle.
    assert all(part.strip() in paragraphs for c in chunks for part in c.text.split("\n\n"))


def test_one_enormous_paragraph_is_cut_on_sentences_then_words():
    sentence = words(30, "bean") + "."
    parts = split_long(" ".join([sentence] * 30), max_words=100)  # 900 words, one paragraph
    assert all(word_count(p) <= 100 for p in parts)
    assert sum(word_count(p) for p in parts) == 900
    assert all(p.endswith(".") for p in parts)
    assert all(word_count(p) <= 50 for p in split_long(words(400), max_words=50))


def test_short_sections_are_packed_under_their_common_heading():
    doc = f"# Voice\n## Emoji\n{words(30)}\n## Hashtags\n{words(30)}\n## Style\n{words(30)}"
    (chunk,) = chunk_markdown(doc)
    assert chunk.heading == "Voice › Emoji · Hashtags · Style"
    assert chunk.text.startswith("**Emoji**\n")
    assert "\n\n**Hashtags**\n" in chunk.text


def test_a_short_intro_joins_its_first_child_and_a_short_tail_joins_its_predecessor():
    doc = f"# Platforms\n{words(20)}\n## LinkedIn\n{words(150)}\n## X\n{words(150)}\n## Threads\n{words(10)}"
    chunks = chunk_markdown(doc)
    assert [c.heading for c in chunks] == ["Platforms › LinkedIn", "Platforms › X · Threads"]
    # Packed sections keep their title as a bold line: **LinkedIn**, **X**, **Threads**.
    assert [c.words for c in chunks] == [20 + 1 + 150, 1 + 150 + 1 + 10]


def test_plain_text_has_paragraphs_but_no_headings():
    text = "# not a heading in a .txt file\n\n" + "\n\n".join(words(200, f"w{i}") for i in range(3))
    chunks = chunk_text(text)
    assert all(c.heading == "" for c in chunks)
    assert chunks[0].text.startswith("# not a heading")
    assert sum(c.words for c in chunks) == 8 + 600


def test_empty_input_and_bad_sizes():
    assert chunk_markdown("") == []
    assert chunk_markdown("# Only a heading\n\n## And another\n") == []
    assert chunk_text("  \n\n ") == []
    with pytest.raises(ValueError):
        size_sections([Section((), "x")], min_words=10, max_words=5)


def test_sample_kit_chunks_are_sized_for_e5():
    chunks = []
    for path in sorted(SAMPLE_KIT.rglob("*.md")):
        _, body = split_front_matter(path.read_text(encoding="utf-8"))
        chunks += chunk_markdown(body)
    assert 25 <= len(chunks) <= 40
    assert all(MIN_WORDS <= c.words <= MAX_WORDS for c in chunks)
    assert all(c.heading for c in chunks)


def test_closing_hashes_unclosed_comments_and_giant_words():
    doc = "## Emoji ##\nfew\n# C#\nsharp\n<!-- note --> kept <!-- never closed\n## Not hidden\ntext"
    sections = split_sections(doc)
    assert [s.path for s in sections] == [("Emoji",), ("C#",), ("C#", "Not hidden")]
    assert "kept <!-- never closed" in sections[1].text  # an unclosed comment stays as text
    # A "word" of 100k characters (a pasted data: URI) is cut instead of becoming one chunk.
    parts = split_long("data:image/png;base64," + "A" * 100_000, max_words=MAX_WORDS)
    assert len(parts) > 20 and all(len(p) <= MAX_WORDS * 12 for p in parts)
