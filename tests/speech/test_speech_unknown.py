"""Issue #12 item 7: a token the reading layer does not know is spelled with Vietnamese letter
names and reported; nothing reaches the engine as a run of Latin capitals."""

from __future__ import annotations

import re

import pytest

from broadcaster.speech.check import UnknownToken, unknown_tokens
from broadcaster.speech.lexicon import Lexicon
from broadcaster.speech.normalize import normalize

LATIN_CAPITALS_RUN = re.compile(r"(?<!\w)[A-ZĐ]{2,}(?!\w)")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Sửa đường ĐT.265 qua xã.", "Sửa đường đê tê hai trăm sáu mươi lăm qua xã."),
        ("Tín hiệu XYZ", "Tín hiệu ích xì i dài dét"),
        ("Dịch cúm H5N1", "Dịch cúm hát năm en nờ một"),
        ("Đi theo QL1A", "Đi theo quốc lộ một a"),  # the prefix is a lexicon entry
        ("Bằng lái hạng B2", "Bằng lái hạng bê hai"),
        # "²" passes str.isdigit() but int() refuses it: kept as written, the rest spelled
        ("Mã A1² cũ", "Mã a một ² cũ"),
        ("Đường ĐT.²", "Đường đê tê ²"),
        ("Đường ĐT.٣", "Đường đê tê ba"),  # Arabic-Indic digits are digits
    ],
)
def test_unknown_tokens_are_spelled_with_vietnamese_letter_names(written, spoken):
    assert normalize(written) == spoken


def test_what_other_rules_read_is_not_spelled():
    assert normalize("Quý IV/2026, Khóa XV") == "Quý bốn năm hai nghìn không trăm hai mươi sáu, Khóa mười lăm"
    assert normalize("T2 - T6") == "thứ hai đến thứ sáu"
    assert normalize("KẾ HOẠCH TRIỂN KHAI") == "Kế hoạch triển khai"
    assert normalize("10 USD, 5 MW") == "Mười đô la Mỹ, năm mê ga oát"
    assert normalize("C. Đáp án") == "C. Đáp án"
    assert unknown_tokens("Quý IV/2026; T2 - T6; KẾ HOẠCH; 10 USD; UBND xã; C. Đáp án") == []


def test_unknown_tokens_are_reported_with_their_line_and_reading():
    text = "UBND xã sửa ĐT.265\n\nLưu: VT, ABC, QL1A."
    assert unknown_tokens(text) == [
        UnknownToken(1, "ĐT.265", "đê tê hai trăm sáu mươi lăm"),
        UnknownToken(3, "ABC", "a bê xê"),
    ]


def test_a_station_entry_makes_a_token_known(tmp_path):
    lexicon = Lexicon.load(tmp_path / "lexicon.tsv")
    lexicon.add("ABC", "an bình cư")
    assert unknown_tokens("Khu ABC", lexicon) == []
    assert normalize("Khu ABC", lexicon) == "Khu an bình cư"


def test_nothing_reaches_the_engine_as_a_run_of_latin_capitals():
    text = "Lưu: VT, LĐVP, XYZ, CNN, TWO; ĐT.265; mã QR; tiêm F0; HTX ABC-XYZ."
    spoken = normalize(text)
    assert not LATIN_CAPITALS_RUN.search(spoken), spoken
