"""SQLModel tables. Times are stored as aware UTC datetimes; dates as station-local dates."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum

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
    draft = "draft"
    approved = "approved"


class AsRunStatus(StrEnum):
    on_air = "on_air"
    aired = "aired"
    interrupted = "interrupted"
    failed = "failed"
    missed = "missed"


STATUS_LABELS = {
    "draft": "bản nháp",
    "approved": "đã duyệt",
    "on_air": "đang phát",
    "aired": "đã phát",
    "interrupted": "bị ngắt",
    "failed": "lỗi",
    "missed": "bỏ lỡ",
}


class BulletinBase(SQLModel):
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1)
    bulletin_class: BulletinClass = Field(default=BulletinClass.normal)
    valid_from: date | None = None
    valid_until: date | None = None


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
    item_duration_s: float | None = None
    render_error: str | None = None


class BulletinPublic(BulletinBase):
    id: int
    status: BulletinStatus
    created_at: datetime
    approved_at: datetime | None
    item_path: str | None
    item_engine: str | None
    item_duration_s: float | None
    render_error: str | None


class AsRun(SQLModel, table=True):
    """One row per item that went (or should have gone) on air: the as-run log."""

    __tablename__ = "as_run"

    id: int | None = Field(default=None, primary_key=True)
    bulletin_id: int | None = Field(default=None, index=True)
    title: str
    path: str | None = None
    slot: str | None = None
    engine: str | None = None
    status: AsRunStatus = Field(default=AsRunStatus.on_air, index=True)
    reason: str | None = None
    planned_at: datetime | None = None
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None
    duration_s: float | None = None


class AsRunPublic(SQLModel):
    id: int
    bulletin_id: int | None
    title: str
    path: str | None
    slot: str | None
    engine: str | None
    status: AsRunStatus
    reason: str | None
    planned_at: datetime | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
