"""Readers: one per file format, each turning a brand-kit file into text with its heading outline.

Markdown and plain text are chunked from their text; PDF, Word and HTML readers build the
heading outline themselves (`Document.sections`), so nothing in their text is ever re-read as
Markdown syntax. Every reader raises ValidationFailed with a message meant for the person who
owns the file; ingest turns it into a per-file error.
"""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from core.errors import ValidationFailed
from knowledge.chunking import Section, split_sections

MB = 1024 * 1024
# Guidelines are prose: a text file above 20 MB is an export or a log, not a style guide, and
# would take hours to embed. PDF and Word files carry images, so their limit is on the file
# (100 MB) and on what is inside: pages, and the size of the unpacked Word XML (a zip bomb
# otherwise unpacks to gigabytes).
MAX_TEXT_BYTES = 20 * MB
MAX_PACKED_BYTES = 100 * MB
MAX_PDF_PAGES = 2000
MAX_DOCX_XML_BYTES = 50 * MB
PACKED = (".pdf", ".docx")


@dataclass
class Document:
    """What a reader returns: the text, its outline when the reader builds one, and metadata."""

    text: str
    markdown: bool = True  # chunk `text` as Markdown (else as plain text) when `sections` is None
    meta: dict[str, Any] = field(default_factory=dict)  # front matter: locale, kind…
    sections: list[Section] | None = None  # the outline, for formats that know their headings
    locale_hint: str | None = None  # a language the file declares (HTML lang=…, Word language)

    def outline(self) -> list[Section]:
        if self.sections is not None:
            return self.sections
        if self.markdown:
            return split_sections(self.text)
        text = self.text.strip()
        return [Section((), text)] if text else []


Reader = Callable[[Path], Document]


def check_size(path: Path) -> None:
    """Refuse files too big to be guidelines before reading a byte of them."""
    suffix = path.suffix.lower()
    limit = MAX_PACKED_BYTES if suffix in PACKED else MAX_TEXT_BYTES
    size = path.stat().st_size
    if size > limit:
        raise ValidationFailed(
            f"file is {size / MB:.1f} MB; {suffix or 'text'} files are limited to "
            f"{limit // MB} MB (split it, or keep only the guidelines)"
        )


# --- Markdown and plain text ------------------------------------------------------------------


def read_markdown(path: Path) -> Document:
    meta, body = split_front_matter(read_utf8(path))
    return Document(body, markdown=True, meta=meta)


def read_text(path: Path) -> Document:
    meta, body = split_front_matter(read_utf8(path))
    return Document(body, markdown=False, meta=meta)


def read_utf8(path: Path) -> str:
    return path.read_bytes().decode("utf-8").removeprefix("\ufeff")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML between a first line `---` and the next `---` (or `...`); absent means {}."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next(
        (i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "...")), None
    )
    if end is None:
        return {}, text  # a lone `---` is a thematic break, not front matter
    try:
        meta = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"malformed front matter: {exc}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValidationFailed("front matter must be a YAML mapping (key: value lines)")
    return meta, "".join(lines[end + 1 :])


# --- Outline builder shared by PDF, Word and HTML ---------------------------------------------


class Outline:
    """Headings and text in document order, collected into Sections with heading paths."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._stack: list[tuple[int, str]] = []
        self._lines: list[str] = []

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())[:200]
        if not title:
            return
        self.flush()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))

    def text(self, line: str) -> None:
        self._lines.append(line)

    def flush(self) -> None:
        body = "\n".join(self._lines).strip()
        self._lines.clear()
        if body:
            path = tuple(title for _, title in self._stack)
            body = re.sub(r"\n{3,}", "\n\n", body)
            self.sections.append(Section(path, body))

    def done(self) -> list[Section]:
        self.flush()
        return self.sections


# --- PDF --------------------------------------------------------------------------------------


def read_pdf(path: Path | BinaryIO) -> Document:
    """Text page by page; headings from the PDF's bookmarks, else "Page N". Also reads an open binary
    stream (a PDF fetched from a brief's link, knowledge.sources)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    with _quiet("pypdf"):
        try:
            reader = PdfReader(path)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")  # many PDFs only restrict printing or copying
                except (DependencyError, NotImplementedError):
                    opened = False
                if not opened:
                    raise ValidationFailed(
                        "the PDF is encrypted: save or export a copy without a password "
                        "and ingest that"
                    )
            pages = len(reader.pages)
            if pages > MAX_PDF_PAGES:
                raise ValidationFailed(
                    f"the PDF has {pages} pages; at most {MAX_PDF_PAGES} are read "
                    "(split it, or keep only the guidelines)"
                )
            marks = _pdf_bookmarks(reader)
            outline = Outline()
            for number, page in enumerate(reader.pages):
                text = _pdf_page_text(page)
                if not marks:
                    outline.heading(1, f"Page {number + 1}")
                    outline.text(text)
                    continue
                for level, title in marks.get(number, []):
                    # Split the page where the bookmarked title is printed, when it is.
                    start, end = _find_title(text, title)
                    outline.text(text[:start])
                    text = text[end:]
                    outline.heading(level, title)
                outline.text(text)
            sections = outline.done()
        except ValidationFailed:
            raise
        except Exception as exc:  # pypdf raises many types on damaged files
            raise ValidationFailed(f"not a readable PDF ({_short(exc)})") from None
    if not sections:
        raise ValidationFailed(
            "no text found in the PDF (a scan or images only? export it with its text)"
        )
    return Document("\n\n".join(s.text for s in sections), sections=sections)


def _pdf_page_text(page: Any) -> str:
    text = page.extract_text() or ""
    # Words hyphenated across a line break are joined; other line breaks are kept.
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text.replace("\r\n", "\n"))


def _pdf_bookmarks(reader: Any) -> dict[int, list[tuple[int, str]]]:
    """{page index: [(level, title)…]} from the outline; damaged bookmarks are skipped."""
    found: dict[int, list[tuple[int, str]]] = {}

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = str(item.title or "").strip()
            except Exception:
                continue
            if page is not None and page >= 0 and title:
                found.setdefault(page, []).append((level, title))

    try:
        walk(reader.outline, 1)
    except Exception:
        return {}
    return found


def _find_title(text: str, title: str) -> tuple[int, int]:
    """Where `title` is printed in the page text (whitespace-insensitive), else (0, 0)."""
    words = title.split()[:30]
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, text, re.IGNORECASE) if words else None
    return (match.start(), match.end()) if match else (0, 0)


# --- Word .docx -------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(
    r"^(?:heading|titre|überschrift|título|titulo|titolo|kop)\s*(\d)$", re.IGNORECASE
)
_TITLE_STYLE = {"title", "titre", "titel", "título", "titulo", "titolo"}


def read_docx(path: Path) -> Document:
    """Paragraphs and tables in order; "Heading N" (and "Title") paragraph styles are headings."""
    try:
        with zipfile.ZipFile(path) as archive:
            body = archive.getinfo("word/document.xml")
    except zipfile.BadZipFile:
        raise ValidationFailed(
            "not a readable Word .docx file (damaged, or an old .doc: save it as .docx)"
        ) from None
    except KeyError:
        raise ValidationFailed("not a Word .docx file (no word/document.xml inside)") from None
    if body.file_size > MAX_DOCX_XML_BYTES:
        raise ValidationFailed(
            f"the document's text unpacks to {body.file_size / MB:.0f} MB; at most "
            f"{MAX_DOCX_XML_BYTES // MB} MB are read"
        )

    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        outline = Outline()
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in _docx_rows(block):
                    outline.text(row)
                outline.text("")
                continue
            text = block.text.strip()
            if not text:
                outline.text("")
                continue
            level = _docx_heading_level(block)
            if level is not None:
                outline.heading(level, text)
            elif _docx_is_list_item(block):
                outline.text(f"- {text}")
            else:
                outline.text(text)
                outline.text("")
        sections = outline.done()
        language = document.core_properties.language or None
    except ValidationFailed:
        raise
    except Exception as exc:
        raise ValidationFailed(f"not a readable Word .docx file ({_short(exc)})") from None
    return Document("\n\n".join(s.text for s in sections), sections=sections, locale_hint=language)


def _docx_heading_level(paragraph: Any) -> int | None:
    """Heading level from the style (or a style it is based on), or the outline level."""
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() in _TITLE_STYLE:
            return 0
        if match := _HEADING_STYLE.match(name):
            return int(match.group(1))
        style = style.base_style
    level = _outline_level(paragraph._p.pPr)
    return None if level is None else level + 1


def _outline_level(properties: Any) -> int | None:
    if properties is None:
        return None
    for child in properties:
        if child.tag.endswith("}outlineLvl"):
            value = next((v for k, v in child.attrib.items() if k.endswith("}val")), None)
            if value is not None and value.isdigit() and int(value) < 9:
                return int(value)
    return None


def _docx_is_list_item(paragraph: Any) -> bool:
    properties = paragraph._p.pPr
    if properties is not None and properties.numPr is not None:
        return True
    name = (paragraph.style.name or "") if paragraph.style is not None else ""
    return name.lower().startswith(("list", "liste"))


def _docx_rows(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:  # a merged cell repeats in every column it spans
                cells.append(text)
        if any(cells):
            yield "| " + " | ".join(cells) + " |"


# --- HTML -------------------------------------------------------------------------------------

_SKIPPED = {"script", "style", "nav", "noscript", "template", "svg", "head", "iframe", "object"}
_BLOCKS = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
    "pre", "ul", "ol", "dl", "dt", "dd", "table", "figure", "figcaption", "address",
    "details", "summary", "form", "fieldset", "body", "html",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_LANG = re.compile(rb"""<html[^>]*\slang\s*=\s*["']?\s*([A-Za-z_-]+)""", re.IGNORECASE)


def read_html(path: Path) -> Document:
    """Visible text of an HTML page; h1–h6 are headings, scripts, styles and menus are dropped."""
    raw = path.read_bytes()
    parser = _HTMLText()
    try:
        parser.feed(_defuse(decode_html(raw)))
        parser.close()
    except AssertionError as exc:  # html.parser's way of giving up on broken markup
        raise ValidationFailed(f"not readable HTML ({_short(exc)})") from None
    sections = parser.outline.done()
    lang = _LANG.search(raw[:4096])
    return Document(
        "\n\n".join(s.text for s in sections),
        sections=sections,
        locale_hint=lang.group(1).decode("ascii") if lang else None,
    )


def html_text(html: str) -> str:
    """The visible text of an HTML fragment (a feed item's summary), without its markup."""
    parser = _HTMLText()
    try:
        parser.feed(_defuse(html))
        parser.close()
    except AssertionError:
        return ""
    return "\n".join(s.text for s in parser.outline.done())


def decode_html(raw: bytes) -> str:
    """BOM, then a declared <meta charset>, then UTF-8, then Windows-1252 (what browsers do)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace").lstrip("\ufeff")
    declared = _CHARSET.search(raw[:4096])
    if declared:
        try:
            return raw.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _defuse(html: str) -> str:
    """Remove what html.parser rescans to the end of the input for every occurrence when it is
    never closed (quadratic: 1 MB of stray `<!--` took minutes): comments and CDATA sections
    are dropped here in one pass, and a `<` after the last `>` can only be text."""
    for opening, closing in (("<!--", "-->"), ("<![CDATA[", "]]>")):
        if opening not in html:
            continue
        kept, at = [], 0
        while (start := html.find(opening, at)) != -1:
            kept.append(html[at:start])
            end = html.find(closing, start + len(opening))
            at = len(html) if end == -1 else end + len(closing)  # unclosed: runs to the end
        kept.append(html[at:])
        html = "".join(kept)
    last = html.rfind(">")
    return html[: last + 1] + html[last + 1 :].replace("<", "&lt;")


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = Outline()
        self._skip: list[str] = []
        self._heading: tuple[int, list[str]] | None = None
        self._line: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip or tag in _SKIPPED:
            if tag in _SKIPPED:
                self._skip.append(tag)
            return
        if tag in _HEADINGS:
            self._end_line()
            self._heading = (_HEADINGS[tag], [])
        elif tag == "br":
            self._end_line()
        elif tag == "li":
            self._end_line()
            self._line.append("- ")
        elif tag in ("td", "th"):
            self._line.append(" | ")
        elif tag in ("tr", "hr") or tag in _BLOCKS:
            self._end_line(paragraph=tag not in ("tr",))
        if tag == "pre":
            self._pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skip and tag in ("br", "hr"):
            self._end_line(paragraph=tag == "hr")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            elif tag in self._skip:  # an inner tag was never closed
                del self._skip[self._skip.index(tag) :]
            return
        if tag in _HEADINGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            self.outline.heading(level, "".join(parts))
        elif tag in ("tr",):
            self._end_line()
        elif tag in _BLOCKS or tag == "li":
            self._end_line(paragraph=tag != "li")
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._heading is not None:
            self._heading[1].append(data)
            return
        if self._pre:
            lines = data.split("\n")
            self._line.append(lines[0])
            for line in lines[1:]:
                self._end_line()
                self._line.append(line)
        else:
            self._line.append(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self._end_line()

    def _end_line(self, *, paragraph: bool = False) -> None:
        line = "".join(self._line)
        self._line.clear()
        line = line if self._pre else " ".join(line.split())
        if line.startswith("| "):
            line = line + " |"
        if line.strip():
            self.outline.text(line)
        if paragraph:
            self.outline.text("")


# --- helpers ----------------------------------------------------------------------------------


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """pypdf logs a warning per damaged object; the per-file error says enough."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _short(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= 160 else message[:157] + "…"


# One reader per file type (lower-case suffix).
READERS: dict[str, Reader] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}
