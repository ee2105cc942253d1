"""Official Word documents made in the test with python-docx, laid out as a commune office writes
them: a header table (issuing body | national motto; số | place and date), the document's kind and
its title, the text, a table, "./.", then "Nơi nhận:" with its list and the signature block."""

from __future__ import annotations

import io
from pathlib import Path

TITLE = "Lịch tiêm phòng cho đàn gia súc đợt 1 năm 2026"
BODY = [
    "Thực hiện Kế hoạch số 160/KH-UBND ngày 10/12/2025 của UBND tỉnh, xã tổ chức tiêm phòng cho trâu, bò.",
    "Lịch tiêm tại các thôn như sau:",
]
ROWS = [("Thôn", "Số con", "Giờ"), ("Thôn 3", "15", "7h30"), ("Thôn 5", "20", "14h")]
CLOSING = "Đề nghị các hộ chăn nuôi đưa gia súc đến đúng giờ./."
RECEIVERS = ["- Thường trực Đảng ủy xã;", "- Các thôn;", "- Lưu: VT."]
SIGNATURE = ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "(Đã ký)", "Hoàng Văn Thảo"]
NEVER_READ = ["Số: 12/TB-UBND", "CỘNG HÒA", "Độc lập", "ngày 05 tháng 12", "Nơi nhận", "Đảng ủy xã", "Lưu: VT",
              "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Hoàng Văn Thảo", "./."]


def official_docx(*, footer_as_table: bool = False) -> bytes:
    """A THÔNG BÁO as a .docx (bytes); the footer as paragraphs, or as a two-cell table."""
    from docx import Document

    doc = Document()
    header = doc.add_table(rows=2, cols=2)
    header.rows[0].cells[0].text = "ỦY BAN NHÂN DÂN\nXÃ DÂN TIẾN"
    header.rows[0].cells[1].text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    header.rows[1].cells[0].text = "Số: 12/TB-UBND"
    header.rows[1].cells[1].text = "Dân Tiến, ngày 05 tháng 12 năm 2025"
    doc.add_heading("THÔNG BÁO", level=1)
    doc.add_paragraph(TITLE).runs[0].bold = True
    for line in BODY:
        doc.add_paragraph(line)
    table = doc.add_table(rows=len(ROWS), cols=3)
    for row, values in zip(table.rows, ROWS):
        for cell, value in zip(row.cells, values):
            cell.text = value
    doc.add_paragraph(CLOSING)
    if footer_as_table:
        footer = doc.add_table(rows=1, cols=2)
        footer.rows[0].cells[0].text = "\n".join(["Nơi nhận:", *RECEIVERS])
        footer.rows[0].cells[1].text = "\n".join(SIGNATURE)
    else:
        doc.add_paragraph("Nơi nhận:").runs[0].bold = True
        for line in RECEIVERS:
            doc.add_paragraph(line)
        signature = doc.add_paragraph()
        signature.add_run(SIGNATURE[0]).bold = True
        signature.add_run().add_break()
        signature.add_run(SIGNATURE[1]).bold = True
        for line in SIGNATURE[2:]:
            doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def docx_from_text(path: Path) -> bytes:
    """A plain-text copy of a document (shared/samples) as a .docx: one paragraph a line, **bold** runs."""
    from docx import Document

    doc = Document()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            bold = "**" in line
            run = doc.add_paragraph().add_run(line.replace("**", ""))
            run.bold = bold
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
