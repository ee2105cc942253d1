"""SQLModel tables. Times are stored as aware UTC datetimes; dates as station-local dates."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from enum import StrEnum

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BulletinClass(StrEnum):
    """The three classes of Circular 39/2020/TT-BTTTT."""

    normal = "thong_thuong"  # thông thường
    priority = "uu_tien"  # ưu tiên
    emergency = "khan_cap"  # khẩn cấp


CLASS_LABELS = {
    BulletinClass.normal: "thông thường",
    BulletinClass.priority: "ưu tiên",
    BulletinClass.emergency: "khẩn cấp",
}


class BulletinStatus(StrEnum):
    """Lifecycle: draft → approved → scheduled → aired / expired.

    `scheduled` means a render-ahead check placed it in an upcoming slot's programme;
    `aired` and `expired` are derived from the as-run log and the validity window
    (see scheduling.programme.derive_status), never typed in by hand.
    """

    draft = "draft"
    submitted = "submitted"  # sent to a leader for approval
    rejected = "rejected"  # sent back with a comment (review_comment); edited, it is a draft again
    approved = "approved"
    scheduled = "scheduled"
    aired = "aired"
    expired = "expired"


class Frequency(StrEnum):
    """How often an approved bulletin airs inside its validity window."""

    every_slot = "every_slot"  # every slot of every day it is valid
    n_times = "n_times"  # until it has aired `times` times
    chosen_slots = "chosen_slots"  # every occurrence of the slots named in `slot_names`


FREQUENCY_LABELS = {
    Frequency.every_slot: "mọi khung giờ",
    Frequency.n_times: "số lần",
    Frequency.chosen_slots: "khung giờ chọn",
}


class AsRunStatus(StrEnum):
    on_air = "on_air"
    aired = "aired"
    interrupted = "interrupted"
    failed = "failed"
    missed = "missed"
    # did not fit the slot's maximum length: it airs in the next slot
    deferred = "deferred"
    # something went wrong on air that an operator must hear about (silence, device gap)
    alarm = "alarm"


class AsRunKind(StrEnum):
    """What an as-run row is about."""

    programme = "programme"  # a bulletin of a slot's programme (or a file played by hand)
    urgent = "urgent"  # an urgent announcement (attention tone + message)
    relay = "relay"  # tiếp sóng
    filler = "filler"  # the station filler played after a fault
    alarm = "alarm"  # a fault record: silence, device gap


KIND_LABELS = {
    AsRunKind.programme: "chương trình",
    AsRunKind.urgent: "khẩn cấp",
    AsRunKind.relay: "tiếp sóng",
    AsRunKind.filler: "nhạc đệm",
    AsRunKind.alarm: "cảnh báo",
}


DEFERRED_LABEL = "chuyển sang khung sau"
# the as-run title of the attention tone before an urgent message (reports do not count it as an airing)
TONE_TITLE = "Tín hiệu chú ý (khẩn cấp)"

STATUS_LABELS = {
    "draft": "bản nháp",
    "submitted": "chờ duyệt",
    "rejected": "bị trả lại",
    "approved": "đã duyệt",
    "scheduled": "đã lên lịch",
    "expired": "hết hạn",
    "deferred": DEFERRED_LABEL,
    "on_air": "đang phát",
    "aired": "đã phát",
    "interrupted": "bị ngắt",
    "failed": "lỗi",
    "missed": "bỏ lỡ",
    "alarm": "cảnh báo",
}


class BulletinBase(SQLModel):
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1)
    bulletin_class: BulletinClass = Field(default=BulletinClass.normal)
    valid_from: date | None = None
    valid_until: date | None = None
    frequency: Frequency = Field(default=Frequency.every_slot)
    # n_times: how many airings in all
    times: int | None = Field(default=None, ge=1)
    # chosen_slots: slot names (names survive a timetable re-import, ids do not)
    slot_names: list[str] | None = Field(default=None, sa_type=JSON)
    # a topic of the communication plan (reports count by it); free text matching Topic.name
    topic: str | None = Field(default=None, max_length=200)
    # the voice it is read in, engine:voice (edge:vi-VN-NamMinhNeural); None = the station's default
    voice: str | None = Field(default=None, max_length=200)


class BulletinCreate(BulletinBase):
    pass


class Bulletin(BulletinBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: BulletinStatus = Field(default=BulletinStatus.draft, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    approved_at: datetime | None = None
    # the latest program item rendered for this bulletin (render ahead, play files)
    item_path: str | None = None
    item_engine: str | None = None
    item_voice: str | None = None  # engine:voice that spoke the item (a fallback may differ from `voice`)
    item_duration_s: float | None = None
    render_error: str | None = None
    # the background render (issue 11 item 6): queued / rendering / done / failed
    render_state: str | None = None
    # an officer's own recording (a path under the data dir) aired instead of synthesized speech
    recording_path: str | None = None
    # who did what (user names); the review comment of a leader who sent it back
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    review_comment: str | None = None


class BulletinPublic(BulletinBase):
    # reading a stored row never fails on a length an older version let through (issue 9 item 4):
    # the limits are checked when a bulletin is written (editorial.clean_fields, Station.add_bulletin)
    title: str
    text: str
    topic: str | None = None
    times: int | None = None
    id: int
    status: BulletinStatus
    created_at: datetime
    approved_at: datetime | None
    item_path: str | None
    item_engine: str | None
    item_voice: str | None = None
    item_duration_s: float | None
    render_error: str | None
    render_state: str | None = None
    recording_path: str | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    review_comment: str | None = None


class AsRun(SQLModel, table=True):
    """One row per item that went (or should have gone) on air: the as-run log."""

    __tablename__ = "as_run"
    # the log review filters by one of these and lists newest first: (filter, started_at) lets
    # SQLite walk the index in order and stop after a page, even with 100,000 rows
    # (the baseline migration adds them to databases made before they existed)
    __table_args__ = (
        Index("ix_as_run_class_started", "bulletin_class", "started_at"),
        Index("ix_as_run_operator_started", "operator", "started_at"),
        Index("ix_as_run_status_started", "status", "started_at"),
        Index("ix_as_run_kind_started", "kind", "started_at"),
        # a slot occurrence's rows (the week view, restarts) are found by when they were planned
        Index("ix_as_run_planned_slot", "planned_at", "slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bulletin_id: int | None = Field(default=None, index=True)
    title: str
    path: str | None = None
    slot: str | None = None
    engine: str | None = None
    voice: str | None = None  # engine:voice of synthesized speech (edge:vi-VN-HoaiMyNeural)
    status: AsRunStatus = Field(default=AsRunStatus.on_air, index=True)
    reason: str | None = None
    planned_at: datetime | None = None
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None
    duration_s: float | None = None
    kind: AsRunKind = Field(default=AsRunKind.programme, index=True)
    # the class of what aired (reports count by it); urgent rows are khẩn cấp
    bulletin_class: BulletinClass | None = None
    # urgent: when it was asked for (ms precision) and by whom
    requested_at: datetime | None = None
    operator: str | None = None
    # urgent for some zones only (issue 14 item 3): their names; None = every cluster (the card too)
    zones: list[str] | None = Field(default=None, sa_type=JSON)


class AsRunPublic(SQLModel):
    id: int
    bulletin_id: int | None
    title: str
    path: str | None
    slot: str | None
    engine: str | None
    voice: str | None = None
    status: AsRunStatus
    reason: str | None
    planned_at: datetime | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    kind: AsRunKind = AsRunKind.programme
    bulletin_class: BulletinClass | None = None
    requested_at: datetime | None = None
    operator: str | None = None
    zones: list[str] | None = None


# ------------------------------------------------------------------------- topics
class TopicBase(SQLModel):
    """A topic of the commune's communication plan (reports count airings by it)."""

    name: str = Field(min_length=1, max_length=200)
    # display order in lists and reports
    position: int = 0


class Topic(TopicBase, table=True):
    """The editable list of topics; Bulletin.topic holds a Topic.name (free text, not a foreign key,
    so a bulletin keeps its topic when the list changes)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=200, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = None


class TopicPublic(TopicBase):
    id: int


# ---------------------------------------------------------------------- timetable
class SlotKind(StrEnum):
    recurring = "recurring"  # bulletins at a time on chosen days (all when weekdays is None)
    oneoff = "oneoff"  # bulletins once, on `on_date`
    relay = "relay"  # tiếp sóng: a stream URL or a file for `duration_min`


SLOT_KIND_LABELS = {
    SlotKind.recurring: "định kỳ",
    SlotKind.oneoff: "một lần",
    SlotKind.relay: "tiếp sóng",
}


class SlotBase(SQLModel):
    """One slot of the timetable; times are station-local (the zone is a setting)."""

    name: str = Field(min_length=1, max_length=100)
    kind: SlotKind = Field(default=SlotKind.recurring)
    at: time
    # Monday = 0; None = every day
    weekdays: list[int] | None = Field(default=None, sa_type=JSON)
    date_from: date | None = None
    date_until: date | None = None
    # the day of a one-off slot (a relay with a date is one-off too)
    on_date: date | None = None
    max_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # relay: URL or file path, and how long to relay
    source: str | None = None
    duration_min: int | None = Field(default=None, ge=1, le=24 * 60)
    enabled: bool = True


class SlotCreate(SlotBase):
    pass


class SlotRecord(SlotBase, table=True):
    """The table behind the timetable (the pure `scheduling.timetable.Slot` is built from it)."""

    __tablename__ = "slot"

    id: int | None = Field(default=None, primary_key=True)
    # unique: bulletins choose slots by name and the as-run log records the name
    name: str = Field(min_length=1, max_length=100, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)


class SlotPublic(SlotBase):
    id: int


class SchedulerState(SQLModel, table=True):
    """Small key/value facts the scheduler keeps between runs (last check, timetable version)."""

    __tablename__ = "scheduler_state"

    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(default_factory=utcnow)


# ------------------------------------------------------------------ web accounts
class Role(StrEnum):
    """What a web-console account may do."""

    admin = "admin"  # quản trị: manages accounts
    editor = "editor"  # biên tập: writes bulletins and submits them
    leader = "leader"  # lãnh đạo: the only one who approves or rejects
    operator = "operator"  # trực đài: on-air control and urgent announcements


ROLE_LABELS = {
    Role.admin: "quản trị",
    Role.editor: "biên tập",
    Role.leader: "lãnh đạo",
    Role.operator: "trực đài",
}


class User(SQLModel, table=True):
    """A web-console account. Accounts are deactivated, never deleted (the audit names them)."""

    __tablename__ = "web_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=64, sa_column_kwargs={"unique": True})
    full_name: str | None = Field(default=None, max_length=200)
    role: Role = Field(default=Role.editor)
    # argon2id hash (argon2-cffi); never the password itself
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = None


class UserPublic(SQLModel):
    id: int
    name: str
    full_name: str | None = None
    role: Role
    active: bool
    created_at: datetime
    created_by: str | None = None


class WebSession(SQLModel, table=True):
    """A logged-in browser. Kept server-side so logout, deactivation and role changes take effect at once."""

    __tablename__ = "web_session"

    # sha256 of the cookie value: a stolen database does not hand out live sessions
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(index=True, foreign_key="web_user.id")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    # one message shown on the next page (after a redirect)
    flash: str | None = None


class AuditEntry(SQLModel, table=True):
    """Who changed what, when (every change made through the web console or the user CLI)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user: str | None = Field(default=None, index=True)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    detail: str | None = None


class LoginFailure(SQLModel, table=True):
    """A failed login (web.security.LoginLimiter): kept in the database so a restart does not
    forgive a guesser. Rows older than the limiter's window are swept as new ones come."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_pair", "name", "client", "at"), Index("ix_login_failure_client", "client", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)  # seconds since the epoch (the limiter's clock)
    name: str = Field(max_length=64)
    client: str = Field(max_length=64)


# ------------------------------------------------------------- loudspeaker clusters (issue 14)
class ReceiverLogKind(StrEnum):
    """What a receiver's own log row is about."""

    heard = "heard"  # it played the stream from started_at to ended_at
    gap = "gap"  # it heard nothing (no link, silent stream…): `cause` says why


RECEIVER_LOG_LABELS = {ReceiverLogKind.heard: "đã nghe", ReceiverLogKind.gap: "gián đoạn"}


class Receiver(SQLModel, table=True):
    """A loudspeaker cluster (cụm loa) allowed to fetch the stream and report to the station.

    The token is shown once when the cluster is added; only its sha256 is kept. `last_status`
    is the cluster's last report as JSON text; online = last_seen within receiver_offline_s."""

    __tablename__ = "receivers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, sa_column_kwargs={"unique": True})
    zone: str | None = Field(default=None, max_length=40)  # as the officer typed it ("Thôn Đông")
    zone_slug: str | None = Field(default=None, max_length=40, index=True)  # streaming.urls.zone_slug
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_seen: datetime | None = None
    last_status: str | None = None


class ReceiverLogRow(SQLModel, table=True):
    """One row of a cluster's own as-run log, uploaded by the cluster (idempotent by local_id)."""

    __tablename__ = "receiver_log"
    __table_args__ = (
        Index("ix_receiver_log_local", "receiver_id", "local_id", unique=True),
        Index("ix_receiver_log_started", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receiver_id: int = Field(foreign_key="receivers.id")
    local_id: int  # the cluster's own row id
    started_at: datetime
    ended_at: datetime | None = None
    kind: ReceiverLogKind
    mount: str | None = None
    cause: str | None = None
    stored_at: datetime = Field(default_factory=utcnow)
