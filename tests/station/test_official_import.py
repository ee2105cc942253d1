"""Issue 11 item 4: a real official .docx imports as a bulletin: the title is the heading, the parts
never read on air are set aside (and can be put back), tables are read row by row with a pause
between cells. Documents made with python-docx (tests/support/documents.py) and the commune's real
plan from ../shared/samples."""

from __future__ import annotations

import pytest

from broadcaster.speech.normalize import normalize
from broadcaster.station import documents
from support import documents as sample

SHARED_PLAN = sample.Path(__file__).resolve().parents[3] / "shared" / "samples" / "ke-hoach-truyen-thong-chinh-sach-2026.txt"


@pytest.mark.parametrize("footer_as_table", [False, True], ids=["footer-paragraphs", "footer-table"])
def test_official_notice_title_text_and_what_was_dropped(footer_as_table):
    imported = documents.read_docx(sample.official_docx(footer_as_table=footer_as_table))
    assert imported.title == sample.TITLE
    for never in sample.NEVER_READ:
        assert never not in imported.text, never
    assert imported.text.startswith("THÔNG BÁO\n" + sample.TITLE)
    assert "Đề nghị các hộ chăn nuôi đưa gia súc đến đúng giờ." in imported.text
    # the table, row by row; a pause between cells, never a range dash
    assert "Thôn 3; 15; 7h30." in imported.text.splitlines()
    spoken = normalize(imported.text)
    assert "Thôn ba; mười lăm; bảy giờ ba mươi phút." in spoken and "ba đến mười lăm" not in spoken
    # what was set aside is shown, and can be put back where it stood
    dropped = "\n".join(part.text for part in imported.dropped)
    for never in sample.NEVER_READ[:-1]:
        assert never in dropped, never
    reasons = {part.reason for part in imported.dropped}
    assert any(part.at_start for part in imported.dropped) and any(not part.at_start for part in imported.dropped)
    assert reasons, reasons
    everything = imported.with_everything()
    assert everything.index("Số: 12/TB-UBND") < everything.index("THÔNG BÁO") < everything.index("Nơi nhận")
    assert "Hoàng Văn Thảo" in everything


def test_v_v_line_is_the_title_of_a_letter():
    from docx import Document
    import io

    doc = Document()
    for line in ("ỦY BAN NHÂN DÂN XÃ DÂN TIẾN", "Số: 45/UBND-VP", "V/v tổ chức tổng vệ sinh môi trường",
                 "Kính gửi: Trưởng các thôn", "UBND xã đề nghị các thôn tổ chức tổng vệ sinh vào sáng chủ nhật.",
                 "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn An"):
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    imported = documents.read_docx(buf.getvalue())
    assert imported.title == "Tổ chức tổng vệ sinh môi trường"
    assert "Số: 45" not in imported.text and "Nguyễn Văn An" not in imported.text and "TM." not in imported.text
    assert "Kính gửi: Trưởng các thôn" in imported.text and "sáng chủ nhật" in imported.text


def test_the_communes_real_plan():
    if not SHARED_PLAN.exists():
        pytest.skip("shared/samples is not beside the repository")
    imported = documents.read_docx(sample.docx_from_text(SHARED_PLAN))
    assert imported.title == "Truyền thông chính sách trên địa bàn xã Dân Tiến năm 2026"
    for never in ("Số: /KH-UBND", "ngày tháng 12 năm 2025", "Nơi nhận", "Lưu: VT", "KT. CHỦ TỊCH",
                  "PHÓ CHỦ TỊCH", "Hoàng Văn Thảo", "./.", "Thường trực HĐND xã;"):
        assert never not in imported.text, never
    assert imported.text.startswith("KẾ HOẠCH\nTruyền thông chính sách")
    assert "I. MỤC ĐÍCH, YÊU CẦU" in imported.text and "IV. TỔ CHỨC THỰC HIỆN" in imported.text
    assert imported.text.rstrip().endswith("được giao tại Kế hoạch này.")
    assert "Hoàng Văn Thảo" in "\n".join(p.text for p in imported.dropped)


def test_plain_documents_keep_their_first_line_as_title():
    from docx import Document
    import io

    doc = Document()
    for line in ("", "Tiêu đề ở đây", "Dòng một.", "Dòng hai."):
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    imported = documents.read_docx(buf.getvalue())
    assert (imported.title, imported.text, imported.dropped) == ("Tiêu đề ở đây", "Dòng một.\nDòng hai.", ())
