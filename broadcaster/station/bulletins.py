"""The one bulletin service: validation, the workflow (drafts, submission, approval with its audit
row, rejection), officers' recordings and the day's pool of due bulletins.

Keyword-only data-access functions: those taking a ``session`` add their change and its audit row to
the caller's transaction (the caller commits, so a change and its record land together or not at all).
`Bulletins` wraps them for callers that hold no session (the CLI, the facade); it is built with its
engine and the items part (`station.items.Items`), which renders what is approved. Both the web
console and the CLI go through here: one set of rules.

Workflow (who may do what is the web layer's business; these functions check the states):

    draft ──submit──▶ submitted ──approve──▶ approved (rendered ahead) ──▶ scheduled / aired / expired
      ▲                   │
      └──edit── rejected ◀┘ reject (with a comment)

Editing a submitted or approved bulletin sends it back to draft: what a leader approved is
exactly what airs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .. import accounts
from ..db import as_utc
from ..localtime import duration_words, parse_day
from ..exceptions import AudioError, InputError, NotFoundError
from ..voice_ids import check_voice_id
from ..models import (
    Bulletin,
    BulletinClass,
    BulletinPublic,
    BulletinStatus,
    Frequency,
    utcnow,
)

from .bulletin_rows import RENDER_DONE as RENDER_DONE  # re-exported: the render states' old home
from .bulletin_rows import RENDER_FAILED as RENDER_FAILED
from .bulletin_rows import RENDER_QUEUED, RENDER_RUNNING as RENDER_RUNNING
from .bulletin_rows import for_write as _for_write
from .cache import convert_once
from .texts import MAX_TEXT_CHARS as MAX_TEXT_CHARS  # the limits' old home: re-exported
from .texts import MAX_TITLE_CHARS as MAX_TITLE_CHARS
from .texts import check_text_length, check_title
from .texts import nfc as _nfc

if TYPE_CHECKING:
    from ..config import Settings
    from .items import Items

log = logging.getLogger(__name__)

PAGE_SIZE = 50
# phones: M4A/MP4 (AAC or Opus), OGG/Opus voice notes, AAC; and MP3/WAV from a computer
RECORDING_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".mp4": "audio/mp4",
                   ".aac": "audio/aac", ".ogg": "audio/ogg", ".opus": "audio/ogg"}
RECORDING_KINDS = "MP3, WAV hoặc M4A (tệp ghi âm của điện thoại: M4A, MP4, AAC, OGG/Opus)"
MAX_RECORDING_BYTES = 100 * 1024 * 1024  # 30 minutes at a phone's best AAC (256 kbit/s) is ~58 MB
MIN_RECORDING_S = 0.5
CHECK_RATE = 8000  # an upload is checked and measured at this rate: cheap even for 30 minutes
# ---- input limits (issue 9 item 4): station.texts, checked before anything is stored or rendered
EDITABLE = {BulletinStatus.draft, BulletinStatus.rejected, BulletinStatus.submitted,
            BulletinStatus.approved, BulletinStatus.scheduled}


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
    voice: str | None = None


@dataclass(frozen=True)
class BulletinPage:
    items: list[BulletinPublic]
    total: int
    page: int
    pages: int


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
    voice: str | None = None,
    voices: Collection[str] | None = None,
) -> BulletinFields:
    """Check and normalize (NFC, trimmed) a bulletin's fields; raise InputError with the first problem.

    voice is engine:voice or empty (the station's default); `voices`, when given, are the ids
    installed here, and a voice not among them is refused."""
    from ..scheduling.programme import check_frequency

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
    voice = _nfc(voice) or None
    if voice:
        try:
            check_voice_id(voice)
        except ValueError as exc:
            raise InputError(f"Giọng đọc không hợp lệ: {exc}", voice=voice) from exc
        if voices is not None and voice not in voices:
            raise InputError(f"Giọng đọc '{voice}' chưa được cài trên đài này", voice=voice)
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
        voice=voice,
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


def create_draft(*, session: Session, fields: BulletinFields, by: str | None) -> Bulletin:
    """A new draft written by `by` (flushed, so its id is known; the caller commits)."""
    bulletin = Bulletin(
        **fields.__dict__,
        status=BulletinStatus.draft,
        created_by=by,
        created_at=utcnow(),
        render_state=RENDER_QUEUED,  # rendered in the background from now on (station.renders)
    )
    session.add(bulletin)
    session.flush()
    accounts.record(session=session, user=by, action="bulletin.create", object_type="bulletin",
                    object_id=bulletin.id, detail=fields.title)
    return bulletin


def _editable(bulletin: Bulletin, refusal: str = "không đổi được nữa") -> Bulletin:
    """The bulletin, if its status lets it change (EDITABLE); else InputError naming its status."""
    if bulletin.status not in EDITABLE:
        raise InputError(f"Bản tin đã {_label(bulletin.status)}: {refusal}")
    return bulletin


def _back_to_draft(bulletin: Bulletin) -> None:
    """An edit invalidates an approval: the leader must approve what will air."""
    bulletin.status = BulletinStatus.draft
    bulletin.approved_at = None
    bulletin.approved_by = None
    bulletin.submitted_at = None
    bulletin.item_path = None
    bulletin.item_engine = None
    bulletin.item_voice = None
    bulletin.item_duration_s = None
    bulletin.render_error = None
    bulletin.render_state = RENDER_QUEUED  # what was changed is rendered again, in the background


def update_draft(*, session: Session, bulletin_id: int, fields: BulletinFields, by: str) -> Bulletin:
    """Save an edit. A submitted/approved/rejected bulletin becomes a draft again; aired or expired ones
    are the station's record and cannot be changed."""
    bulletin = _editable(_for_write(session, bulletin_id), "không sửa được nữa (hãy tạo bản tin mới)")
    before = bulletin.status
    for key, value in fields.__dict__.items():
        setattr(bulletin, key, value)
    _back_to_draft(bulletin)
    bulletin.updated_at = utcnow()
    bulletin.updated_by = by
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.edit", object_type="bulletin",
                    object_id=bulletin_id,
                    detail=None if before == BulletinStatus.draft else f"{_label(before)} → {_label('draft')}")
    return bulletin


def submit(*, session: Session, bulletin_id: int, by: str | None) -> Bulletin:
    """Send a draft (or a rejected bulletin after its edit) to the leaders."""
    bulletin = _for_write(session, bulletin_id)
    if bulletin.status not in (BulletinStatus.draft, BulletinStatus.rejected):
        raise InputError(f"Chỉ gửi duyệt được bản nháp (bản tin này: {_label(bulletin.status)})")
    bulletin.status = BulletinStatus.submitted
    if not bulletin.item_path or not Path(bulletin.item_path).is_file():
        bulletin.render_state = RENDER_QUEUED  # the leader hears it before approving
    bulletin.submitted_at = utcnow()
    bulletin.updated_by = by
    bulletin.updated_at = bulletin.submitted_at
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.submit", object_type="bulletin",
                    object_id=bulletin_id)
    return bulletin


def approve(*, session: Session, bulletin_id: int, by: str | None, at: datetime | None = None) -> Bulletin:
    """A leader approves a submitted bulletin: its state and its audit row, in the caller's
    transaction. Rendering ahead is `Bulletins.approve` (after the commit)."""
    bulletin = _for_write(session, bulletin_id)
    if bulletin.status != BulletinStatus.submitted:
        raise InputError(f"Chỉ duyệt được bản tin đang chờ duyệt (bản tin này: {_label(bulletin.status)})")
    bulletin.status = BulletinStatus.approved
    bulletin.approved_at = at or utcnow()
    bulletin.approved_by = by
    bulletin.review_comment = None
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.approve", object_type="bulletin",
                    object_id=bulletin_id)
    return bulletin


def reject(*, session: Session, bulletin_id: int, by: str, comment: str) -> Bulletin:
    """A leader sends a submitted bulletin back with a comment (required: the editor must know why)."""
    comment = _nfc(comment)
    if not comment:
        raise InputError("Cần ghi lý do trả lại để người viết biết cần sửa gì")
    bulletin = _for_write(session, bulletin_id)
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


def check_recording_file(path: Path, *, filename: str | None = None, max_minutes: float = 30.0) -> float:
    """Refuse what is not a usable recording; return its length in seconds.

    The name must end in one of RECORDING_TYPES, the size be within MAX_RECORDING_BYTES, and ffmpeg
    must decode between MIN_RECORDING_S and `max_minutes` of audio from the file on disk (not a pipe:
    a phone's M4A keeps its index at the end). One Vietnamese line, never ffmpeg's text."""
    from .. import media

    path = Path(path)
    name = Path(filename or path.name).name
    if Path(name).suffix.lower() not in RECORDING_TYPES:
        raise InputError(f"Tệp ghi âm phải là {RECORDING_KINDS}")
    if not path.is_file():
        raise InputError(f"Không tìm thấy tệp ghi âm: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InputError("Tệp ghi âm trống")
    if size > MAX_RECORDING_BYTES:
        raise InputError(f"Tệp ghi âm lớn quá {MAX_RECORDING_BYTES // (1024 * 1024)} MB")
    try:
        seconds = media.decoded_seconds(path, sample_rate=CHECK_RATE)
    except AudioError as exc:
        log.info("recording %s refused: %s", name, exc.fields.get("reason", exc))
        raise InputError(f"Tệp '{name}' không phải âm thanh đọc được: tệp hỏng, chưa tải hết hoặc sai định dạng"
                         ) from None
    if seconds < MIN_RECORDING_S:
        raise InputError(f"Tệp ghi âm quá ngắn ({seconds:.1f} giây)")
    if seconds > max_minutes * 60 + 1:
        minutes, rest = divmod(int(round(seconds)), 60)
        raise InputError(f"Tệp ghi âm dài {minutes} phút {rest} giây: quá {max_minutes:g} phút cho phép")
    return seconds


def check_recording(*, data: bytes, filename: str, sample_rate: int | None = None,
                    max_minutes: float = 30.0) -> float:
    """`check_recording_file` for bytes held in memory (written to a private temporary file first)."""
    with staged_bytes(data, filename) as path:
        return check_recording_file(path, filename=filename, max_minutes=max_minutes)


@contextmanager
def staged_bytes(data: bytes, filename: str, folder: Path | None = None) -> Iterator[Path]:
    """`data` as a private temporary file (with `filename`'s suffix) under `folder`, removed after."""
    import tempfile

    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=Path(filename or "").suffix.lower()[:10], dir=folder)
    path = Path(name)
    try:
        with open(handle, "wb") as out:
            out.write(data)
        yield path
    finally:
        path.unlink(missing_ok=True)


def keep_recording(settings: Settings, source: Path, filename: str | None = None) -> Path:
    """Copy a checked recording under <data_dir>/recordings/, named by its content (the same upload is
    stored once), whole or not at all (a full disk leaves no .part)."""
    import shutil

    from ..disk import part_file

    digest = hashlib.sha256()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    suffix = Path(filename or source.name).suffix.lower()
    path = recordings_dir(settings) / f"{digest.hexdigest()[:32]}{suffix}"

    def copy(out: Path) -> None:
        with part_file(out) as tmp:
            shutil.copyfile(source, tmp)

    return convert_once(path, copy)


def _with_recording(session: Session, bulletin: Bulletin, path: Path, *, name: str, seconds: float, by: str | None):
    bulletin.recording_path = str(path)
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.recording", object_type="bulletin",
                    object_id=bulletin.id, detail=f"{name} ({duration_words(seconds)})")


def attach_recording(*, engine: Engine, settings: Settings, bulletin_id: int, data: bytes | None = None,
                     filename: str, by: str, source: Path | None = None) -> BulletinPublic:
    """Store an officer's own recording for a bulletin (it airs instead of synthesized speech).

    `source` (a file on disk) or `data` (bytes, staged to a temporary file): checked first
    (check_recording_file), then kept under <data_dir>/recordings/ named by its content hash; the
    bulletin goes back to draft (a leader approves the recording too)."""
    if source is None:
        with staged_bytes(data or b"", filename, settings.cache_dir / "incoming") as staged:
            return attach_recording(engine=engine, settings=settings, bulletin_id=bulletin_id, filename=filename,
                                    by=by, source=staged)
    seconds = check_recording_file(source, filename=filename, max_minutes=settings.recording_max_minutes)
    with Session(engine) as session:
        _editable(_get(session, bulletin_id))  # refused before a file is kept
        # copied before the write lock is taken: playout's as-run rows never wait behind a long copy
        path = keep_recording(settings, source, filename)
        # checked again under the lock (aired meanwhile?); a file kept for nothing is named by content: harmless
        bulletin = _editable(_for_write(session, bulletin_id))
        _back_to_draft(bulletin)
        bulletin.updated_by = by
        bulletin.updated_at = utcnow()
        _with_recording(session, bulletin, path, name=Path(filename).name, seconds=seconds, by=by)
        session.commit()
        return BulletinPublic.model_validate(bulletin)


def remove_recording(*, session: Session, bulletin_id: int, by: str) -> Bulletin:
    """Go back to synthesized speech (the file stays: other bulletins or the log may use it)."""
    bulletin = _editable(_for_write(session, bulletin_id))
    bulletin.recording_path = None
    _back_to_draft(bulletin)
    bulletin.updated_by = by
    bulletin.updated_at = utcnow()
    session.add(bulletin)
    accounts.record(session=session, user=by, action="bulletin.recording_removed", object_type="bulletin",
                    object_id=bulletin_id)
    return bulletin


def list_all(*, session: Session) -> list[BulletinPublic]:
    """Every bulletin, oldest first (the CLI's list)."""
    rows = session.exec(select(Bulletin).order_by(col(Bulletin.id))).all()
    return [BulletinPublic.model_validate(b) for b in rows]


def due(*, session: Session, day: date) -> list[BulletinPublic]:
    """Approved bulletins valid on a station-local day, in airing order (ưu tiên first, then by approval).

    Slot by slot selection (frequency, maximum length) is the programme's; this is the day's pool."""
    from ..scheduling.store import airing_counts

    live = [BulletinStatus.approved, BulletinStatus.scheduled]
    rows = session.exec(select(Bulletin).where(col(Bulletin.status).in_(live))).all()
    counts = airing_counts(session=session, bulletin_ids=[b.id for b in rows if b.frequency == "n_times"])
    pool = [
        BulletinPublic.model_validate(b)
        for b in rows
        if (b.valid_from is None or b.valid_from <= day)
        and (b.valid_until is None or day <= b.valid_until)
        and not (b.frequency == Frequency.n_times and counts.get(b.id, 0) >= (b.times or 1))
    ]
    rank = {BulletinClass.emergency: 0, BulletinClass.priority: 1, BulletinClass.normal: 2}
    pool.sort(key=lambda b: (rank[b.bulletin_class], as_utc(b.approved_at) or b.created_at, b.id))
    return pool


# ---------------------------------------------------------------------- the service
class Bulletins:
    """The bulletin service for callers without a session of their own (the CLI through the facade,
    the web console's approval and recordings): each call is one transaction with its audit rows.

    Built with the database `engine`, the station `settings`, the `items` part that renders an
    approved bulletin ahead, and a `clock` (UTC now) for the approval time."""

    def __init__(self, *, engine: Engine, settings: Settings, items: Items,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.settings = settings
        self.items = items
        self.clock = clock

    def over_engine(self, engine: Engine, items: Items) -> Bulletins:
        """The same service on another connection pool (serve's web console has its own)."""
        return Bulletins(engine=engine, settings=self.settings, items=items, clock=self.clock)

    def add(self, *, title: str, text: str, by: str | None = None, approve: bool = False,
            recording: Path | None = None, recording_name: str | None = None, **fields) -> BulletinPublic:
        """Check (clean_fields) and store a new draft with its audit row; `approve` then submits and
        approves it at once (both audit rows) and renders it ahead. `fields` are clean_fields'.

        With `recording` (a file on disk, named `recording_name` when it is a staged upload) the
        bulletin airs that recording; an empty text then stands as the title."""
        if fields.get("voice"):
            fields.setdefault("voices", self.items.voice_ids())
        if recording is not None and not _nfc(text):
            text = title
        clean = clean_fields(title=title, text=text, **fields)  # before anything is stored
        bulletin_id = self.create(fields=clean, by=by, recording=recording, recording_name=recording_name)
        if approve:
            return self.approve(bulletin_id=bulletin_id, by=by, submit_draft=True)
        return self.get(bulletin_id)

    def create(self, *, fields: BulletinFields, by: str | None, recording: Path | None = None,
               recording_name: str | None = None) -> int:
        """Store a new draft from checked fields, with its recording when given (checked before
        anything is written: a bad file leaves no bulletin and no file). Returns its id."""
        seconds = None
        if recording is not None:
            seconds = check_recording_file(recording, filename=recording_name,
                                           max_minutes=self.settings.recording_max_minutes)
        with Session(self.engine) as session:
            bulletin = create_draft(session=session, fields=fields, by=by)
            if recording is not None:
                path = keep_recording(self.settings, recording, recording_name)
                _with_recording(session, bulletin, path, name=Path(recording_name or recording.name).name,
                                seconds=seconds or 0.0, by=by)
            session.commit()
            return bulletin.id

    def get(self, bulletin_id: int) -> BulletinPublic:
        with Session(self.engine) as session:
            return get(session=session, bulletin_id=bulletin_id)

    def list(self) -> list[BulletinPublic]:
        with Session(self.engine) as session:
            return list_all(session=session)

    def due(self, day: date) -> list[BulletinPublic]:
        with Session(self.engine) as session:
            return due(session=session, day=day)

    def approve(self, *, bulletin_id: int, by: str | None = None, submit_draft: bool = False,
                background: Callable[[int], None] | None = None) -> BulletinPublic:
        """Approve a submitted bulletin (with `submit_draft`, a draft is submitted first: the CLI's
        one-step approval, both audit rows) and render it ahead at once.

        The approval is committed before rendering (a slow or failed render does not undo it); the
        result carries render_error when no file could be made, and that failure has its audit row.
        With `background` (the web console: station.renders.ensure) nothing is rendered here: an
        item already made from this text is the one that airs, and a render still under way goes on
        in the background (approving never waits for it)."""
        with Session(self.engine) as session:
            if submit_draft and _get(session, bulletin_id).status == BulletinStatus.draft:
                submit(session=session, bulletin_id=bulletin_id, by=by)
            approve(session=session, bulletin_id=bulletin_id, by=by, at=self.clock())
            session.commit()
        if background is not None:
            background(bulletin_id)
            return self.get(bulletin_id)
        result = self.items.prepare_bulletin(bulletin_id)
        if result.render_error:
            with Session(self.engine) as session:
                accounts.record(session=session, user=by, action="bulletin.render_failed", object_type="bulletin",
                                object_id=bulletin_id, detail=result.render_error[:500])
                session.commit()
        return result

    def attach_recording(self, *, bulletin_id: int, filename: str, by: str, data: bytes | None = None,
                         source: Path | None = None) -> BulletinPublic:
        """An officer's own recording for a bulletin, as bytes or a file on disk (see `attach_recording`)."""
        return attach_recording(engine=self.engine, settings=self.settings, bulletin_id=bulletin_id,
                                data=data, filename=filename, by=by, source=source)


def _label(status) -> str:
    from ..models import STATUS_LABELS

    return STATUS_LABELS.get(str(status), str(status))
