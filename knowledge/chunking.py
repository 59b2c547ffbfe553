"""Chunking: Markdown and plain text cut into heading-labelled passages worth embedding."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

SEPARATOR = " › "
MIN_WORDS = 80
# e5 models read 512 tokens; 350 words of French or English stays under that.
MAX_WORDS = 350

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BLOCK_START = re.compile(r"^\s*(?:[-*+>|]|\d+[.)])\s")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|__|\*|`")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Section:
    """The text under one heading, before sizing; `path` runs from the top heading down."""

    path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Chunk:
    heading: str  # heading path, e.g. "Voice › Emoji"; "" when the text has no heading
    text: str

    @property
    def words(self) -> int:
        return word_count(self.text)


def word_count(text: str) -> int:
    return len(text.split())


def chunk_markdown(
    text: str, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> list[Chunk]:
    """Split Markdown by headings, then size the sections (see `size_sections`)."""
    return size_sections(split_sections(text), min_words=min_words, max_words=max_words)


def chunk_text(text: str, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[Chunk]:
    """Plain text has no headings (a line starting with "# " is just text), only paragraphs."""
    return size_sections([Section((), text.strip())], min_words=min_words, max_words=max_words)


def split_sections(markdown: str) -> list[Section]:
    """Sections in document order, ATX (`## Title`) and setext (`Title\\n---`) headings alike.

    Lines inside fenced code blocks are never headings; HTML comments are authoring notes
    and are dropped.
    """
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    fence: str | None = None

    def flush() -> None:
        body = "\n".join(lines).strip()
        lines.clear()
        if body:
            sections.append(Section(tuple(title for _, title in stack if title), body))

    def open_heading(level: int, title: str) -> None:
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, _clean_title(title)))

    for line in _COMMENT.sub("", markdown).splitlines():
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            lines.append(line)
        elif marker:
            fence = marker.group(1)
            lines.append(line)
        elif atx := _ATX.match(line):
            open_heading(len(atx.group(1)), _ATX_CLOSING.sub("", atx.group(2) or ""))
        elif (underline := _SETEXT.match(line)) and _is_setext_title(lines):
            title = lines.pop()
            open_heading(1 if underline.group(1)[0] == "=" else 2, title)
        else:
            lines.append(line)
    flush()
    return sections


def size_sections(
    sections: Iterable[Section], *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> list[Chunk]:
    """Turn sections into chunks of roughly min_words..max_words.

    Long sections are cut on paragraphs (then lines, sentences, words). Short neighbours are
    packed together under their common heading so a two-line section does not become a
    passage too thin to retrieve; each packed section keeps its own title as a bold line.
    """
    if not 0 < min_words <= max_words:
        raise ValueError("need 0 < min_words <= max_words")
    pieces = [
        Section(section.path, part)
        for section in sections
        if section.text.strip()
        for part in split_long(section.text, max_words)
    ]
    groups: list[list[Section]] = []
    group: list[Section] = []

    def emit() -> None:
        if not group:
            return
        size = _words(group)
        if size < min_words and groups and _words(groups[-1]) + size <= max_words:
            groups[-1].extend(group)
        else:
            groups.append(list(group))
        group.clear()

    for piece in pieces:
        if group and _words(group) + word_count(piece.text) > max_words:
            emit()
        group.append(piece)
        if _words(group) >= min_words:
            emit()
    emit()
    return [_merge(g) for g in groups]


def split_long(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """Cut text into balanced parts of at most max_words, preferring paragraph boundaries."""
    text = text.strip()
    total = word_count(text)
    if total <= max_words:
        return [text] if text else []
    units = _units(text, max_words, _SPLITTERS)
    target = total / math.ceil(total / max_words)
    parts: list[list[tuple[str, str]]] = [[]]
    for joiner, unit in units:
        size, extra = sum(word_count(u) for _, u in parts[-1]), word_count(unit)
        # Start a new part when this unit would overflow, or lands us further past the target.
        if parts[-1] and (size + extra > max_words or size + extra / 2 > target):
            parts.append([])
        parts[-1].append((joiner, unit))
    return [_join(part) for part in parts]


# How to cut a unit that is still too long: paragraphs, then lines, sentences, words.
_SPLITTERS: list[tuple[str, Callable[[str], list[str]]]] = [
    ("\n\n", _PARAGRAPH_BREAK.split),
    ("\n", str.splitlines),
    (" ", _SENTENCE_END.split),
    (" ", str.split),
]


def _units(
    text: str, max_words: int, splitters: list[tuple[str, Callable[[str], list[str]]]]
) -> list[tuple[str, str]]:
    """(joiner, unit) pairs: the joiner is what glued the unit to the previous one."""
    joiner, split = splitters[0]
    out: list[tuple[str, str]] = []
    for raw in split(text):
        unit = raw.strip()
        if not unit:
            continue
        if word_count(unit) > max_words and len(splitters) > 1:
            sub = _units(unit, max_words, splitters[1:])
            out.append((joiner, sub[0][1]))
            out.extend(sub[1:])
        else:
            out.append((joiner, unit))
    return out


def _join(part: list[tuple[str, str]]) -> str:
    return "".join(joiner + unit if i else unit for i, (joiner, unit) in enumerate(part))


def _words(group: list[Section]) -> int:
    return sum(word_count(s.text) for s in group)


def _merge(group: list[Section]) -> Chunk:
    """One chunk from packed sections, headed by their common path plus the packed titles."""
    common = _common_prefix([s.path for s in group])
    blocks, titles, previous = [], [], None
    for section in group:
        rest = section.path[len(common) :]
        if rest and section.path != previous:
            blocks.append(f"**{SEPARATOR.join(rest)}**\n{section.text}")
            titles += [] if rest[0] in titles else [rest[0]]
        else:
            blocks.append(section.text)
        previous = section.path
    heading = SEPARATOR.join([*common, " · ".join(titles)] if titles else common)
    return Chunk(heading, "\n\n".join(blocks))


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    prefix = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(prefix), len(path)) and prefix[n] == path[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def _is_setext_title(lines: list[str]) -> bool:
    """Only a one-line paragraph that is not a list item, quote or table row can be underlined."""
    if not lines or not lines[-1].strip() or _BLOCK_START.match(lines[-1]):
        return False
    return len(lines) == 1 or not lines[-2].strip()


def _clean_title(title: str) -> str:
    return " ".join(_EMPHASIS.sub("", _LINK.sub(r"\1", title)).split())
