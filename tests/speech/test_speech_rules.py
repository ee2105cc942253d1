"""One group of tests per reading rule of READING.md (and the readings chosen where it is silent)."""

from __future__ import annotations

import unicodedata

import pytest

from broadcaster.speech.normalize import normalize


@pytest.fixture(name="check")
def check_fixture(canon):
    """check([(written, spoken), …]): each written line must be said as spoken (canonical comparison)."""

    def check(cases):
        for written, spoken in cases:
            assert canon(normalize(written)) == canon(spoken), written

    return check


def test_cardinals_in_text(check):
    check([
        ("Đạt 21 điểm", "đạt hai mươi mốt điểm"), ("11 hộ", "mười một hộ"), ("101 người", "một trăm lẻ một người"),
        ("15 xã", "mười lăm xã"), ("24 giờ", "hai mươi tư giờ"), ("105", "một trăm lẻ năm"), ("10 và 20", "mười và hai mươi"),
        ("năm 2023", "năm hai nghìn không trăm hai mươi ba"), ("1.021 người", "một nghìn không trăm hai mươi mốt người"),
        ("1.000.000.000.000.000 đồng", "một triệu tỷ đồng"), ("1.000.000.000.000 đồng", "một nghìn tỷ đồng"),
    ])


def test_decimals_and_thousands(check):
    check([
        ("2,5 ha", "hai phẩy năm héc ta"), ("0,5 tạ", "không phẩy năm tạ"), ("1.500.000 đồng", "một triệu năm trăm nghìn đồng"),
        ("1,5 triệu đồng", "một phẩy năm triệu đồng"), ("5 tỷ", "năm tỷ"), ("2.5", "hai phẩy năm"),
    ])


def test_dates(check):
    check([
        ("ngày 21/3/2023", "ngày hai mươi mốt tháng ba năm hai nghìn không trăm hai mươi ba"),
        ("30/4/2026", "ngày ba mươi tháng tư năm hai nghìn không trăm hai mươi sáu"),
        ("ngày 09/02", "ngày chín tháng hai"), ("sáng 15/3", "sáng ngày mười lăm tháng ba"),
        ("Tháng 4/2026", "tháng tư năm hai nghìn không trăm hai mươi sáu"),
        ("trong 4/2026", "trong tháng tư năm hai nghìn không trăm hai mươi sáu"),
        ("ngày 15-3-2026", "ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi sáu"),
        ("ngày 15.3.2026", "ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi sáu"),
        ("từ ngày 15/3 đến ngày 15/4/2026",
         "từ ngày mười lăm tháng ba đến ngày mười lăm tháng tư năm hai nghìn không trăm hai mươi sáu"),
        ("tháng 4", "tháng tư"), ("tháng 1", "tháng một"), ("tháng 4, 5 và 6", "tháng tư năm và sáu"),
        ("Quý I/2026", "quý một năm hai nghìn không trăm hai mươi sáu"), ("quý 3", "quý ba"),
    ])


def test_not_dates(check):
    check([
        ("Trực 24/24 giờ", "trực hai mươi tư trên hai mươi tư giờ"), ("trực 24/7", "trực hai mươi tư trên bảy"),
        ("ngày 24/7", "ngày hai mươi tư tháng bảy"), ("số nhà 5/12", "số nhà năm trên mười hai"),
        ("tỷ lệ 3/40", "tỷ lệ ba trên bốn mươi"),
    ])


def test_times(check):
    check([
        ("6h30", "sáu giờ ba mươi phút"), ("6:30", "sáu giờ ba mươi phút"), ("06h30", "sáu giờ ba mươi phút"),
        ("17h", "mười bảy giờ"), ("17h00", "mười bảy giờ"), ("17:00", "mười bảy giờ"), ("7h30", "bảy giờ ba mươi phút"),
        ("lúc 7 giờ 30 phút", "lúc bảy giờ ba mươi phút"), ("14:15.", "mười bốn giờ mười lăm phút"),
        ("6h05", "sáu giờ năm phút"), ("7g30", "bảy giờ ba mươi phút"), ("6h30 phút", "sáu giờ ba mươi phút"),
        ("6:30:15", "sáu giờ ba mươi phút mười lăm giây"),
    ])


def test_ranges(check):
    check([
        ("2022 - 2027", "hai nghìn không trăm hai mươi hai đến hai nghìn không trăm hai mươi bảy"),
        ("2022-2027", "hai nghìn không trăm hai mươi hai đến hai nghìn không trăm hai mươi bảy"),
        ("từ 100 - 200mm", "từ một trăm đến hai trăm mi li mét"), ("150 – 300 mm", "một trăm năm mươi đến ba trăm mi li mét"),
        ("10 - 15%", "mười đến mười lăm phần trăm"), ("5km - 10km", "năm ki lô mét đến mười ki lô mét"),
        ("6h30 - 11h", "sáu giờ ba mươi phút đến mười một giờ"),
        ("15/3 - 15/4/2026", "ngày mười lăm tháng ba đến ngày mười lăm tháng tư năm hai nghìn không trăm hai mươi sáu"),
        ("kinh tế - xã hội", "kinh tế xã hội"),
    ])


def test_rates_units_currency(check):
    check([
        ("đồng/hộ", "đồng trên hộ"), ("40 km/h", "bốn mươi ki lô mét trên giờ"),
        ("25.000 đồng/người/năm", "hai mươi lăm nghìn đồng trên người trên năm"),
        ("25.000 đồng/con", "hai mươi lăm nghìn đồng trên con"), ("3 lượt/ngày", "ba lượt trên ngày"),
        ("15%", "mười lăm phần trăm"), ("20.000đ", "hai mươi nghìn đồng"), ("20.000 đ", "hai mươi nghìn đồng"),
        ("20.000 VNĐ", "hai mươi nghìn đồng"), ("20.000VNĐ", "hai mươi nghìn đồng"),
        ("5 ha", "năm héc ta"), ("5 km", "năm ki lô mét"), ("5 m", "năm mét"), ("5 m2", "năm mét vuông"),
        ("5 m²", "năm mét vuông"), ("5 m3", "năm mét khối"), ("5 m³", "năm mét khối"), ("5 mm", "năm mi li mét"),
        ("5 cm", "năm xăng ti mét"), ("5 kg", "năm ki lô gam"), ("38°C", "ba mươi tám độ xê"),
        ("38 oC", "ba mươi tám độ xê"), ("38 độ C", "ba mươi tám độ xê"), ("-2°C", "âm hai độ xê"),
        ("45 tấn", "bốn mươi lăm tấn"), ("2 tạ", "hai tạ"), ("giá/m2", "giá trên mét vuông"),
    ])


def test_negative_numbers(check):
    """A minus sign on a temperature, after từ/đến/xuống/dưới, or the true minus sign (U+2212) is "âm";
    a dash between two numbers stays a range, and a bullet stays a bullet."""
    check([
        ("-2 độ C", "âm hai độ xê"), ("nhiệt độ -5 độ", "nhiệt độ âm năm độ"),
        ("Nhiệt độ thấp nhất từ -3 đến -1 độ C", "nhiệt độ thấp nhất từ âm ba đến âm một độ xê"),
        ("từ -3 đến 2°C", "từ âm ba đến hai độ xê"), ("có nơi xuống dưới -2 độ C", "có nơi xuống dưới âm hai độ xê"),
        ("xuống −4", "xuống âm bốn"), ("−5 độ", "âm năm độ"), ("-0,5 độ C", "âm không phẩy năm độ xê"),
        ("-2°C", "âm hai độ xê"), ("(-2 độ C)", "(âm hai độ xê)"),
        ("10-15 độ C", "mười đến mười lăm độ xê"), ("10 - 15 độ C", "mười đến mười lăm độ xê"),
        ("10 -15 độ C", "mười đến mười lăm độ xê"), ("10 −15 độ", "mười đến mười lăm độ"),
        ("- 5 hộ nghèo", "năm hộ nghèo"), ("từ 5 đến 7 độ", "từ năm đến bảy độ"),
    ])


def test_phone_and_emergency_numbers(check):
    check([
        ("0912 345 678", "không chín một hai ba bốn năm sáu bảy tám"),
        ("0912.345.678", "không chín một hai ba bốn năm sáu bảy tám"),
        ("0912345678", "không chín một hai ba bốn năm sáu bảy tám"),
        ("0208 3851 234", "không hai không tám ba tám năm một hai ba bốn"),
        ("+84 912 345 678", "cộng tám tư chín một hai ba bốn năm sáu bảy tám"),
        ("gọi ngay 114", "gọi ngay một một bốn"), ("gọi 113, 115", "gọi một một ba một một năm"),
        ("Tổng đài 111", "tổng đài một một một"), ("114 cứu hỏa", "một một bốn cứu hỏa"),
        ("có 115 hộ", "có một trăm mười lăm hộ"),
        ("0912 345 678 hoặc 0987.654.321", "không chín một hai ba bốn năm sáu bảy tám hoặc không chín tám bảy sáu năm bốn ba hai một"),
        ("gọi 0912 345 678 2 lần", "gọi không chín một hai ba bốn năm sáu bảy tám hai lần"),
        ("0208 3 851 234", "không hai không tám ba tám năm một hai ba bốn"),
        ("năm 1900 có 1234 hộ", "năm một nghìn chín trăm có một nghìn hai trăm ba mươi tư hộ"), ("đường dây nóng 1900 1234", "đường dây nóng một chín không không một hai ba bốn"),
    ])


def test_document_references(check):
    check([
        ("Chỉ thị số 07/CT-TTg", "chỉ thị số bảy"),
        ("Nghị định số 09/2017/NĐ-CP", "nghị định số chín năm hai nghìn không trăm mười bảy"),
        ("Nghị quyết số 57-NQ/TW", "nghị quyết số năm mươi bảy"),
        ("Quyết định 407/QĐ-TTg", "quyết định bốn trăm lẻ bảy"),
        ("Luật số 15/2023/QH15", "luật số mười lăm năm hai nghìn không trăm hai mươi ba"),
        ("Văn bản số 12/2026", "văn bản số mười hai năm hai nghìn không trăm hai mươi sáu"),
        ("Số: /KH-UBND", "số"), ("Bão số 3", "bão số ba"), ("số 3", "số ba"),
    ])


def test_weekdays_and_ordinals(check):
    check([
        ("thứ 2", "thứ hai"), ("thứ 3", "thứ ba"), ("thứ 4", "thứ tư"), ("thứ 7", "thứ bảy"), ("CN", "chủ nhật"),
        ("lần thứ 1", "lần thứ nhất"), ("Thứ 4", "thứ tư"), ("thứ 2, 4, 6", "thứ hai tư sáu"),
        ("thứ 2 - thứ 6", "thứ hai đến thứ sáu"), ("thứ 2-6", "thứ hai đến sáu"), ("T2 - T6", "thứ hai đến thứ sáu"),
        ("lần thứ XIII", "lần thứ mười ba"), ("Đại hội XIII", "đại hội mười ba"),
    ])


def test_headings_and_capitals(check):
    check([
        ("II. NỘI DUNG", "phần hai nội dung"), ("I. MỤC ĐÍCH, YÊU CẦU", "phần một mục đích yêu cầu"),
        ("IV. TỔ CHỨC THỰC HIỆN", "phần bốn tổ chức thực hiện"), ("2.1. Nội dung", "hai chấm một nội dung"),
        ("1. Mục đích", "một mục đích"), ("C. Đáp án", "c đáp án"),
        ("THÔNG TƯ HƯỚNG DẪN", "thông tư hướng dẫn"), ("Ban chấp hành TƯ Đảng", "ban chấp hành trung ương đảng"),
    ])
    assert normalize("II. NỘI DUNG") == "Phần hai. Nội dung"
    assert normalize("KẾ HOẠCH") == "Kế hoạch"
    assert normalize("Lưu: VT, LĐVP.") == "Lưu: văn thư, lãnh đạo văn phòng."  # built-in lexicon


def test_abbreviations(check):
    check([
        ("UBND xã", "ủy ban nhân dân xã"), ("Đ/c Chủ tịch", "đồng chí chủ tịch"), ("đ/c Lan", "đồng chí lan"),
        ("MTTQ Việt Nam", "mặt trận tổ quốc việt nam"), ("KT-XH", "kinh tế xã hội"), ("thứ tư", "thứ tư"),
    ])


def test_plain_text_passes_through():
    text = "Luật Tiếp cận thông tin; Luật Báo chí. Đề nghị nhân dân chủ động sắp xếp sinh hoạt, sản xuất!"
    assert normalize(text) == text


def test_output_is_nfc_and_lines_are_kept():
    text = unicodedata.normalize("NFD", "Ngày 21/3\n\nUBND xã thông báo\n")
    out = normalize(text)
    assert unicodedata.is_normalized("NFC", out)
    assert out.split("\n") == ["Ngày hai mươi mốt tháng ba", "", "Ủy ban nhân dân xã thông báo", ""]


def test_slash_between_plain_words_is_a_pause():
    assert normalize("nam/nữ") == "nam, nữ"
    assert normalize("V/v họp dân") == "về việc họp dân"  # a lexicon entry, not a pause


@pytest.mark.parametrize("text", ["", " ", "\n", "\t"])
def test_blank(text):
    assert normalize(text).strip() == ""
