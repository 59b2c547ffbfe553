"""Chunking: heading paths, sizes, and what is never a heading."""

from __future__ import annotations

import pytest

from core.settings import SAMPLE_KIT
from knowledge.chunking import (
    MAX_WORDS,
    Section,
    chunk_markdown,
    chunk_sections,
    chunk_text,
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
    chunks = chunk_markdown(doc)
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


def test_short_sibling_sections_stay_one_chunk_each_and_cite_one_section():
    doc = (
        "# Per-network notes\nHow each network reads us.\n"
        "## LinkedIn\nLonger posts, no emoji, one link.\n"
        "## X\nUnder 280 characters, one hashtag.\n"
        "## Instagram\nAlt text on every image.\n"
        "### Stories\nThree frames at most."
    )
    chunks = chunk_markdown(doc)
    assert [(c.heading, c.text) for c in chunks] == [
        ("Per-network notes", "How each network reads us."),
        ("Per-network notes › LinkedIn", "Longer posts, no emoji, one link."),
        ("Per-network notes › X", "Under 280 characters, one hashtag."),
        ("Per-network notes › Instagram", "Alt text on every image."),
        ("Per-network notes › Instagram › Stories", "Three frames at most."),
    ]
    # The X chunk is about X alone: nothing of the LinkedIn notes travels with it.
    (x,) = [c for c in chunks if c.heading.endswith("› X")]
    assert "LinkedIn" not in x.heading + x.text


def test_only_an_oversized_section_is_split_and_its_small_neighbours_are_untouched():
    doc = (
        f"# Voice\n## Emoji\n{words(10)}\n## Claims\n"
        + "\n\n".join(words(150, f"p{i}") for i in range(4))
        + f"\n## Hashtags\n{words(5)}"
    )
    chunks = chunk_markdown(doc, max_words=300)
    assert [c.heading for c in chunks] == [
        "Voice › Emoji",
        *["Voice › Claims"] * 2,  # 600 words in two balanced parts of at most 300
        "Voice › Hashtags",
    ]
    assert (chunks[0].words, chunks[-1].words) == (10, 5)
    assert [c.words for c in chunks[1:3]] == [300, 300]


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
        chunk_sections([Section((), "x")], max_words=0)


def test_sample_kit_has_one_chunk_per_section_each_sized_for_e5():
    chunks, sections = [], []
    for path in sorted(SAMPLE_KIT.rglob("*.md")):
        _, body = split_front_matter(path.read_text(encoding="utf-8"))
        chunks += chunk_markdown(body)
        sections += split_sections(body)
    assert [c.heading for c in chunks] == [" › ".join(s.path) for s in sections]
    assert all(0 < c.words <= MAX_WORDS for c in chunks)
    assert all(c.heading for c in chunks)


def test_closing_hashes_unclosed_comments_and_giant_words():
    doc = "## Emoji ##\nfew\n# C#\nsharp\n<!-- note --> kept <!-- never closed\n## Not hidden\ntext"
    sections = split_sections(doc)
    assert [s.path for s in sections] == [("Emoji",), ("C#",), ("C#", "Not hidden")]
    assert "kept <!-- never closed" in sections[1].text  # an unclosed comment stays as text
    # A "word" of 100k characters (a pasted data: URI) is cut instead of becoming one chunk.
    parts = split_long("data:image/png;base64," + "A" * 100_000, max_words=MAX_WORDS)
    assert len(parts) > 20 and all(len(p) <= MAX_WORDS * 12 for p in parts)
