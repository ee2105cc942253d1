"""The lexicon: built-ins plus station entries, overrides, longest match, whole words, saving."""

from __future__ import annotations

import pytest

from broadcaster.exceptions import InputError, NotFoundError
from broadcaster.speech.lexicon import Lexicon, builtin_entries
from broadcaster.speech.normalize import normalize


@pytest.fixture(name="lexicon")
def lexicon_fixture(tmp_path):
    return Lexicon.load(tmp_path / "lexicon.tsv")


def test_builtin_list_is_the_shared_starting_list():
    entries = builtin_entries()
    assert entries["UBND"] == "Ủy ban nhân dân"
    assert entries["Đ/c"] == "đồng chí"
    assert entries["CN"] == "chủ nhật"
    assert len(entries) >= 50


def test_missing_station_file_means_builtins_only(lexicon):
    assert lexicon.station_entries() == {}
    assert lexicon.entries() == dict(sorted(builtin_entries().items(), key=lambda i: (i[0].casefold(), i[0])))


def test_add_and_override(lexicon):
    lexicon.add("TP", "thành phố")
    lexicon.add("UBND", "ủy ban")
    assert normalize("TP Thái Nguyên, UBND xã", lexicon) == "thành phố Thái Nguyên, ủy ban xã"
    assert lexicon.source("UBND") == "station"
    assert lexicon.source("HĐND") == "builtin"
    assert lexicon.source("XYZ") is None
    lexicon.remove("UBND")
    assert normalize("UBND xã", lexicon) == "Ủy ban nhân dân xã"


def test_remove_errors(lexicon):
    with pytest.raises(NotFoundError):
        lexicon.remove("XYZ")
    with pytest.raises(InputError):
        lexicon.remove("UBND")  # built-in: override it instead
    with pytest.raises(InputError):
        lexicon.remove("")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [("", "x"), ("   ", "x"), ("A\tB", "x"), ("AB", ""), ("AB", "a\tb"), ("A\nB", "x"), ("//", "x")],
)
def test_add_rejects_bad_entries(lexicon, written, spoken):
    with pytest.raises(InputError):
        lexicon.add(written, spoken)


def test_save_writes_only_station_entries_atomically(tmp_path):
    path = tmp_path / "sub" / "lexicon.tsv"
    lexicon = Lexicon.load(path)
    lexicon.add("TP", "thành phố")
    lexicon.add("CN", "công nghiệp")
    assert lexicon.save() == path
    text = path.read_text(encoding="utf-8")
    assert "TP\tthành phố\n" in text and "CN\tcông nghiệp\n" in text
    assert "UBND" not in text
    assert [p.name for p in path.parent.iterdir()] == ["lexicon.tsv"]  # no temporary file left
    again = Lexicon.load(path)
    assert again.station_entries() == {"TP": "thành phố", "CN": "công nghiệp"}
    assert normalize("Khu CN", again) == "Khu công nghiệp"


def test_save_without_a_path_is_an_error():
    with pytest.raises(InputError):
        Lexicon.load(None).save()


def test_bad_lines_in_station_file_are_skipped_and_reported(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("\ufeff# comment\nTP\tthành phố\nbroken line\n\tno written\nHTX\t\nTT\tthị trấn\tghi chú\n", encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert lexicon.station_entries() == {"TP": "thành phố", "TT": "thị trấn"}
    assert len(lexicon.problems) == 3


def test_longest_match_first(lexicon):
    lexicon.add("KT", "ký thay")
    lexicon.add("MTTQ Việt Nam", "Mặt trận Tổ quốc Việt Nam nhé")
    assert normalize("KT-XH", lexicon) == "kinh tế xã hội"
    assert normalize("KT. Chủ tịch", lexicon) == "ký thay Chủ tịch"  # no sentence break inside the signature line
    assert normalize("MTTQ Việt Nam xã", lexicon) == "Mặt trận Tổ quốc Việt Nam nhé xã"
    assert normalize("MTTQ xã", lexicon) == "Mặt trận Tổ quốc xã"


def test_whole_words_only(lexicon):
    assert normalize("TWO", lexicon) == "tê vê kép o"  # spelled (not in the lexicon), never "Trung ương O"
    assert normalize("TW", lexicon) == "Trung ương"
    assert normalize("CNN", lexicon) == "xê en nờ en nờ"
    assert normalize("CNTT", lexicon) == "công nghệ thông tin"
    assert normalize("ĐUA", lexicon) == "Đua"  # a syllable in capitals, not "ĐU" + A
    assert normalize("xUBND", lexicon) == "xUBND"
    assert normalize("UBND_x", lexicon) == "UBND x"  # glued: not expanded (the "_" is not voiced)
    assert normalize("(UBND)", lexicon) == "(Ủy ban nhân dân)"


def test_case_rules(lexicon):
    assert normalize("đ/c Lan", lexicon) == "đồng chí Lan"
    assert normalize("Đ/C Lan", lexicon) == "đồng chí Lan"
    assert normalize("vào thứ tư", lexicon) == "vào thứ tư"  # "TƯ" matches capitals only
    assert normalize("ubnd", lexicon) == "ubnd"


def test_syllable_entry_inside_a_heading_in_capitals_is_the_word(lexicon):
    assert normalize("THÔNG TƯ HƯỚNG DẪN", lexicon) == "Thông tư hướng dẫn"
    assert normalize("Ban Chấp hành TƯ Đảng", lexicon) == "Ban Chấp hành Trung ương Đảng"


def test_fingerprint_is_stable_and_follows_the_effective_entries(tmp_path, lexicon):
    base = Lexicon.load(None).fingerprint()
    assert base == lexicon.fingerprint() == Lexicon.load(tmp_path / "none.tsv").fingerprint()
    assert len(base) == 16 and int(base, 16) >= 0
    lexicon.add("TTVH", "trung tâm văn hóa")
    changed = lexicon.fingerprint()
    assert changed != base
    lexicon.add("TTVH", "trung tâm văn hóa xã")
    assert lexicon.fingerprint() != changed
    lexicon.remove("TTVH")
    assert lexicon.fingerprint() == base
    lexicon.add("UBND", "Ủy ban nhân dân")  # same spoken form as the built-in: same effective entries
    assert lexicon.fingerprint() == base


def test_entries_are_nfc(lexicon):
    import unicodedata

    lexicon.add(unicodedata.normalize("NFD", "ĐTN"), unicodedata.normalize("NFD", "Đoàn thanh niên"))
    assert "ĐTN" in lexicon.station_entries()
    assert lexicon.station_entries()["ĐTN"] == "Đoàn thanh niên"
