"""Text brought in from files: an uploaded or given text file (UTF-8 or a UTF-16/32 BOM) and a Word
.docx (title + text, tables row by row; an official document's parts never read on air are set
aside by station.official), each refused with one line when it is not sound.

What comes out is checked against the bulletin limits (station.bulletins) before it is stored.
"""

from __future__ import annotations

import io

from ..exceptions import InputError
from .texts import MAX_TEXT_CHARS, MAX_TITLE_CHARS, check_text_length
from .texts import nfc as _nfc
from .official import Block, ImportedDocument, official_layout, table_row

MAX_DOCX_BYTES = 10 * 1024 * 1024
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024  # all members of the zip, as really decompressed
MAX_DOCX_MEMBERS = 2000
MAX_DOCX_XML_BYTES = 20 * 1024 * 1024  # one XML part (the parser holds it all); 100,000 characters need ~2 MB


def decode_text_file(raw: bytes, name: str) -> str:
    """The text of an uploaded or given file: UTF-8 (with or without BOM), or UTF-16/32 with a BOM.

    Anything else (cp1258, latin-1, TCVN3…) is refused: guessing would store mojibake."""
    import codecs

    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            break
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(f"Tệp không phải UTF-8: {name} (hãy lưu lại dưới dạng UTF-8)") from None
    if "\x00" in text:
        raise InputError(f"Tệp không phải văn bản UTF-8: {name}")
    return text


def import_docx(data: bytes) -> tuple[str, str]:
    """(title, text) of a .docx as `read_docx` finds them (what is never read on air left out)."""
    document = read_docx(data)
    return document.title, document.text


def read_docx(data: bytes) -> ImportedDocument:
    """A .docx as a bulletin: its title, the text to read, and what was dropped (see station.official).

    Tables are read row by row, cells separated by "; " (a pause, never a range dash). Raises
    InputError (one line) for anything that is not a sound .docx: not a zip, corrupt, too big once
    decompressed, XML with a DTD (entity bombs) or broken XML, or more text than a bulletin may have."""
    from lxml import etree

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    if not data:
        raise InputError("Tệp .docx trống")
    if len(data) > MAX_DOCX_BYTES:
        raise InputError(f"Tệp .docx lớn quá {MAX_DOCX_BYTES // (1024 * 1024)} MB")
    _check_docx_package(data)
    try:
        document = Document(io.BytesIO(data))
        blocks = _docx_blocks(document)
    except InputError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, etree.LxmlError, *zipfile_errors()) as exc:
        raise InputError("Không đọc được tệp: cần tệp Word .docx (không phải .doc cũ hay PDF)") from exc
    except Exception as exc:  # python-docx on a package it does not expect: still one line
        raise InputError("Tệp .docx hỏng hoặc không đúng định dạng Word") from exc
    if not any(line for block in blocks for line in block.lines):
        raise InputError("Tệp .docx không có chữ nào")
    imported = official_layout(blocks, max_title=MAX_TITLE_CHARS)
    check_text_length(imported.text)
    return imported


def zipfile_errors() -> tuple[type[BaseException], ...]:
    import zipfile
    import zlib

    return (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, OSError)


def _check_docx_package(data: bytes) -> None:
    """Open the zip ourselves first and read every member for real (headers can lie): refuse a
    package that decompresses past MAX_DOCX_UNPACKED_BYTES, a corrupt one, and XML with a DTD."""
    import zipfile

    not_docx = "Không đọc được tệp: cần tệp Word .docx (không phải .doc cũ hay PDF)"
    too_big = f"Tệp .docx giải nén ra quá {MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB: không nhập được"
    xml_too_big = (f"Tệp .docx có phần văn bản giải nén ra quá {MAX_DOCX_XML_BYTES // (1024 * 1024)} MB: "
                   "không nhập được")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile_errors() as exc:
        raise InputError(not_docx) from exc
    with package:
        members = package.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            raise InputError(f"Tệp .docx có quá nhiều phần ({len(members)}): không nhập được")
        if "word/document.xml" not in {m.filename for m in members}:
            raise InputError(not_docx)
        if sum(m.file_size for m in members) > MAX_DOCX_UNPACKED_BYTES:
            raise InputError(too_big)
        budget = MAX_DOCX_UNPACKED_BYTES
        for member in members:
            xml = member.filename.endswith((".xml", ".rels"))
            if xml and member.file_size > MAX_DOCX_XML_BYTES:
                raise InputError(xml_too_big)
            try:
                with package.open(member) as handle:
                    head, size = b"", 0
                    while True:
                        chunk = handle.read(64 * 1024)
                        if not chunk:
                            break
                        budget -= len(chunk)
                        size += len(chunk)
                        if budget < 0:
                            raise InputError(too_big)
                        if xml and size > MAX_DOCX_XML_BYTES:
                            raise InputError(xml_too_big)
                        if len(head) < 4096:
                            head += chunk[: 4096 - len(head)]
            except InputError:
                raise
            except zipfile_errors() as exc:
                raise InputError("Tệp .docx bị hỏng (không giải nén được)") from exc
            if xml and _has_dtd(head):
                raise InputError("Tệp .docx chứa khai báo DTD/ENTITY không được phép: không nhập được")


def _has_dtd(head: bytes) -> bool:
    """A DOCTYPE or ENTITY declaration at the top of an XML part (Word never writes one)."""
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
        probe = head.decode(encoding, errors="ignore").upper()
        if "<!DOCTYPE" in probe or "<!ENTITY" in probe:
            return True
    return False


def _docx_blocks(document) -> list[Block]:
    """The body in order: each paragraph (split at its line breaks) and each table (its rows, cells
    joined with "; "), so tables stay where they were in the document."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[Block] = []
    size = 0
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            block = Block(tuple(_nfc(part) for part in Paragraph(child, document).text.split("\n")))
        elif tag == "tbl":
            rows, cells_text = [], []
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = _nfc(cell.text)
                    if value and value not in cells:  # merged cells repeat their text
                        cells.append(value)
                cells_text.extend(cells)
                if cells:
                    rows.append(table_row(cells))
            block = Block(tuple(rows), table=True, cells=tuple(cells_text))
        else:
            continue
        blocks.append(block)
        size += sum(len(line) + 1 for line in block.lines)
        if size > MAX_TEXT_CHARS + MAX_TITLE_CHARS + 1:  # stop reading: it is too long anyway
            raise InputError(f"Nội dung dài quá {MAX_TEXT_CHARS} ký tự; hãy chia thành nhiều bản tin")
    return blocks
