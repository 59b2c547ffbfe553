"""Builders for PDF, Word and HTML test documents, made on the fly (no binary fixtures)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)


def _pdf_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return "(" + escaped.encode("latin-1", "replace").decode("latin-1") + ")"


def make_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    bookmarks: list[tuple[str, int, int]] = (),  # (title, page index, level 1..)
    password: str | None = None,
) -> Path:
    """A PDF whose pages show the given lines in Helvetica (latin-1 text only)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        commands = ["BT", "/F1 11 Tf", "14 TL", "56 740 Td"]
        for line in lines:
            commands.append(f"{_pdf_string(line)} Tj T*")
        commands.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(commands).encode("latin-1", "replace"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    parents: dict[int, object] = {}
    for title, page_index, level in bookmarks:
        parent = parents.get(level - 1)
        parents[level] = writer.add_outline_item(title, page_index, parent=parent)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        writer.write(out)
    return path


def make_docx(path: Path, blocks: list[tuple[str, object]], *, language: str = "") -> Path:
    """blocks: ("h1".."h9" | "title" | "p" | "bullet", text) or ("table", [[cells]…])."""
    import docx

    document = docx.Document()
    for kind, value in blocks:
        if kind == "title":
            document.add_heading(str(value), level=0)
        elif kind.startswith("h"):
            document.add_heading(str(value), level=int(kind[1:]))
        elif kind == "bullet":
            document.add_paragraph(str(value), style="List Bullet")
        elif kind == "table":
            rows = list(value)  # type: ignore[arg-type]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(str(value))
    if language:
        document.core_properties.language = language
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
