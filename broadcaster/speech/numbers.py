"""Reading numbers aloud in (northern) Vietnamese.

Cardinals follow READING.md: 21 hai mươi mốt, 11 mười một, 101 một trăm lẻ một, 15 mười lăm,
25 hai mươi lăm, 105 một trăm lẻ năm, 24 hai mươi tư; a non-leading group of three digits keeps
"không trăm" (2023 hai nghìn không trăm hai mươi ba); groups that are all zeros are not read
(1.000.500 một triệu năm trăm). Above 999.999.999 the count of billions is read as a number of
its own followed by "tỷ", so 10^12 is "một nghìn tỷ", 10^15 "một triệu tỷ" and 10^18 "một tỷ tỷ".

Every function here is pure and works on strings of ASCII digits or on ints.
"""

from __future__ import annotations

import re

DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Longer than this, a run of digits is an identifier (an ID card, an account), not an amount.
MAX_CARDINAL_DIGITS = 18

_BILLION = 10**9
_ROMAN_RE = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

_THOUSANDS_DOT_RE = re.compile(r"(\d{1,3}(?:\.\d{3})+)(?:,(\d+))?")
_THOUSANDS_COMMA_RE = re.compile(r"\d{1,3}(?:,\d{3}){2,}")
_DECIMAL_COMMA_RE = re.compile(r"(\d+),(\d+)")
_DECIMAL_DOT_RE = re.compile(r"(\d+)\.(\d+)")
_COMMA_LIST_RE = re.compile(r"\d+(?:,\d+){2,}")
_SEPARATED_RE = re.compile(r"[.,]")


def _group(value: int, full: bool) -> list[str]:
    """Words for 0 < value < 1000; full=True for a non-leading group (always says its hundreds)."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if full or hundreds:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("lẻ")
            words.append(DIGIT_WORDS[units])
    elif tens == 1:
        words.append("mười")
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 4:
            words.append("tư")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])
    return words


def _positive(value: int, leading: bool) -> list[str]:
    """Words for value > 0; leading=False when a larger group was already read before it."""
    if value >= _BILLION:
        high, low = divmod(value, _BILLION)
        words = _positive(high, leading) + ["tỷ"]
        if low:
            words += _positive(low, leading=False)
        return words
    words = []
    first = leading
    for group, scale in ((value // 10**6, "triệu"), ((value // 1000) % 1000, "nghìn"), (value % 1000, "")):
        if group == 0:
            continue
        words += _group(group, full=not first)
        if scale:
            words.append(scale)
        first = False
    return words


def cardinal(value: int) -> str:
    """Read an integer as a cardinal number: 2023 → "hai nghìn không trăm hai mươi ba"."""
    if value < 0:
        return "âm " + cardinal(-value)
    if value == 0:
        return "không"
    return " ".join(_positive(value, leading=True))


def digits(text: str) -> str:
    """Read a string of digits one by one: "114" → "một một bốn" (other characters are skipped).

    A digit is what int() reads (str.isdecimal: "0"–"9", also "٣"); "²" or "①" pass str.isdigit()
    but int() refuses them, so they are skipped like any other character.
    """
    return " ".join(DIGIT_WORDS[int(ch)] for ch in text if ch.isdecimal())


def integer(text: str) -> str:
    """Read a run of digits as written.

    Leading zeros of a short number (a day, a month, a document number) are not read
    ("07" → "bảy"); a longer run that starts with 0, or one too long to be an amount,
    is an identifier and is read digit by digit. Text that is not a run of decimal digits ("²")
    is returned as written.
    """
    if not text.isdecimal():
        return text
    if len(text) > MAX_CARDINAL_DIGITS or (len(text) > 3 and text.startswith("0")):
        return digits(text)
    return cardinal(int(text))


def fraction_digits(text: str) -> str:
    """Read the part after a decimal mark: leading zeros one by one, then the rest as a number.

    "5" → "năm", "05" → "không năm", "25" → "hai mươi lăm"; four or more significant digits
    are read one by one ("14159" → "một bốn một năm chín").
    """
    stripped = text.lstrip("0")
    words = ["không"] * (len(text) - len(stripped))
    if stripped:
        words.append(cardinal(int(stripped)) if len(stripped) <= 3 else digits(stripped))
    return " ".join(words)


def decimal(integer_part: str, fraction: str) -> str:
    """Read a decimal number given its two digit strings: ("2", "5") → "hai phẩy năm"."""
    return f"{integer(integer_part)} phẩy {fraction_digits(fraction)}"


def number(text: str) -> str:
    """Read a written number token such as "1.500.000", "2,5", "1.234,5", "07", "2.5" or "1,2,3".

    The dot groups thousands and the comma is the decimal mark (READING.md). A dot followed by
    anything but exactly three digits cannot be a thousands dot, so "2.5" is taken as a decimal
    written the English way; a comma list such as "1,2,3" is a list of numbers; anything else
    mixing marks is read piece by piece with "chấm"/"phẩy" between the pieces.
    """
    if text.isdecimal():  # not isdigit(): "²" is a digit to it, and int() refuses it
        return integer(text)
    match = _THOUSANDS_DOT_RE.fullmatch(text)
    if match:
        whole = match.group(1).replace(".", "")
        if match.group(2) is not None:
            return decimal(whole, match.group(2))
        return integer(whole)
    match = _DECIMAL_COMMA_RE.fullmatch(text)
    if match:
        return decimal(match.group(1), match.group(2))
    if _THOUSANDS_COMMA_RE.fullmatch(text):
        return integer(text.replace(",", ""))
    if _COMMA_LIST_RE.fullmatch(text):
        return ", ".join(integer(part) for part in text.split(","))
    match = _DECIMAL_DOT_RE.fullmatch(text)
    if match:
        return decimal(match.group(1), match.group(2))
    # Section numbers such as 1.2.3 and other odd groupings: read each piece.
    pieces = _SEPARATED_RE.split(text)
    marks = _SEPARATED_RE.findall(text)
    words = [integer(pieces[0])]
    for mark, piece in zip(marks, pieces[1:]):
        words += ["chấm" if mark == "." else "phẩy", integer(piece)]
    return " ".join(words)


def ordinal(value: int) -> str:
    """The word after "thứ": 1 → "nhất", 4 → "tư", otherwise the cardinal (thứ hai, thứ mười)."""
    if value == 1:
        return "nhất"
    if value == 4:
        return "tư"
    return cardinal(value)


def month(value: int) -> str:
    """The word after "tháng": 4 → "tư", otherwise the cardinal (tháng một … tháng mười hai)."""
    return "tư" if value == 4 else cardinal(value)


def roman(text: str) -> int | None:
    """The value of an upper-case Roman numeral ("XIV" → 14), or None if it is not a valid one."""
    if not text or not _ROMAN_RE.fullmatch(text):
        return None
    total = 0
    for ch, nxt in zip(text, text[1:] + " "):
        value = _ROMAN_VALUES[ch]
        total += -value if nxt != " " and _ROMAN_VALUES[nxt] > value else value
    return total
