"""The one normalization entry point: written Vietnamese → what is said.

``normalize(text, lexicon)`` follows the house conventions of READING.md (shared/speech): numbers,
dates, times, ranges, rates, units, phone numbers, document references, weekdays and ordinals,
Roman-numeral headings, abbreviations from the lexicon, and words in capitals. Plain text passes
through: no word is dropped and punctuation stays, since the speech engine pauses on it. Each line
is read on its own (a line never changes how the next one is read) and the result is NFC.

The rules run as a fixed sequence of precompiled regex passes over each line, most specific first;
each pass turns the digits it understands into words, so later, more general passes never see them.

Readings chosen where READING.md is silent:

- Numbers: zero groups are skipped (1.000.500 "một triệu năm trăm"); 14 is "mười bốn" (only
  after "mươi" is 4 read "tư"); past 999 tỷ the count of tỷ is read as a number (10^12 "một nghìn
  tỷ", 10^15 "một triệu tỷ", 10^18 "một tỷ tỷ"). A run of digits longer than 18, or longer than 3
  that starts with 0 (an ID card number), is read digit by digit; "-5°C" is "âm năm độ xê".
- A minus sign is "âm" where a number cannot be anything but negative: on a temperature ("-2 độ
  C", "-2°C"), after từ / đến / tới / xuống / dưới ("từ -3 đến -1 độ C"), and the true minus sign
  U+2212 ("−4"); a dash between two numbers ("10-15", "10 -15") stays a range.
- Decimals: after "phẩy", leading zeros are read one by one and the rest as a number if it has at
  most three digits (2,05 "hai phẩy không năm", 3,14 "ba phẩy mười bốn"), else digit by digit.
  "2.5" (a dot not followed by exactly three digits cannot group thousands) is a decimal written
  the English way: "hai phẩy năm". "1,2,3" is a list; "1,000,000" groups thousands.
  At the start of a line "2.1." / "2.1 Heading" is a section number: "hai chấm một".
- Dates: d-m-yyyy and d.m.yyyy are dates like d/m/yyyy (d/m/yy reads the two-digit year as a
  number); "ngày" is added before a date that lacks it, "tháng" before m/yyyy. A d/m after "số",
  "nhà", "ngõ", "ngách", "hẻm", "kiệt", "lô", "phòng" is an address ("số nhà 5/12" → "… năm trên
  mười hai"); "24/7" is "hai mươi tư trên bảy" unless a date word (ngày, từ, đến, hôm, sáng, chiều,
  tối, đêm, trưa, trước, sau) precedes it. A fraction such as "1/2" that is also a valid date is
  read as the date; a d/m that cannot be a date ("3/40") is a rate ("ba trên bốn mươi").
- Ranges: the dash may also follow an amount with its unit ("5km - 10km", "7h - 11h30", "10% -
  15%"); a dash after a plain word ("Tổ 3 - thôn 5", "COVID-19", "kinh tế - xã hội") stays.
- "tháng N" with N in 1..12 names the month (tháng tư); so do the numbers of a list after it
  ("tháng 4, 5 và 6"). "thứ N" is an ordinal/weekday (1 nhất, 4 tư), also along a list
  ("thứ 2, 4, 6" → "thứ hai, tư, sáu"); "T2".."T7" standing alone are weekdays.
- Times: "7g30", "6h30p", "6h30'" are times too; seconds in "6:30:15" are read with "giây";
  "6h30 phút" says "phút" once ("17h00 phút": "mười bảy giờ không phút"); a number followed by
  h alone is "N giờ" (also 120h, "24h/24h").
- Roman numerals after quý, phần, chương, mục, khóa, kỳ, thế kỷ, đại hội, giai đoạn, loại, hạng,
  vùng, cấp, đợt, khu vực, tập, quyển are read as numbers; after "thứ" as ordinals ("lần thứ
  XIII" → "lần thứ mười ba"). Only I, V, X (and L, C inside a longer numeral) count, so a line
  "C. ..." (an answer choice) is not "Phần một trăm".
- Slashes: after an amount or a unit, or before a unit of two or more letters ("giá/m2"), "/" is
  "trên" along the whole chain ("đồng/người/năm");
  a slash between two plain words ("nam/nữ", "và/hoặc") becomes a comma pause; others ("V/v")
  stay as written.
- Phone numbers: groups are read digit by digit with a comma (a pause) between groups; an
  ungrouped number is grouped 4-3-3(4). "+84" is read "cộng tám tư"; 1800/1900 numbers (8 or 10
  digits) are phone numbers too. A lone digit after a phone number is not part of it ("0912 345 678
  2 lần"). 111/113/114/115 are read digit by digit after a calling word (gọi, điện thoại, đường
  dây nóng, tổng đài, hotline, liên hệ, quay số) in the same clause or before a service name (công
  an, cứu hỏa, cấp cứu …), and so is any 3–5 digit number right after "tổng đài", "đường dây nóng"
  or "hotline"; elsewhere they are counts ("113 hộ").
- Document references: "số N/YYYY" without a code is "số N năm YYYY"; a template "Số: /KH-UBND"
  (number left blank) loses the code too.
- Capitals: a word in capitals that is spelled like a Vietnamese syllable is lower-cased (first
  letter kept upper-case at the start of a line or sentence); other capital words that are not in
  the lexicon, and codes such as "ĐT.265", are spelled with Vietnamese letter names (spelling.py). A lexicon entry that is itself a
  syllable ("TƯ", "ĐU") is read as the word when it stands inside a heading in capitals
  ("THÔNG TƯ" → "thông tư"). A line that starts with a number starts with a capital
  ("1. Mục đích" → "Một. Mục đích").
- Markup is never voiced: bullets at a line start (-, +, •, *, #…), **bold**, _emphasis_, a stray
  "*", "#" or "_", and the "./." end mark go; "#5" is "số năm", "3 * 4" is "ba nhân bốn".
- An hour may be written with g: "7g sáng", "lúc 7g", "từ 7g đến 9g sáng" are "bảy giờ …"; a g after
  a number elsewhere ("500g") stays grams.
- Units also include dm, g, mg, l, ml, km², cm², kW, kWh, MW, V, kV, USD and ‰ (phần nghìn); a
  single-letter unit is only read after a number (or after a rate slash).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from . import markup
from . import numbers as num
from .lexicon import Lexicon
from .spelling import Spelled, spell_unknown
from .syllables import is_syllable

# ---------------------------------------------------------------------------------------------
# Shared pieces

_NUM = r"\d+(?:[.,]\d+)*"  # a written number: digits with thousands dots / a decimal comma
_START = r"(?<![\w.,/])"  # a number starts here: not glued to a word or to another number
_END = r"(?![\w]|[.,/]\d)"  # ...and ends here

UNITS: dict[str, str] = {
    "°C": "độ xê", "ºC": "độ xê", "℃": "độ xê", "oC": "độ xê", "°": "độ", "º": "độ",
    "%": "phần trăm", "‰": "phần nghìn",
    "km²": "ki lô mét vuông", "km2": "ki lô mét vuông", "cm²": "xăng ti mét vuông", "cm2": "xăng ti mét vuông",
    "m²": "mét vuông", "m2": "mét vuông", "m³": "mét khối", "m3": "mét khối",
    "km": "ki lô mét", "m": "mét", "dm": "đề xi mét", "cm": "xăng ti mét", "mm": "mi li mét",
    "ha": "héc ta",
    "kg": "ki lô gam", "g": "gam", "mg": "mi li gam",
    "l": "lít", "ml": "mi li lít",
    "h": "giờ",
    "kWh": "ki lô oát giờ", "kW": "ki lô oát", "MW": "mê ga oát", "W": "oát", "kV": "ki lô vôn", "V": "vôn",
    "đ": "đồng", "VNĐ": "đồng", "VND": "đồng", "vnđ": "đồng", "vnd": "đồng", "USD": "đô la Mỹ",
}
# After a rate slash only (never after a bare number: "5 s" is too ambiguous).
RATE_ONLY_UNITS = {"s": "giây", "p": "phút", "ph": "phút"}
# Words that make the slash after them a rate even without a number before them.
CURRENCY_WORDS = {"đồng", "đ", "vnđ", "vnd", "usd"}

_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=lambda u: (-len(u), u)))

DATE_WORDS = r"(?:ngày|từ|đến|hôm|sáng|chiều|tối|đêm|trưa|trước|sau)"
ADDRESS_WORDS = r"(?:số|nhà|ngõ|ngách|hẻm|kiệt|lô|phòng)"
CALL_WORDS = r"(?:gọi|điện thoại|đường dây nóng|tổng đài|hotline|liên hệ|quay số)"
SERVICE_WORDS = r"(?:công an|cảnh sát|cứu hỏa|cứu hoả|chữa cháy|cấp cứu|cứu nạn|cứu hộ|cứu thương)"
ROMAN_KEYWORDS = (
    r"quý|phần|chương|mục|khóa|khoá|kỳ|kì|thế kỷ|thế kỉ|đại hội|giai đoạn|loại|hạng|vùng|cấp|đợt|khu vực|tập|quyển|thứ"
)

# Document codes: NĐ-CP, CT-TTg, NQ/TW, TT-BTTTT, QH15, L-CTN … Every part starts with two capitals
# (only a first part may be one capital), so a name such as "Lan" is never taken for a code.
_CODE = (
    r"(?:[A-ZĐ]{2,}[A-Za-zĐđ0-9]*|[A-ZĐ](?=[-/][A-ZĐ]{2}))"
    r"(?:[-/][A-ZĐ]{2,}[A-Za-zĐđ0-9]*)*"
)

# ---------------------------------------------------------------------------------------------
# Compiled patterns (once, at import)

_SPACES_RE = re.compile(r"[\u00a0\u2007\u202f\t]")
_DIGIT_RE = re.compile(r"\d")
_ROMAN_CANDIDATE_RE = re.compile(r"(?<!\w)[IVXLC]+(?!\w)")
_ROMAN_HEADING_RE = re.compile(r"^(\s*)([IVX]+)([.)])(?=\s|$)")
_SECTION_RE = re.compile(r"^(\s*)(\d{1,2}(?:\.\d{1,2})+)(\.?)(?=(\s*)(\S?))")
_DOC_REF_RE = re.compile(_START + r"(\d+)(?:/(\d{4}))?[/-](" + _CODE + r")(?!\w)")
_DOC_NUMBER_YEAR_RE = re.compile(r"(?i:\b(số))(\s*:?\s*)(\d+)/(\d{4})(?![\w/]|[.,]\d)")
_DOC_BLANK_RE = re.compile(r"(?i:\b(số))(\s*:)\s*/" + _CODE + r"(?!\w)")
_WEEKDAY_ABBR_RE = re.compile(r"(?<![\w/])T([2-7])(?![\w/]|[.,]\d)")
_PHONE_RE = re.compile(r"(?<![\w.,/+])(?:(\+84)[ .-]?|(?=0\d|1[89]00))(\d+(?:[ .-]\d+){0,5})")
_DIGIT_RUN_RE = re.compile(r"\d+")
_DASHED_DATE_RE = re.compile(_START + r"(\d{1,2})([-.])(\d{1,2})\2(\d{4})(?![\w]|[.,/]\d)")
_RANGE_RE = re.compile(r"(\d(?:\s?[°º]?[^\W\d_]{1,5}[²³]?|[%²³‰])?)\s*[-–—−]\s*(?=\d)")
_QUARTER_RE = re.compile(r"(?i:\b(quý))(\s+)([IVX]+|[1-4])(?![\w])(?:\s*/\s*(\d{4})(?!\w))?")
_FULL_DATE_RE = re.compile(_START + r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})" + _END)
_MONTH_YEAR_RE = re.compile(_START + r"(\d{1,2})/(\d{4})" + _END)
_DAY_MONTH_RE = re.compile(_START + r"(\d{1,2})/(\d{1,2})" + _END)
_AFTER_NGAY_RE = re.compile(r"(?i:\bngày)\s*$")
_AFTER_THANG_RE = re.compile(r"(?i:\btháng)\s*$")
_AFTER_DATE_WORD_RE = re.compile(r"(?i:\b" + DATE_WORDS + r")\s*$")
_AFTER_ADDRESS_RE = re.compile(r"(?i:\b" + ADDRESS_WORDS + r")\s*$")
_TOKEN = r"[\w%²³°º‰]+(?:[.,]\w+)*"
_SLASH_CHAIN_RE = re.compile(r"(?<![\w/])(" + _TOKEN + r")((?:/" + _TOKEN + r")+)(?![\w/])")
_PREV_TOKEN_RE = re.compile(r"(\S+)\s+$")
_TIME_H_RE = re.compile(
    _START + r"(\d{1,2})\s?[hHg]\s?(\d{2})(?:(\s?phút|\s?ph|p|')(?!\w))?(?![\w]|[.,:]\d)"
)
_TIME_COLON_RE = re.compile(_START + r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:(\s?phút)(?!\w))?(?![\w]|[.,:]\d)")
_UNIT_RE = re.compile(
    r"(?<![\w.,])(?P<sign>[-−](?=\d))?(?P<num>" + _NUM + r")(?P<space>\s?)(?P<unit>" + _UNIT_ALT + r")(?![\w²³])"
)
_DO_C_RE = re.compile(r"(\b[đĐ]ộ\s)C(?!\w)")
# a minus that can only be negative (see the notes above); never right after a number ("10 -15": a range).
# Before a unit sign ("-2°C", "-5%") _UNIT_RE's own sign reads it; here the spelled-out "độ" and the rest
_NEGATIVE_RE = re.compile(r"(\b(?i:từ|đến|tới|xuống|dưới)\s+)[-−](?=\d)|(?<![\w.,])(?<!\d\s)"
                          r"(?:[-−](?=" + _NUM + r"\s?[đĐ]ộ\b)|−(?=\d))")
_ROMAN_AFTER_RE = re.compile(r"(?i:\b(" + ROMAN_KEYWORDS + r"))(\s+)([IVXLC]+)(?![\w])")
_LIST_SEP = r"\s*(?:,|và|hoặc|[-–]|đến)\s*"
_ORDINAL_LIST_RE = re.compile(
    r"(?i:\b(thứ))(\s+)(\d{1,2}(?:" + _LIST_SEP + r"(?:(?i:thứ)\s+)?\d{1,2})*)(?![\w%/]|[.,:]\d)"
)
_MONTH_LIST_RE = re.compile(
    r"(?i:\b(tháng))(\s+)(\d{1,2}(?:" + _LIST_SEP + r"(?:(?i:tháng)\s+)?\d{1,2})*)(?![\w%/]|[.,:]\d)"
)
_LIST_NUMBER_RE = re.compile(r"\d+")
_LIST_DASH_RE = re.compile(r"\s*[-–]\s*")
_EMERGENCY_RE = re.compile(_START + r"(11[1345])(?![\w%²³]|[.,/]\d)")
_CALL_BEFORE_RE = re.compile(r"(?i:\b" + CALL_WORDS + r"\b)")
_SERVICE_AFTER_RE = re.compile(r"\s*[(\-–:,]?\s*(?i:" + SERVICE_WORDS + r")\b")
_CLAUSE_END_RE = re.compile(r"[.;!?]")
_HOTLINE_RE = re.compile(r"(?i:\b(tổng đài|đường dây nóng|hotline)(\s*:?\s*(?:số\s*)?))(\d{3,5})(?![\w]|[.,/]\d)")
_NUMBER_RE = re.compile(r"(?<!\d)(" + _NUM + r")")
_CAPS_WORD_RE = re.compile(r"(?<!\w)[^\W\d_]+(?!\w)")
_WORD_BEFORE_RE = re.compile(r"([^\W\d_]+)[ \t]+$")
_WORD_AFTER_RE = re.compile(r"[ \t]+([^\W\d_]+)")
_MULTISPACE_RE = re.compile(r" {2,}")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" +([,.;:!?)])")


_CONTEXT = 60  # characters of context a rule looks back at; bounded so long lines stay linear


def _before(match: re.Match[str]) -> str:
    return match.string[max(0, match.start() - _CONTEXT): match.start()]


_OPENERS = set(" \t*_#>\"'“”‘’([-–")


def _starts_sentence(text: str, index: int) -> bool:
    """True when only opening marks and spaces stand between index and a line or sentence start."""
    while index > 0 and text[index - 1] in _OPENERS:
        index -= 1
    return index == 0 or text[index - 1] in ".!?"


# ---------------------------------------------------------------------------------------------
# Passes, in the order they run


def _headings(line: str) -> str:
    """Roman headings ("II. NỘI DUNG" → "Phần hai. NỘI DUNG") and section numbers at line start."""
    match = _ROMAN_HEADING_RE.match(line)
    if match:
        value = num.roman(match.group(2))
        if value:
            return f"{match.group(1)}Phần {num.cardinal(value)}{match.group(3)}{line[match.end():]}"
    match = _SECTION_RE.match(line)
    if match:
        dot, following = match.group(3), match.group(5)
        # "2.1." or "2.1 Heading" is a section; a lone "2.5" or "2.5 ha" is left to the decimal rule.
        if dot or following.isupper():
            spoken = " chấm ".join(num.integer(p) for p in match.group(2).split("."))
            return f"{match.group(1)}{spoken}{dot}{line[match.end():]}"
    return line


def _doc_refs(line: str) -> str:
    """Document references: "số 09/2017/NĐ-CP" → "số chín năm …", "07/CT-TTg" → "bảy"."""

    def ref(match: re.Match[str]) -> str:
        spoken = num.cardinal(int(match.group(1)))
        if match.group(2):
            spoken += " năm " + num.cardinal(int(match.group(2)))
        return spoken

    line = _DOC_REF_RE.sub(ref, line)
    line = _DOC_NUMBER_YEAR_RE.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{num.cardinal(int(m.group(3)))} năm {num.cardinal(int(m.group(4)))}",
        line,
    )
    return _DOC_BLANK_RE.sub(lambda m: m.group(1) + m.group(2), line)


def _lexicon(line: str, lexicon: Lexicon) -> str:
    """Expand abbreviations, except a syllable-like entry inside a heading in capitals."""

    def in_caps_heading(match: re.Match[str]) -> bool:
        written = match.group(0)
        if not (written.isupper() and is_syllable(written)):
            return False
        before = _WORD_BEFORE_RE.search(_before(match))
        after = _WORD_AFTER_RE.match(match.string, match.end())
        for neighbour in (before, after):
            if neighbour:
                word = neighbour.group(1)
                if word.isupper() and len(word) > 1 and is_syllable(word) and word not in lexicon:
                    return True
        return False

    return lexicon.apply(line, keep=in_caps_heading)


def _phone_words(groups: list[str], plus: bool) -> str:
    if len(groups) == 1:  # ungrouped: group it the usual way for the pauses
        text = groups[0]
        if plus:
            groups = [text[:3], text[3:6], text[6:]]
        elif len(text) == 8:  # 1900 xxxx
            groups = [text[:4], text[4:]]
        else:
            groups = [text[:4], text[4:7], text[7:]]
    spoken = ", ".join(num.digits(g) for g in groups if g)
    return ("cộng tám tư, " + spoken) if plus else spoken


def _phones(line: str) -> str:
    """Phone numbers → digit by digit: 0 + 9-10 digits, +84 + 9-10 digits, 1800/1900 + 4 or 6 digits."""
    pieces: list[str] = []
    pos = 0
    while True:
        match = _PHONE_RE.search(line, pos)
        if match is None:
            break
        body = match.group(2)
        spans = [(m.start() + match.start(2), m.end() + match.start(2)) for m in _DIGIT_RUN_RE.finditer(body)]
        plus = match.group(1) is not None
        allowed = {9, 10} if plus else {10, 11} if body.startswith("0") else {8, 10}
        count, best = 0, None
        for index, (start, end) in enumerate(spans):
            if best is not None and end - start < 2:
                break  # a lone digit after a whole phone number is a count ("0912 345 678 2 lần")
            count += end - start
            if count > max(allowed):
                break
            if count in allowed:
                best = index
        if best is None:
            # Not a phone number from here; the next group may start one ("05 0912 345 678").
            pieces.append(line[pos: spans[0][1]])
            pos = spans[0][1]
            continue
        groups = [line[s:e] for s, e in spans[: best + 1]]
        pieces += [line[pos: match.start()], _phone_words(groups, plus)]
        pos = spans[best][1]  # what follows is scanned again: it may be the next phone number
    pieces.append(line[pos:])
    return "".join(pieces)


def _dashed_dates(line: str) -> str:
    """d-m-yyyy and d.m.yyyy → d/m/yyyy, so the range rule never takes their dashes."""

    def dated(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(3))
        if 1 <= day <= 31 and 1 <= month <= 12:
            return f"{match.group(1)}/{match.group(3)}/{match.group(4)}"
        return match.group(0)

    return _DASHED_DATE_RE.sub(dated, line)


def _ranges(line: str) -> str:
    """A dash between two numbers, dates, times or amounts is "đến"."""
    return _RANGE_RE.sub(lambda m: m.group(1) + " đến ", line)


def _dates(line: str) -> str:
    """Quarters, d/m/yyyy, m/yyyy and d/m, without repeating "ngày"/"tháng" already written."""

    def quarter(match: re.Match[str]) -> str:
        token = match.group(3)
        value = int(token) if token.isdecimal() else num.roman(token)
        if not value or value > 4:
            return match.group(0)
        spoken = f"{match.group(1)}{match.group(2)}{num.cardinal(value)}"
        if match.group(4):
            spoken += " năm " + num.cardinal(int(match.group(4)))
        return spoken

    def day_prefix(match: re.Match[str]) -> str:
        return "" if _AFTER_NGAY_RE.search(_before(match)) else "ngày "

    def full(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(2))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return match.group(0)
        return (
            f"{day_prefix(match)}{num.cardinal(day)} tháng {num.month(month)}"
            f" năm {num.integer(match.group(3))}"
        )

    def month_year(match: re.Match[str]) -> str:
        month = int(match.group(1))
        if not 1 <= month <= 12:
            return match.group(0)
        prefix = "" if _AFTER_THANG_RE.search(_before(match)) else "tháng "
        return f"{prefix}{num.month(month)} năm {num.cardinal(int(match.group(2)))}"

    def day_month(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(2))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return match.group(0)
        before = _before(match)
        if _AFTER_ADDRESS_RE.search(before):
            return match.group(0)
        if day == 24 and month == 7 and not _AFTER_DATE_WORD_RE.search(before):
            return match.group(0)  # "trực 24/7": round the clock
        return f"{day_prefix(match)}{num.cardinal(day)} tháng {num.month(month)}"

    line = _QUARTER_RE.sub(quarter, line)
    line = _FULL_DATE_RE.sub(full, line)
    line = _MONTH_YEAR_RE.sub(month_year, line)
    return _DAY_MONTH_RE.sub(day_month, line)


def _unit_word(token: str) -> str:
    return UNITS.get(token) or RATE_ONLY_UNITS.get(token) or token


def _slashes(line: str) -> str:
    """Rates: "đồng/hộ" → "đồng trên hộ", "km/h" → "ki lô mét trên giờ", "24/24" → "24 trên 24"."""

    def chain(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        parts = tail.split("/")[1:]
        previous = _PREV_TOKEN_RE.search(_before(match))
        after_amount = previous is not None and any(ch.isdigit() for ch in previous.group(1))
        # A one-letter head is a unit only after an amount ("5 m/s"), never in "Quý V/2026".
        head_is_unit = head in UNITS and (len(head) > 1 or after_amount)
        is_rate = (
            any(ch.isdigit() for ch in head)
            or head_is_unit
            or head.lower() in CURRENCY_WORDS
            or after_amount
            or (len(parts[0]) > 1 and parts[0] in UNITS)  # "giá/m2", "giá/kg"
        )
        if is_rate:
            head_word = UNITS[head] if head_is_unit else head
            return head_word + "".join(" trên " + _unit_word(p) for p in parts)
        if all(p.isalpha() and len(p) > 1 for p in [head, *parts]):
            return ", ".join([head, *parts])  # "nam/nữ", "và/hoặc": a short pause (not "V/v")
        return match.group(0)

    return _SLASH_CHAIN_RE.sub(chain, line)


def _times(line: str) -> str:
    """6h30, 06h30, 7g30, 6:30, 17h00, 14:15:30 → "… giờ … phút"."""

    def spoken(hour: int, minute: int, second: int = 0) -> str:
        words = f"{num.cardinal(hour)} giờ"
        if minute:
            words += f" {num.cardinal(minute)} phút"
        if second:
            words += f" {num.cardinal(second)} giây"
        return words

    def with_h(match: re.Match[str]) -> str:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 24 or minute > 59:
            return match.group(0)
        if minute == 0 and "phút" in (match.group(3) or ""):
            return f"{num.cardinal(hour)} giờ không phút"  # the written word is kept
        return spoken(hour, minute)

    def with_colon(match: re.Match[str]) -> str:
        hour, minute = int(match.group(1)), int(match.group(2))
        second = int(match.group(3) or 0)
        if hour > 24 or minute > 59 or second > 59:
            return match.group(0)
        if minute == 0 and match.group(4):
            return f"{num.cardinal(hour)} giờ không phút" + (f" {num.cardinal(second)} giây" if second else "")
        return spoken(hour, minute, second)

    line = _TIME_H_RE.sub(with_h, line)
    return _TIME_COLON_RE.sub(with_colon, line)


def _units(line: str) -> str:
    """Amounts with a unit, a percent sign or a currency: "2,5 ha", "15%", "38°C", "25.000đ"."""

    def unit(match: re.Match[str]) -> str:
        spoken = num.number(match.group("num"))
        if match.group("sign"):
            spoken = "âm " + spoken
        return f"{spoken} {UNITS[match.group('unit')]}"

    return _UNIT_RE.sub(unit, line)


def _roman_numbers(line: str) -> str:
    """Roman numerals after quý, phần, chương, khóa, thứ …: "Khóa XV" → "Khóa mười lăm"."""

    def roman_after(match: re.Match[str]) -> str:
        token = match.group(3)
        value = num.roman(token)
        if not value or (len(token) == 1 and token not in "IVX"):
            return match.group(0)
        keyword = match.group(1)
        word = num.ordinal(value) if keyword.lower() == "thứ" else num.cardinal(value)
        return f"{keyword}{match.group(2)}{word}"

    return _ROMAN_AFTER_RE.sub(roman_after, line)


def _keyword_numbers(line: str) -> str:
    """Numbers read by the word before them: "thứ 4" (ordinal/weekday), "tháng 4" (month), with lists."""

    def listed(reader):
        def replace(match: re.Match[str]) -> str:
            body = _LIST_DASH_RE.sub(" đến ", match.group(3))
            body = _LIST_NUMBER_RE.sub(lambda n: reader(int(n.group(0))), body)
            return f"{match.group(1)}{match.group(2)}{body}"

        return replace

    line = _ORDINAL_LIST_RE.sub(listed(num.ordinal), line)
    return _MONTH_LIST_RE.sub(listed(lambda n: num.month(n) if 1 <= n <= 12 else num.cardinal(n)), line)


def _emergency(line: str) -> str:
    """111/113/114/115 where they are called, and hotline numbers → digit by digit."""

    def emergency(match: re.Match[str]) -> str:
        before = _before(match)
        clause = _CLAUSE_END_RE.split(before)[-1][-40:]
        if _CALL_BEFORE_RE.search(clause) or _SERVICE_AFTER_RE.match(match.string, match.end()):
            return num.digits(match.group(1))
        return match.group(0)

    line = _HOTLINE_RE.sub(lambda m: m.group(1) + m.group(2) + num.digits(m.group(3)), line)
    return _EMERGENCY_RE.sub(emergency, line)


def _plain_numbers(line: str) -> str:
    """Every number left: a cardinal, a decimal, a list; kept apart from letters glued to it."""

    def plain(match: re.Match[str]) -> str:
        spoken = num.number(match.group(1))
        text = match.string
        if match.start() > 0 and text[match.start() - 1].isalpha():
            spoken = " " + spoken
        if match.end() < len(text) and text[match.end()].isalpha():
            spoken += " "
        return spoken

    return _NUMBER_RE.sub(plain, line)


def _capitals(line: str) -> str:
    """Words in capitals that are Vietnamese syllables are read as words: lower-case them."""
    words = list(_CAPS_WORD_RE.finditer(line))
    if not words:
        return line
    caps = [w.group(0).isupper() and is_syllable(w.group(0)) for w in words]
    pieces: list[str] = []
    last = 0
    for index, word in enumerate(words):
        token = word.group(0)
        if not caps[index]:
            continue
        if len(token) == 1:
            neighbours = [j for j in (index - 1, index + 1) if 0 <= j < len(words)]
            if not any(caps[j] and len(words[j].group(0)) > 1 for j in neighbours):
                continue
        lowered = token.lower()
        if _starts_sentence(line, word.start()):
            lowered = lowered[0].upper() + lowered[1:]
        pieces.append(line[last: word.start()])
        pieces.append(lowered)
        last = word.end()
    pieces.append(line[last:])
    return "".join(pieces)


def _tidy(line: str) -> str:
    line = _MULTISPACE_RE.sub(" ", line)
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", line).strip()


def normalize_line(line: str, lexicon: Lexicon, found: list[Spelled] | None = None) -> str:
    """Normalize one line (no newline inside) with the given lexicon; spelled tokens go to found."""
    if not line.strip():
        return ""
    line = _SPACES_RE.sub(" ", line)
    line = markup.unvoiced(line)
    original = line.lstrip()
    line = _headings(line)
    # Most lines of a bulletin have no digit; skipping the number passes for them halves the time.
    if "/" in line or _DIGIT_RE.search(line):
        line = _doc_refs(line)  # before the lexicon: codes such as KH-UBND are not read at all
    line = _lexicon(line, lexicon)
    has_digits = _DIGIT_RE.search(line) is not None
    if has_digits:
        line = _WEEKDAY_ABBR_RE.sub(r"thứ \1", line)
    line = spell_unknown(line, lexicon, UNITS, found)  # never a run of Latin letters to the engine
    if has_digits:
        if "-" in line or "−" in line:
            line = _NEGATIVE_RE.sub(lambda m: (m.group(1) or "") + "âm ", line)
        line = _phones(line)
        line = _dashed_dates(line)
        line = _ranges(line)
        line = _dates(line)
    if "/" in line:
        line = _slashes(line)
    if has_digits:
        line = markup.clock_g(line)
        line = _times(line)
        line = _units(line)
    if "C" in line:
        line = _DO_C_RE.sub(r"\1xê", line)
    if _ROMAN_CANDIDATE_RE.search(line):
        line = _roman_numbers(line)
    if has_digits:
        line = _keyword_numbers(line)
        line = _emergency(line)
        line = _plain_numbers(line)
    line = _tidy(_capitals(markup.inner_underscores(line)))
    if original[:1].isdigit() and line[:1].islower():
        line = line[0].upper() + line[1:]  # a numbered heading: "1. Mục đích" → "Một. Mục đích"
    return line


@lru_cache(maxsize=1)
def _builtin_lexicon() -> Lexicon:
    return Lexicon.load(None)


def normalize(text: str, lexicon: object | None = None) -> str:
    """Return the text as it should be spoken (NFC), line by line.

    lexicon is a Lexicon (built-in plus station entries) or None for the built-in list only.
    Newlines are kept, so a text of N lines gives N lines.
    """
    lex = _builtin_lexicon() if lexicon is None else lexicon
    if not isinstance(lex, Lexicon):
        raise TypeError(f"lexicon must be a Lexicon or None, not {type(lexicon).__name__}")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(normalize_line(line, lex) for line in text.split("\n"))
