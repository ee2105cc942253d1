"""Text brought in from files: .docx import (broadcaster.station.documents)."""

from __future__ import annotations

import io

import pytest

from broadcaster.exceptions import InputError
from broadcaster.station import documents


def test_import_docx():
    from docx import Document

    doc = Document()
    doc.add_paragraph("")
    doc.add_paragraph("Tiêu đề ở đây")
    doc.add_paragraph("Dòng một.")
    doc.add_paragraph("Dòng hai.")
    buf = io.BytesIO()
    doc.save(buf)
    assert documents.import_docx(buf.getvalue()) == ("Tiêu đề ở đây", "Dòng một.\nDòng hai.")
    empty = io.BytesIO()
    Document().save(empty)
    with pytest.raises(InputError, match="không có chữ"):
        documents.import_docx(empty.getvalue())
    with pytest.raises(InputError, match=".docx"):
        documents.import_docx(b"%PDF-1.4 not a word file")
