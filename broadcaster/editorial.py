"""The bulletin workflow: drafts, submission, approval, rejection, officers' recordings, .docx import.

Keyword-only data-access functions. Those taking a ``session`` add their change and its audit
row to the caller's transaction (the caller commits, so a change and its record land together
or not at all); those taking a ``station`` also render or decode audio.

Workflow (who may do what is the web layer's business; these functions check the states):

    draft ──submit──▶ submitted ──approve──▶ approved (rendered ahead) ──▶ scheduled / aired / expired
      ▲                   │
      └──edit── rejected ◀┘ reject (with a comment)

Editing a submitted or approved bulletin sends it back to draft: what a leader approved is
exactly what airs.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from . import accounts
from .exceptions import AudioError, InputError, NotFoundError
from .localtime import parse_day
from .models import (
    Bulletin,
    BulletinClass,
    BulletinPublic,
    BulletinStatus,
    Frequency,
    utcnow,
)

PAGE_SIZE = 50
RECORDING_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4"}
MAX_RECORDING_BYTES = 50 * 1024 * 1024
MIN_RECORDING_S = 0.5
MAX_DOCX_BYTES = 10 * 1024 * 1024
# ---- input limits (issue 9 item 4): checked before anything is stored or rendered
MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 100_000  # a bulletin this long already reads for hours; a 5 MB text took 4 GB to render
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024  # all members of the zip, as really decompressed
MAX_DOCX_MEMBERS = 2000
MAX_DOCX_XML_BYTES = 20 * 1024 * 1024  # one XML part (the parser holds it all); 100,000 characters need ~2 MB
EDITABLE = {BulletinStatus.draft, BulletinStatus.rejected, BulletinStatus.submitted,
            BulletinStatus.approved, BulletinStatus.scheduled}



def check_title(title: str) -> None:
    if len(title) > MAX_TITLE_CHARS:
        raise InputError(f"Tiêu đề dài quá {MAX_TITLE_CHARS} ký tự ({len(title)} ký tự)")


def check_text_length(text: str) -> None:
    """Refuse a text too long to air (before it is stored or rendered)."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"Nội dung dài quá {MAX_TEXT_CHARS} ký tự ({len(text)} ký tự); hãy chia thành nhiều bản tin")


def decode_text_file(raw: bytes, name: str) -> str:
    """The text of an uploaded or given file: UTF-8 (with or without BOM), or UTF-16/32 with a BOM.

    Anything else (cp1258, latin-1, TCVN3…) is refused: guessing would store mojibake."""
    import codecs

    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            break
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(f"Tệp không phải UTF-8: {name} (hãy lưu lại dưới dạng UTF-8)") from None
    if "\x00" in text:
        raise InputError(f"Tệp không phải văn bản UTF-8: {name}")
    return text


def parse_date(value: str | None, what: str) -> date | None:
    """A date typed by an officer (YYYY-MM-DD or DD/MM/YYYY; empty = none); InputError names the field."""
    return parse_day(value, what)

@dataclass(frozen=True)
class BulletinFields:
    """What an editor types into the bulletin form (validated by `clean_fields`)."""

    title: str
    text: str
    bulletin_class: BulletinClass = BulletinClass.normal
    valid_from: date | None = None
    valid_until: date | None = None
    frequency: Frequency = Frequency.every_slot
    times: int | None = None
    slot_names: list[str] | None = None
    topic: str | None = None


@dataclass(frozen=True)
class BulletinPage:
    items: list[BulletinPublic]
    total: int
    page: int
    pages: int


def _nfc(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "").strip()


def clean_fields(
    *,
    title: str,
    text: str,
    bulletin_class: str | BulletinClass = BulletinClass.normal,
    valid_from: date | None = None,
    valid_until: date | None = None,
    frequency: str | Frequency = Frequency.every_slot,
    times: int | None = None,
    slot_names: list[str] | None = None,
    topic: str | None = None,
) -> BulletinFields:
    """Check and normalize (NFC, trimmed) a bulletin's fields; raise InputError with the first problem."""
    from .scheduling.programme import check_frequency

    title, text = _nfc(title), _nfc(text).replace("\r\n", "\n")
    if not title:
        raise InputError("Tiêu đề bản tin trống")
    check_title(title)
    if not text:
        raise InputError("Nội dung bản tin trống")
    check_text_length(text)
    try:
        bulletin_class = BulletinClass(bulletin_class)
    except ValueError as exc:
        raise InputError(f"Loại tin '{bulletin_class}' không có") from exc
    try:
        frequency = Frequency(frequency)
    except ValueError as exc:
        raise InputError(f"Tần suất '{frequency}' không hợp lệ") from exc
    if valid_from and valid_until and valid_until < valid_from:
        raise InputError("Ngày kết thúc trước ngày bắt đầu")
    names = [_nfc(n) for n in slot_names or [] if _nfc(n)] or None
    problem = check_frequency(frequency, times, names)
    if problem:
        raise InputError(problem)
    topic = _nfc(topic) or None
    if topic and len(topic) > 200:
        raise InputError("Chủ đề dài quá 200 ký tự")
    return BulletinFields(
        title=title,
        text=text,
        bulletin_class=bulletin_class,
        valid_from=valid_from,
        valid_until=valid_until,
        frequency=frequency,
        times=times if frequency == Frequency.n_times else None,
        slot_names=names if frequency == Frequency.chosen_slots else None,
        topic=topic,
    )


def _get(session: Session, bulletin_id: int) -> Bulletin:
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFoundError(f"Không có bản tin số {bulletin_id}")
    return bulletin


def get(*, session: Session, bulletin_id: int) -> BulletinPublic:
    return BulletinPublic.model_validate(_get(session, bulletin_id))


def list_page(*, session: Session, status: str | None = None, page: int = 1,
              page_size: int = PAGE_SIZE, query: str | None = None) -> BulletinPage:
    """Newest first, one page. `status` filters through the status index; `query` searches titles."""
    conditions = []
    if status:
        try:
            conditions.append(Bulletin.status == BulletinStatus(status))
        except ValueError as exc:
            raise InputError(f"Trạng thái '{status}' không có") from exc
    if query and query.strip():
        conditions.append(col(Bulletin.title).contains(query.strip()))
    total = session.exec(select(func.count()).select_from(Bulletin).where(*conditions)).one()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(Bulletin).where(*conditions).order_by(col(Bulletin.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return BulletinPage([BulletinPublic.model_validate(b) for b in rows], total, page, pages)


def status_counts(*, session: Session) -> dict[str, int]:
    rows = session.exec(select(Bulletin.status, func.count()).group_by(Bulletin.status)).all()
    return {str(status): n for status, n in rows}


def create_draft(*, session: Session, fields: BulletinFields, by: str) -> Bulletin:
    """A new draft written by `by` (flushed, so its id is known; the caller commits)."""
    bulletin = Bulletin(
        **fields.__dict__,
        status=BulletinStatus.draft,
        created_by=by,
        created_at=utcnow(),
    )
    session.add(bulletin)
    session.flush()
    accounts.record(session=session, user=by, action="bulletin.create", object_type="bulletin",
                    object_id=bulletin.id, detail=fields.title)
    return bulletin


def _back_to_draft(bulletin: Bulletin) -> None:
    """An edit invalidates an approval: the leader must approve what will air."""
    bulletin.status = BulletinStatus.draft
    bulletin.approved_at = None
    bulletin.approved_by = None
    bulletin.submitted_at = None
    bulletin.item_path = None
    bulletin.item_engine = None
    bulletin.item_duration_s = None
    bulletin.render_error = None


def update_draft(*, session: Session, bulletin_id: int, fields: BulletinFields, by: str) -> Bulletin:
    """Save an edit. A submitted/approved/rejected bulletin becomes a draft again; aired or expired ones
    are the station's record and cannot be changed."""
    bulletin = _get(session, bulletin_id)
    if bulletin.status not in EDITABLE:
        raise InputError(f"Bản tin đã {_label(bulletin.status)}: không sửa được nữa (hãy tạo bản tin mới)")
    before = bulletin.status
    for key, value in fields.__dict__.items():
        setattr(bulletin, key, value)
    _back_to_draft(bulletin)
    bulletin.updated_at = utcnow()
    bulletin.updated_by = by
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.edit", object_type="bulletin",
                    object_id=bulletin_id, detail=f"{before} → draft")
    return bulletin


def submit(*, session: Session, bulletin_id: int, by: str) -> Bulletin:
    """Send a draft (or a rejected bulletin after its edit) to the leaders."""
    bulletin = _get(session, bulletin_id)
    if bulletin.status not in (BulletinStatus.draft, BulletinStatus.rejected):
        raise InputError(f"Chỉ gửi duyệt được bản nháp (bản tin này: {_label(bulletin.status)})")
    bulletin.status = BulletinStatus.submitted
    bulletin.submitted_at = utcnow()
    bulletin.updated_by = by
    bulletin.updated_at = bulletin.submitted_at
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.submit", object_type="bulletin",
                    object_id=bulletin_id)
    return bulletin


def approve(*, station, bulletin_id: int, by: str) -> BulletinPublic:
    """A leader approves a submitted bulletin; it is rendered ahead at once (Station.prepare_bulletin).

    The approval is committed before rendering (a slow or failed render does not undo it); the
    result carries render_error when no file could be made."""
    with Session(station.db) as session:
        bulletin = _get(session, bulletin_id)
        if bulletin.status != BulletinStatus.submitted:
            raise InputError(f"Chỉ duyệt được bản tin đang chờ duyệt (bản tin này: {_label(bulletin.status)})")
        bulletin.status = BulletinStatus.approved
        bulletin.approved_at = utcnow()
        bulletin.approved_by = by
        bulletin.review_comment = None
        session.add(bulletin)
        accounts.record(session=session, user=by, action="bulletin.approve", object_type="bulletin",
                        object_id=bulletin_id)
        session.commit()
    result = station.prepare_bulletin(bulletin_id)
    if result.render_error:
        with Session(station.db) as session:
            accounts.record(session=session, user=by, action="bulletin.render_failed", object_type="bulletin",
                            object_id=bulletin_id, detail=result.render_error[:500])
            session.commit()
    return result


def reject(*, session: Session, bulletin_id: int, by: str, comment: str) -> Bulletin:
    """A leader sends a submitted bulletin back with a comment (required: the editor must know why)."""
    comment = _nfc(comment)
    if not comment:
        raise InputError("Cần ghi lý do trả lại để người viết biết cần sửa gì")
    bulletin = _get(session, bulletin_id)
    if bulletin.status != BulletinStatus.submitted:
        raise InputError(f"Chỉ trả lại được bản tin đang chờ duyệt (bản tin này: {_label(bulletin.status)})")
    bulletin.status = BulletinStatus.rejected
    bulletin.review_comment = comment
    bulletin.updated_by = by
    bulletin.updated_at = utcnow()
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.reject", object_type="bulletin",
                    object_id=bulletin_id, detail=comment[:500])
    return bulletin


# ------------------------------------------------------------------- recordings
def recordings_dir(settings) -> Path:
    return settings.data_dir / "recordings"


def check_recording(*, data: bytes, filename: str, sample_rate: int) -> float:
    """Refuse what is not a usable recording; return its length in seconds.

    The extension must be .mp3/.wav/.m4a, the size within MAX_RECORDING_BYTES, and ffmpeg must decode
    at least MIN_RECORDING_S of audio from it (a renamed text file or a truncated upload fails here)."""
    from . import media

    suffix = Path(filename or "").suffix.lower()
    if suffix not in RECORDING_TYPES:
        raise InputError("Tệp ghi âm phải là MP3, WAV hoặc M4A")
    if not data:
        raise InputError("Tệp ghi âm trống")
    if len(data) > MAX_RECORDING_BYTES:
        raise InputError(f"Tệp ghi âm lớn quá {MAX_RECORDING_BYTES // (1024 * 1024)} MB")
    try:
        samples = media.decode(bytes(data), sample_rate=sample_rate, channels=1)
    except AudioError as exc:
        raise InputError(f"Tệp '{Path(filename).name}' không phải âm thanh đọc được: {exc}") from exc
    seconds = len(samples) / sample_rate
    if seconds < MIN_RECORDING_S:
        raise InputError(f"Tệp ghi âm quá ngắn ({seconds:.1f} giây)")
    return seconds


def attach_recording(*, station, bulletin_id: int, data: bytes, filename: str, by: str) -> BulletinPublic:
    """Store an officer's own recording for a bulletin (it airs instead of synthesized speech).

    Checked first (check_recording), then written under <data_dir>/recordings/ named by its content
    hash; the bulletin goes back to draft (a leader approves the recording too)."""
    seconds = check_recording(data=data, filename=filename, sample_rate=station.settings.sample_rate)
    digest = hashlib.sha256(data).hexdigest()[:32]
    folder = recordings_dir(station.settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{Path(filename).suffix.lower()}"
    with Session(station.db) as session:
        bulletin = _get(session, bulletin_id)
        if bulletin.status not in EDITABLE:
            raise InputError(f"Bản tin đã {_label(bulletin.status)}: không đổi được nữa")
        if not path.exists():
            from .disk import write_atomic

            write_atomic(path, data)  # whole or not at all: a full disk leaves no .part
        bulletin.recording_path = str(path)
        _back_to_draft(bulletin)
        bulletin.updated_by = by
        bulletin.updated_at = utcnow()
        session.add(bulletin)
        accounts.record(session=session, user=by, action="bulletin.recording", object_type="bulletin",
                        object_id=bulletin_id, detail=f"{Path(filename).name} ({seconds:.1f} s)")
        session.commit()
        return BulletinPublic.model_validate(bulletin)


def remove_recording(*, session: Session, bulletin_id: int, by: str) -> Bulletin:
    """Go back to synthesized speech (the file stays: other bulletins or the log may use it)."""
    bulletin = _get(session, bulletin_id)
    if bulletin.status not in EDITABLE:
        raise InputError(f"Bản tin đã {_label(bulletin.status)}: không đổi được nữa")
    bulletin.recording_path = None
    _back_to_draft(bulletin)
    bulletin.updated_by = by
    bulletin.updated_at = utcnow()
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.recording_removed", object_type="bulletin",
                    object_id=bulletin_id)
    return bulletin


# ------------------------------------------------------------------------- docx
def import_docx(data: bytes) -> tuple[str, str]:
    """(title, text) from a .docx: the first non-empty paragraph is the title, the rest the text.

    Tables are read row by row (cells joined with ' – ') because officers often paste
    schedules as tables. Raises InputError (one line) for anything that is not a sound .docx:
    not a zip, corrupt, too big once decompressed, XML with a DTD (entity bombs) or broken XML,
    or more text than a bulletin may have."""
    from lxml import etree

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    if not data:
        raise InputError("Tệp .docx trống")
    if len(data) > MAX_DOCX_BYTES:
        raise InputError(f"Tệp .docx lớn quá {MAX_DOCX_BYTES // (1024 * 1024)} MB")
    _check_docx_package(data)
    try:
        document = Document(io.BytesIO(data))
        lines = _docx_lines(document)
    except InputError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, etree.LxmlError, *zipfile_errors()) as exc:
        raise InputError("Không đọc được tệp: cần tệp Word .docx (không phải .doc cũ hay PDF)") from exc
    except Exception as exc:  # python-docx on a package it does not expect: still one line
        raise InputError("Tệp .docx hỏng hoặc không đúng định dạng Word") from exc
    lines = [line for line in lines if line]
    if not lines:
        raise InputError("Tệp .docx không có chữ nào")
    title = lines[0][:MAX_TITLE_CHARS]
    text = "\n".join(lines[1:]) or lines[0]
    check_text_length(text)
    return title, text


def zipfile_errors() -> tuple[type[BaseException], ...]:
    import zipfile
    import zlib

    return (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, OSError)


def _check_docx_package(data: bytes) -> None:
    """Open the zip ourselves first and read every member for real (headers can lie): refuse a
    package that decompresses past MAX_DOCX_UNPACKED_BYTES, a corrupt one, and XML with a DTD."""
    import zipfile

    not_docx = "Không đọc được tệp: cần tệp Word .docx (không phải .doc cũ hay PDF)"
    too_big = f"Tệp .docx giải nén ra quá {MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB: không nhập được"
    xml_too_big = (f"Tệp .docx có phần văn bản giải nén ra quá {MAX_DOCX_XML_BYTES // (1024 * 1024)} MB: "
                   "không nhập được")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile_errors() as exc:
        raise InputError(not_docx) from exc
    with package:
        members = package.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            raise InputError(f"Tệp .docx có quá nhiều phần ({len(members)}): không nhập được")
        if "word/document.xml" not in {m.filename for m in members}:
            raise InputError(not_docx)
        if sum(m.file_size for m in members) > MAX_DOCX_UNPACKED_BYTES:
            raise InputError(too_big)
        budget = MAX_DOCX_UNPACKED_BYTES
        for member in members:
            xml = member.filename.endswith((".xml", ".rels"))
            if xml and member.file_size > MAX_DOCX_XML_BYTES:
                raise InputError(xml_too_big)
            try:
                with package.open(member) as handle:
                    head, size = b"", 0
                    while True:
                        chunk = handle.read(64 * 1024)
                        if not chunk:
                            break
                        budget -= len(chunk)
                        size += len(chunk)
                        if budget < 0:
                            raise InputError(too_big)
                        if xml and size > MAX_DOCX_XML_BYTES:
                            raise InputError(xml_too_big)
                        if len(head) < 4096:
                            head += chunk[: 4096 - len(head)]
            except InputError:
                raise
            except zipfile_errors() as exc:
                raise InputError("Tệp .docx bị hỏng (không giải nén được)") from exc
            if xml and _has_dtd(head):
                raise InputError("Tệp .docx chứa khai báo DTD/ENTITY không được phép: không nhập được")


def _has_dtd(head: bytes) -> bool:
    """A DOCTYPE or ENTITY declaration at the top of an XML part (Word never writes one)."""
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
        probe = head.decode(encoding, errors="ignore").upper()
        if "<!DOCTYPE" in probe or "<!ENTITY" in probe:
            return True
    return False


def _docx_lines(document) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    size = 0
    body = document.element.body
    # walk the body in order so tables stay where they were in the document
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            lines.append(_nfc(Paragraph(child, document).text))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    value = _nfc(cell.text)
                    if value and value not in cells:  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    lines.append(" – ".join(cells))
        else:
            continue
        size += len(lines[-1]) + 1 if lines else 0
        if size > MAX_TEXT_CHARS + MAX_TITLE_CHARS + 1:  # stop reading: it is too long anyway
            raise InputError(f"Nội dung dài quá {MAX_TEXT_CHARS} ký tự; hãy chia thành nhiều bản tin")
    return lines


def _label(status) -> str:
    from .models import STATUS_LABELS

    return STATUS_LABELS.get(str(status), str(status))
