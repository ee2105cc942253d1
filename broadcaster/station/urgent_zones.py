"""Urgent announcements for some zones only (issue 14 item 3): a flood warning for the low-lying hamlets.

An urgent for zones never touches the sound card or the main mount: the desk renders it as any
urgent (attention tone, then the message) and hands each file to the Icecast fan-out
(`Fanout.air_to_zones`), which plays it on those zones' mounts instead of the programme. The card,
the main mount and every other zone keep the programme. The officer stops it like any urgent (the
job's stop event is the fan-out's `stop`). Each step has an as-run row of kind urgent, class khẩn
cấp, with its zones.

The zones a station knows are those of its receivers (`receivers add NAME --zone ZONE`):
`known_zones` is the one lookup.
"""

from __future__ import annotations

import logging
import unicodedata
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import BroadcasterError, InputError
from ..models import TONE_TITLE, AsRunStatus
from ..streaming.protocol import ZoneAirResult
from ..streaming.urls import StreamUrlError, zone_slug
from .outcomes import URGENT_STOP_REASON

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..models import AsRunPublic
    from .urgent import UrgentDesk
    from .urgent_job import UrgentJob

log = logging.getLogger(__name__)

NO_STREAM_MESSAGE = "Đài chưa cấu hình luồng Icecast nên không phát theo vùng được"
NO_ZONES_HINT = "chưa có cụm loa nào thuộc một vùng (thêm bằng: broadcaster receivers add TÊN --zone VÙNG)"
MIC_ZONES_MESSAGE = ("Phát qua micro chỉ phát được tới tất cả các cụm loa; để phát theo vùng hãy gõ nội dung "
                     "hoặc gửi tệp ghi âm")
NOT_CONNECTED_REASON = "Không phát được tới các vùng: đài chưa kết nối được máy chủ Icecast"
MAX_ZONES = 100


def known_zones(engine: Engine) -> list[str]:
    """The zones of the station's receivers that are not revoked (`receivers.zone`), by slug, one name
    per slug; [] while the receivers table does not exist."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'receivers'")).first() is None:
            return []
        rows = conn.execute(text("SELECT DISTINCT zone FROM receivers WHERE zone IS NOT NULL AND revoked_at IS NULL"))
        names = [unicodedata.normalize("NFC", str(row[0])).strip() for row in rows]
    by_slug: dict[str, str] = {}
    for name in sorted(n for n in names if n):
        try:
            by_slug.setdefault(zone_slug(name), name)
        except StreamUrlError:  # a name no mount can be made of is no zone to air to
            continue
    return [by_slug[slug] for slug in sorted(by_slug)]  # in the alphabet's order: Thôn Đông before Thôn Tây


def resolve_zones(requested: list[str], known: list[str]) -> list[str]:
    """The zones asked for, named as the station knows them (matched by slug: 'thon dong' is 'Thôn Đông'),
    in the order asked, each once. InputError naming the known zones for one it does not know."""
    if len(requested) > MAX_ZONES:
        raise InputError(f"Chọn nhiều nhất {MAX_ZONES} vùng")
    by_slug: dict[str, str] = {}
    for name in known:
        try:
            by_slug.setdefault(zone_slug(name), name)
        except StreamUrlError:
            continue
    chosen: list[str] = []
    for raw in requested:
        text = unicodedata.normalize("NFC", str(raw)).strip()
        try:
            slug = zone_slug(text)
        except StreamUrlError as exc:
            raise InputError(str(exc)) from None
        if slug not in by_slug:
            where = f"các vùng đã biết: {', '.join(known)}" if known else NO_ZONES_HINT
            raise InputError(f"Không có vùng «{text}»; {where}")
        if by_slug[slug] not in chosen:
            chosen.append(by_slug[slug])
    return chosen


def check_zones(desk: UrgentDesk, zones: Any, source: str) -> list[str] | None:
    """A request's zones, checked before anything is written or aired: None (every cluster) when none
    are given, else the known zones it names. InputError: no stream, the microphone, an unknown zone."""
    if zones is None or (isinstance(zones, (list, tuple)) and not zones):
        return None
    if isinstance(zones, str) or not all(isinstance(z, str) for z in zones):
        raise InputError("Danh sách vùng phải là các tên vùng (chuỗi)")
    if desk.fanout is None:
        raise InputError(NO_STREAM_MESSAGE)
    if source == "mic":
        raise InputError(MIC_ZONES_MESSAGE)
    return resolve_zones(list(zones), desk.known_zones())


def zone_choice(desk: UrgentDesk) -> list[str] | None:
    """What the console offers: the known zones (maybe none), or None when the station has no stream."""
    return None if desk.fanout is None else desk.known_zones()


def zones_text(zones: list[str] | None) -> str:
    """'Thôn Đông, Xóm Bãi', or 'tất cả các cụm loa' for an urgent to every cluster."""
    return ", ".join(zones) if zones else "tất cả các cụm loa"


def air_zones(desk: UrgentDesk, job: UrgentJob, numbers: list[int], prepared: Future) -> None:
    """The tone, then the message for each airing number, on the job's zones' mounts only (the card and
    the gate are not touched: the programme goes on)."""
    zones = list(job.zones or [])
    try:
        desk.fanout.ensure_zones(zones)
    except Exception:  # air_to_zones says whether the mounts can be fed
        log.exception("the fan-out could not add the zones' mounts")
    job.state = "on_air"
    desk.say(f"Phát thông báo khẩn cấp tới vùng: {zones_text(zones)} (loa của đài và các vùng khác vẫn phát "
             "chương trình).")
    try:
        tone = desk.attention_tone()
    except BroadcasterError as exc:  # a broken station tone must not hold back the warning itself
        desk._log_failed(job, TONE_TITLE, f"Không dùng được tín hiệu chú ý: {exc}")
    else:
        desk.say("Đang phát tín hiệu chú ý tới các vùng…")
        if _air(desk, job, tone, TONE_TITLE) is None or job.stop_event.is_set():
            return
    for position, number in enumerate(numbers):
        if position and job.stop_event.wait(desk.settings.urgent_gap_s):
            return
        path = desk._wait_prepared(job, prepared)
        if path is None:
            return
        title = f"Thông báo khẩn cấp: {job.label}" + (f" (lần {number}/{job.repeat})" if job.repeat > 1 else "")
        desk.say(f"Đang phát thông báo khẩn cấp tới các vùng (lần {number}/{job.repeat})…")
        row = _air(desk, job, path, title)
        if row is None:
            return
        if row.status == AsRunStatus.aired:
            job.airings += 1
        if job.stop_event.is_set():
            return


def _air(desk: UrgentDesk, job: UrgentJob, path: Path, title: str) -> AsRunPublic | None:
    """One file on the zones' mounts with its as-run row; None when it did not air to the end."""
    if job.stop_event.is_set():
        return None
    row_id = desk.asrun.open_row(title=title, path=str(path), **desk._row_fields(job))
    detail = "Lỗi khi phát tới các vùng"
    try:
        result = desk.fanout.air_to_zones(list(job.zones or []), Path(path), stop=job.stop_event)
    except Exception as exc:  # the fan-out's fault must end this request, never the station
        log.exception("airing to the zones failed")
        result, detail = None, f"{detail} ({type(exc).__name__})"
    if result is ZoneAirResult.AIRED:
        row = desk.asrun.close_row(row_id, status=AsRunStatus.aired)
    elif result is ZoneAirResult.STOPPED:
        row = desk.asrun.close_row(row_id, status=AsRunStatus.interrupted, reason=URGENT_STOP_REASON)
    else:
        reason = NOT_CONNECTED_REASON if result is ZoneAirResult.NO_STREAM else detail
        row = desk.asrun.close_row(row_id, status=AsRunStatus.failed, reason=reason)
    job.row_ids.append(row.id)
    if row.status == AsRunStatus.failed:
        job.state, job.error = "failed", row.reason
        return None
    return None if row.status == AsRunStatus.interrupted else row


__all__ = [
    "MIC_ZONES_MESSAGE",
    "NOT_CONNECTED_REASON",
    "NO_STREAM_MESSAGE",
    "air_zones",
    "check_zones",
    "known_zones",
    "resolve_zones",
    "zone_choice",
    "zones_text",
]
