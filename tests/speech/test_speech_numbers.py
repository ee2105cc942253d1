"""The cardinal reader: one test per rule of READING.md, and a strict parser of the spoken form
that round-trips every number from 0 to 10^12 (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcaster.speech import numbers as num

PLAIN = {"không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}


class NotCanonical(ValueError):
    """The spoken form breaks a reading rule."""


def _units_after_muoi(word: str) -> int:
    # after "mươi": 1 is "mốt", 4 is "tư", 5 is "lăm"; the plain word is wrong for those three
    special = {"mốt": 1, "tư": 4, "lăm": 5}
    if word in special:
        return special[word]
    if word in PLAIN and PLAIN[word] not in (0, 1, 4, 5):
        return PLAIN[word]
    raise NotCanonical(f"{word!r} after mươi")


def parse_group(words: list[str], full: bool) -> int:
    """Strictly parse the words of one group of three digits (1..999)."""
    if not words:
        raise NotCanonical("empty group")
    hundreds, rest, said_hundreds = 0, words, False
    if len(words) >= 2 and words[1] == "trăm":
        if words[0] not in PLAIN or (words[0] == "không" and not full):
            raise NotCanonical(f"bad hundreds {words[:2]}")
        hundreds, rest, said_hundreds = PLAIN[words[0]], words[2:], True
    elif full:
        raise NotCanonical(f"a non-leading group must say its hundreds: {words}")
    value = hundreds * 100
    if not rest:
        pass
    elif rest[0] == "lẻ":
        if not said_hundreds or len(rest) != 2 or rest[1] not in PLAIN or PLAIN[rest[1]] == 0:
            raise NotCanonical(f"bad lẻ: {words}")
        value += PLAIN[rest[1]]
    elif rest[0] == "mười":
        value += 10
        if len(rest) == 2:
            if rest[1] == "lăm":
                value += 5
            elif rest[1] in PLAIN and PLAIN[rest[1]] not in (0, 5):
                value += PLAIN[rest[1]]
            else:
                raise NotCanonical(f"bad unit after mười: {words}")
        elif len(rest) > 2:
            raise NotCanonical(f"trailing words: {words}")
    elif len(rest) >= 2 and rest[1] == "mươi":
        if rest[0] not in PLAIN or PLAIN[rest[0]] < 2:
            raise NotCanonical(f"bad tens: {words}")
        value += PLAIN[rest[0]] * 10
        if len(rest) == 3:
            value += _units_after_muoi(rest[2])
        elif len(rest) > 3:
            raise NotCanonical(f"trailing words: {words}")
    elif len(rest) == 1 and rest[0] in PLAIN and PLAIN[rest[0]] > 0 and not said_hundreds:
        value += PLAIN[rest[0]]
    else:
        raise NotCanonical(f"cannot read group {words}")
    if value == 0:
        raise NotCanonical("a zero group is never said")
    return value


def parse_below_billion(words: list[str], leading: bool) -> int:
    total, first, rest = 0, leading, words
    for scale, factor in (("triệu", 10**6), ("nghìn", 1000)):
        if scale in rest:
            index = rest.index(scale)
            total += parse_group(rest[:index], full=not first) * factor
            rest, first = rest[index + 1:], False
    if rest:
        total += parse_group(rest, full=not first)
    if total == 0:
        raise NotCanonical("nothing said")
    return total


def parse_cardinal(text: str) -> int:
    """Parse a spoken cardinal back to its value, refusing any non-canonical form."""
    words = text.split()
    if words == ["không"]:
        return 0
    if "tỷ" in words:
        index = len(words) - 1 - words[::-1].index("tỷ")
        high = parse_cardinal(" ".join(words[:index]))
        if high == 0:
            raise NotCanonical("zero tỷ")
        low = parse_below_billion(words[index + 1:], leading=False) if words[index + 1:] else 0
        return high * 10**9 + low
    return parse_below_billion(words, leading=True)


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (0, "không"), (1, "một"), (4, "bốn"), (5, "năm"), (10, "mười"), (11, "mười một"), (14, "mười bốn"),
        (15, "mười lăm"), (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"),
        (100, "một trăm"), (101, "một trăm lẻ một"), (105, "một trăm lẻ năm"), (110, "một trăm mười"),
        (1000, "một nghìn"), (1021, "một nghìn không trăm hai mươi mốt"),
        (2023, "hai nghìn không trăm hai mươi ba"), (2005000, "hai triệu không trăm lẻ năm nghìn"),
        (1500000, "một triệu năm trăm nghìn"), (1000500, "một triệu năm trăm"),
        (3200000000, "ba tỷ hai trăm triệu"), (10**12, "một nghìn tỷ"), (10**15, "một triệu tỷ"),
        (10**18, "một tỷ tỷ"), (1_000_000_005, "một tỷ không trăm lẻ năm"),
        (2_003_000_000_000, "hai nghìn không trăm lẻ ba tỷ"), (-5, "âm năm"),
    ],
)
def test_cardinal_rules(value, spoken):
    assert num.cardinal(value) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1.500.000", "một triệu năm trăm nghìn"), ("2,5", "hai phẩy năm"), ("0,5", "không phẩy năm"),
        ("2,05", "hai phẩy không năm"), ("3,14", "ba phẩy mười bốn"), ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
        ("2.5", "hai phẩy năm"), ("07", "bảy"), ("09", "chín"), ("007", "bảy"), ("0", "không"),
        ("001234567890", "không không một hai ba bốn năm sáu bảy tám chín không"),
        ("1,2,3", "một, hai, ba"), ("1,000,000", "một triệu"), ("1.2.3", "một chấm hai chấm ba"),
    ],
)
def test_written_numbers(written, spoken):
    assert num.number(written) == spoken


@pytest.mark.parametrize(("text", "value"), [("I", 1), ("IV", 4), ("IX", 9), ("XIII", 13), ("XXV", 25), ("MCMXLV", 1945)])
def test_roman(text, value):
    assert num.roman(text) == value


@pytest.mark.parametrize("text", ["", "IIII", "VX", "IC", "ABC", "iv"])
def test_roman_rejects(text):
    assert num.roman(text) is None


def test_ordinal_and_month():
    assert [num.ordinal(n) for n in (1, 2, 4, 7, 10)] == ["nhất", "hai", "tư", "bảy", "mười"]
    assert [num.month(n) for n in (1, 4, 12)] == ["một", "tư", "mười hai"]


def test_parser_refuses_wrong_forms():
    for wrong in ("hai mươi một", "hai mươi năm", "mười năm", "một nghìn hai mươi mốt", "một trăm năm", "không trăm"):
        with pytest.raises(NotCanonical):
            parse_cardinal(wrong)


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_cardinal_round_trips(value):
    assert parse_cardinal(num.cardinal(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**18 - 1))
def test_cardinal_round_trips_large(value):
    assert parse_cardinal(num.cardinal(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1000, max_value=10**12))
def test_dotted_thousands_read_as_the_number(value):
    written = f"{value:,}".replace(",", ".")
    assert num.number(written) == num.cardinal(value)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_decimal_comma(whole, fraction):
    written = f"{whole},{fraction:03d}".rstrip("0") or f"{whole},0"
    if written.endswith(","):
        written += "0"
    spoken = num.number(written)
    head, _, tail = spoken.partition(" phẩy ")
    assert parse_cardinal(head) == whole
    assert tail


@pytest.mark.parametrize(
    ("function", "text", "spoken"),
    [
        # "other characters are skipped": a superscript or circled digit is no digit to read
        (num.digits, "1²3", "một ba"),
        (num.digits, "①٣", "ba"),
        # what is not a run of decimal digits is kept as written, never a crash
        (num.integer, "²", "²"),
        (num.number, "²", "²"),
        (num.number, "1.²", "một chấm ²"),
        # Arabic-Indic digits are decimal digits: int() reads them, and so does the reader
        (num.integer, "٣", "ba"),
        (num.number, "٢٥", "hai mươi lăm"),
    ],
)
def test_digits_that_int_refuses_are_never_read_as_numbers(function, text, spoken):
    assert function(text) == spoken
