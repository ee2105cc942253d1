"""Issue 11 item 5: markup and symbols an engine would voice are removed or read as words, and a time
written "7g sáng" is a time, not grams (the view/engine agreement: tests/web/test_reading_view.py)."""

from __future__ import annotations

import re

import pytest

from broadcaster.speech.normalize import normalize

VOICED_SYMBOLS = re.compile(r"[*#_•▪●◦■►]|\./\.")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("**Thông báo** khẩn về tiêm phòng", "Thông báo khẩn về tiêm phòng"),
        ("Các đơn vị chủ động triển khai thực hiện./.", "Các đơn vị chủ động triển khai thực hiện."),
        ("# Lịch cắt điện", "Lịch cắt điện"),
        ("## Phần hai", "Phần hai"),
        ("Điểm * cần lưu ý", "Điểm cần lưu ý"),
        ("_Lưu ý_: mang theo CCCD", "Lưu ý: mang theo căn cước công dân"),
        ("• Tiêm phòng cho trâu, bò", "Tiêm phòng cho trâu, bò"),
        ("- Thường trực Đảng ủy xã;", "Thường trực Đảng ủy xã;"),
        ("+ Thôn 3 và thôn 5", "Thôn ba và thôn năm"),
        ("* Mục thứ nhất", "Mục thứ nhất"),
        ("▪ Nộp hồ sơ", "Nộp hồ sơ"),
        ("Hộp thư #5 của xã", "Hộp thư số năm của xã"),
        ("Ô đất rộng 3 * 4 mét", "Ô đất rộng ba nhân bốn mét"),
        ("**KT. CHỦ TỊCH", "ký thay chủ tịch"),  # the signature mark read as words (lexicon)
    ],
)
def test_markup_is_not_voiced(written, spoken):
    out = normalize(written)
    assert out == spoken
    assert not VOICED_SYMBOLS.search(out)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Tập trung lúc 7g sáng", "Tập trung lúc bảy giờ sáng"),
        ("7g sáng mai họp thôn", "Bảy giờ sáng mai họp thôn"),
        ("Họp lúc 7g tại nhà văn hóa", "Họp lúc bảy giờ tại nhà văn hóa"),
        ("từ 7g đến 9g sáng", "từ bảy giờ đến chín giờ sáng"),
        ("từ 7g - 9g sáng thứ 2", "từ bảy giờ đến chín giờ sáng thứ hai"),
        ("17g chiều nay", "Mười bảy giờ chiều nay"),
        ("5g tối", "Năm giờ tối"),
        # a weight stays a weight
        ("Mỗi hộ nhận 500g hạt giống", "Mỗi hộ nhận năm trăm gam hạt giống"),
        ("Cân 5g muối", "Cân năm gam muối"),
    ],
)
def test_a_time_written_with_g_is_a_time(written, spoken):
    assert normalize(written) == spoken

