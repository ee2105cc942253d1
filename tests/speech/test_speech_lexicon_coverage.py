"""Issue #12 item 6: the built-in lexicon covers administrative and commune writing broadly, each
entry with its source, and the symbols of administrative writing are read as words."""

from __future__ import annotations

from importlib import resources

import pytest

from broadcaster.speech.lexicon import builtin_entries, parse_tsv
from broadcaster.speech.normalize import normalize


def _rows() -> list[list[str]]:
    text = resources.files("broadcaster.speech").joinpath("data", "abbreviations.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_several_hundred_entries_each_with_its_source():
    rows = _rows()
    assert len(builtin_entries()) >= 300, len(builtin_entries())
    no_source = [row[0] for row in rows if len(row) < 3 or not row[2].strip()]
    assert not no_source, f"entries without a source column: {no_source[:10]}"
    written = [row[0] for row in rows]
    assert len(written) == len(set(written)), "an abbreviation is listed twice"
    _, problems = parse_tsv("\n".join("\t".join(row) for row in rows))
    assert problems == []


def test_sources_name_the_documents_they_come_from():
    sources = " ".join(row[2] for row in _rows())
    for document in ("NĐ 30/2020/NĐ-CP", "TT 01/2011/TT-BNV", "shared/speech/abbreviations.tsv", "thông dụng"):
        assert document in sources


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # documents (NĐ 30/2020/NĐ-CP, Phụ lục III; TT 01/2011/TT-BNV)
        ("Theo QĐ của UBND xã", "theo quyết định của ủy ban nhân dân xã"),
        ("TTr của phòng", "tờ trình của phòng"),
        ("V/v triển khai tiêm chủng", "về việc triển khai tiêm chủng"),
        ("KT. CHỦ TỊCH", "ký thay chủ tịch"),
        ("TM. UBND XÃ", "thay mặt ủy ban nhân dân xã"),
        # offices and organisations
        ("Sở NN&PTNT tỉnh", "sở nông nghiệp và phát triển nông thôn tỉnh"),
        ("Phòng GD&ĐT", "phòng giáo dục và đào tạo"),
        ("UBMTTQ xã", "ủy ban mặt trận tổ quốc xã"),
        ("Công chức TP-HT", "công chức tư pháp hộ tịch"),
        ("Hội CTĐ xã", "hội chữ thập đỏ xã"),
        # programmes
        ("Chương trình MTQG xây dựng NTM", "chương trình mục tiêu quốc gia xây dựng nông thôn mới"),
        ("sản phẩm OCOP", "sản phẩm ô cốp"),
        ("vay vốn NHCSXH", "vay vốn ngân hàng chính sách xã hội"),
        ("thực hiện CCHC, DVCTT", "thực hiện cải cách hành chính dịch vụ công trực tuyến"),
        # health
        ("Tại TYT xã", "tại trạm y tế xã"),
        ("phòng chống SXH", "phòng chống sốt xuất huyết"),
        ("lịch TCMR", "lịch tiêm chủng mở rộng"),
        # agriculture
        ("cán bộ BVTV", "cán bộ bảo vệ thực vật"),
        ("bệnh DTLCP", "bệnh dịch tả lợn châu phi"),
        ("LMLM ở trâu bò", "lở mồm long móng ở trâu bò"),
        # traffic
        ("lực lượng CSGT", "lực lượng cảnh sát giao thông"),
        ("giảm TNGT", "giảm tai nạn giao thông"),
        ("cấp GPLX", "cấp giấy phép lái xe"),
        # land
        ("cấp GCNQSDĐ", "cấp giấy chứng nhận quyền sử dụng đất"),
    ],
)
def test_domain_abbreviations_are_read(written, spoken, canon):
    assert canon(normalize(written)) == canon(spoken)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Nông nghiệp & Môi trường", "nông nghiệp và môi trường"),
        ("trâu, bò, lợn, v.v.", "trâu bò lợn vân vân"),
        ("trâu, bò, lợn, …", "trâu bò lợn vân vân"),
        ("trâu, bò, lợn, ...", "trâu bò lợn vân vân"),
        ("Tổ A&B", "tổ a và b"),
    ],
)
def test_symbols_of_administrative_writing_are_words(written, spoken, canon):
    assert canon(normalize(written)) == canon(spoken)
