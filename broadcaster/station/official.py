"""The layout of a Vietnamese official document (Nghị định 30/2020/NĐ-CP), read as a bulletin.

A commune's plan, notice or letter has parts that are never read on air: the issuing body and the
national motto at the top, the số/ký hiệu line, the place and date, the "V/v" summary, and at the
end "Nơi nhận:" with its list, "Lưu: …", and the signature block ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
the signer's name). The title is the line after the document's kind ("KẾ HOẠCH", "THÔNG BÁO" …) or
the "V/v" line, never "Số: /KH-UBND". "./." (the end mark) goes.

Nothing is lost: every part set aside is returned as a `DroppedPart`, so the officer sees it and can
put it back (before or after the text, where it stood). Pure functions on lines; no Word library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CELL_SEPARATOR = "; "  # a pause between table cells; a dash would be read as a range ("3 – 15" → "ba đến mười lăm")

KINDS = (
    "KẾ HOẠCH", "THÔNG BÁO", "QUYẾT ĐỊNH", "BÁO CÁO", "TỜ TRÌNH", "CHƯƠNG TRÌNH", "HƯỚNG DẪN", "GIẤY MỜI",
    "NGHỊ QUYẾT", "CHỈ THỊ", "CÔNG VĂN", "THƯ MỜI", "LỜI KÊU GỌI", "THƯ KÊU GỌI", "THƯ NGỎ", "PHƯƠNG ÁN",
    "ĐỀ ÁN", "QUY CHẾ", "QUY ĐỊNH", "CÔNG ĐIỆN", "THÔNG CÁO", "BẢN TIN",
)
_KIND_RE = re.compile(r"^\s*\**\s*(?:" + "|".join(re.escape(k) for k in KINDS) + r")(?!\w)\**\s*:?\s*(?P<rest>.*)$")
_VV_RE = re.compile(r"^\s*(?:V/v|v/v|V/V|Về việc)\s*:?\s*(?P<rest>.+)$")
_NUMBER_RE = re.compile(r"^\s*Số\s*:?\s*[\d\s]*/\s*[\w\-/Đđ]*\s*$|^\s*Số\s*:\s*\S*\s*$", re.IGNORECASE)
_MOTTO_RE = re.compile(r"^\s*(CỘNG HÒA|CỘNG HOÀ|ĐẢNG CỘNG SẢN|Độc lập\s*[-–—]\s*Tự do)", re.IGNORECASE)
_PLACE_DATE_RE = re.compile(r"^\s*[^\d,]{2,40},\s*ngày\b.*\btháng\b.*\bnăm\b", re.IGNORECASE)
_RECEIVERS_RE = re.compile(r"^\s*\**\s*Nơi nhận\s*:?", re.IGNORECASE)
_KEPT_RE = re.compile(r"^\s*[-+•]?\s*Lưu\s*:", re.IGNORECASE)
_SIGN_FOR_RE = re.compile(r"^\s*\**\s*(?:KT|TM|TL|TUQ|Q|TQ|UQ)\s*\.\s*\S")
_OFFICE_WORDS = r"(?:CHỦ TỊCH|BÍ THƯ|TRƯỞNG|GIÁM ĐỐC|CHÁNH|CHỈ HUY|PHÓ|ỦY VIÊN|UỶ VIÊN|THỦ TRƯỞNG|NGƯỜI KÝ)"
_OFFICE_RE = re.compile(r"^\s*\**\s*" + _OFFICE_WORDS + r"[^a-zà-ỹđ\d]*\**\s*$")
_SIGNED_RE = re.compile(r"^\s*\(\s*(?:Đã ký|Ký|ký tên|Ký, ghi rõ|Ký và)[^)]*\)\s*$", re.IGNORECASE)
_END_MARK_RE = re.compile(r"\s*\./\.\s*$")
_TAIL_LINE_CHARS = 150  # the parts after "Nơi nhận" or a signature are short lines
_HEAD_LINES = 15  # the document's kind is within its first lines


@dataclass(frozen=True)
class Block:
    """A paragraph (its lines) or a table (its rows read as lines, and every cell's text)."""

    lines: tuple[str, ...]
    table: bool = False
    cells: tuple[str, ...] = ()


@dataclass(frozen=True)
class DroppedPart:
    """Lines set aside: why (Vietnamese, shown to the officer), and where they stood."""

    reason: str
    text: str
    at_start: bool


@dataclass(frozen=True)
class ImportedDocument:
    """A document read as a bulletin: the title, the text to air and the parts set aside."""

    title: str
    text: str
    dropped: tuple[DroppedPart, ...] = field(default_factory=tuple)

    def with_everything(self) -> str:
        """The text with every part set aside put back where it stood (before or after)."""
        head = [p.text for p in self.dropped if p.at_start]
        tail = [p.text for p in self.dropped if not p.at_start]
        return "\n".join([*head, self.text, *tail]).strip()


def table_row(cells: list[str]) -> str:
    """One table row as one line: the cells with a pause between them, a full stop at the end."""
    line = CELL_SEPARATOR.join(" ".join(cell.split()) for cell in cells)
    return line if line[-1:] in ".;:!?" else line + "."


def _is_header_line(line: str) -> str | None:
    if _NUMBER_RE.match(line):
        return "Số, ký hiệu văn bản"
    if _MOTTO_RE.match(line):
        return "Quốc hiệu, tiêu ngữ"
    if _PLACE_DATE_RE.match(line):
        return "Địa danh, ngày tháng"
    if _VV_RE.match(line):
        return "Trích yếu (V/v)"
    return None


def _is_tail_start(line: str) -> str | None:
    if _RECEIVERS_RE.match(line):
        return "Nơi nhận"
    if _SIGN_FOR_RE.match(line) or _OFFICE_RE.match(line):
        return "Chữ ký"
    return None


def _is_footer_table(block: Block) -> bool:
    return any(_is_tail_start(line) for cell in block.cells for line in cell.split("\n"))


def _is_header_table(block: Block) -> bool:
    return any(_is_header_line(line) for cell in block.cells for line in cell.split("\n"))


def _title_case(text: str) -> str:
    text = " ".join(text.split()).strip(" .:")
    return text[:1].upper() + text[1:]


def official_layout(blocks: list[Block], *, max_title: int) -> ImportedDocument:
    """Title, text and dropped parts of a document given as blocks in reading order."""
    # 1. lines, each with a reason when it is never read (tables at the top or bottom go whole)
    lines: list[tuple[str, str | None]] = []
    for index, block in enumerate(blocks):
        whole = None
        if block.table and index <= 3 and _is_header_table(block):
            whole = "Tiêu đề văn bản (cơ quan, số, ngày)"
        elif block.table and _is_footer_table(block):
            whole = "Nơi nhận, chữ ký"
        if whole:
            lines.extend((cell_line, whole) for cell in block.cells for cell_line in cell.split("\n") if cell_line.strip())
        else:
            lines.extend((line, None) for line in block.lines if line.strip())
    if not lines:
        return ImportedDocument(title="", text="")
    texts = [text for text, _ in lines]
    reasons: list[str | None] = [reason for _, reason in lines]

    # 2. the heading: the document's kind, and its title on the line after (or on the same line)
    heading = next((i for i in range(min(_HEAD_LINES, len(texts))) if reasons[i] is None and _KIND_RE.match(texts[i])),
                   None)
    title = ""
    first_body = 0
    if heading is not None:
        rest = _KIND_RE.match(texts[heading]).group("rest").strip()
        following = next((texts[j] for j in range(heading + 1, len(texts)) if reasons[j] is None), "")
        title = _title_case(rest or _VV_RE.sub(r"\g<rest>", following))
        for i in range(heading):
            reasons[i] = reasons[i] or _is_header_line(texts[i]) or "Tiêu đề văn bản (cơ quan, số, ngày)"
        first_body = heading
    else:
        for i in range(min(_HEAD_LINES, len(texts))):
            reasons[i] = reasons[i] or _is_header_line(texts[i])
        vv = next((i for i in range(min(_HEAD_LINES, len(texts))) if _VV_RE.match(texts[i])), None)
        if vv is not None:
            title = _title_case(_VV_RE.match(texts[vv]).group("rest"))

    # 3. the tail: from "Nơi nhận:" or a signature to the end, when only short lines follow
    for i in range(first_body + 1, len(texts)):
        if reasons[i] is None and _is_tail_start(texts[i]) and all(len(t) <= _TAIL_LINE_CHARS for t in texts[i:]):
            current = _is_tail_start(texts[i])
            for j in range(i, len(texts)):
                if reasons[j] is None:
                    started = _is_tail_start(texts[j])
                    current = started if started and started != current and j > i else current
                    reasons[j] = "Lưu" if _KEPT_RE.match(texts[j]) else current
            break
    for i, text in enumerate(texts):
        if reasons[i] is None and _KEPT_RE.match(text):
            reasons[i] = "Lưu"

    # 4. the body; with no heading and no V/v the first line read is the title (and is not repeated)
    body = [i for i in range(len(texts)) if reasons[i] is None]
    if not title and body:
        title = _title_case(texts[body[0]])
        if len(body) > 1:
            reasons[body[0]] = "Tiêu đề"
            body = body[1:]
    text = "\n".join(_END_MARK_RE.sub(".", texts[i]).rstrip() for i in body)
    return ImportedDocument(title=title[:max_title], text=text or title, dropped=_groups(texts, reasons, body))


def _groups(texts: list[str], reasons: list[str | None], body: list[int]) -> tuple[DroppedPart, ...]:
    """Consecutive lines set aside for the same reason, as one part each (a bare title is not one)."""
    first = body[0] if body else len(texts)
    parts: list[DroppedPart] = []
    for i, (text, reason) in enumerate(zip(texts, reasons)):
        if reason is None or reason == "Tiêu đề":
            continue
        at_start = i < first
        if parts and parts[-1].reason == reason and parts[-1].at_start == at_start and reasons[i - 1] == reason:
            last = parts.pop()
            parts.append(DroppedPart(reason=reason, text=last.text + "\n" + text, at_start=at_start))
        else:
            parts.append(DroppedPart(reason=reason, text=text, at_start=at_start))
    return tuple(parts)


__all__ = ["Block", "CELL_SEPARATOR", "DroppedPart", "ImportedDocument", "official_layout", "table_row"]
