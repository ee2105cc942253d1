"""Loudspeaker clusters (cụm loa, issue 14): the registry, their tokens, what they report, their logs.

A cluster is added with a name and an optional zone; its token is shown once and only its sha256
is kept. Every request of a cluster carries the token: a missing, wrong or revoked one is refused
(`ReceiverRefused` with `Refusal.UNAUTHORIZED`) before anything is read or stored. A cluster is
online while its last report is younger than receiver_offline_s. When a slot starts, each cluster
offline then gets an alarm row naming it (`alarm_offline`, handed to OnAir as a plain callable).

Built with its collaborators (engine, settings, clock, and the as-run log for alarms); it never
calls back into the facade.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..exceptions import BroadcasterError, InputError, NotFoundError
from ..localtime import as_utc
from ..models import AsRunPublic, Receiver, ReceiverLogRow
from .receiver_reports import MAX_NAME_CHARS, STATE_LABELS, MalformedReport, ReceiverState, parse_log, parse_status

if TYPE_CHECKING:
    from ..config import Settings
    from .asrun import AsRunLog

log = logging.getLogger(__name__)

# issue 14 settings (helper h3 adds them to config.py); until that lands the contract's defaults hold
DEFAULT_REPORT_S = 5.0
DEFAULT_OFFLINE_S = 20.0
UNAUTHORIZED_TEXT = "Mã cụm loa không hợp lệ hoặc đã bị thu hồi."
NAME_MISMATCH_TEXT = "Tên cụm loa không khớp với mã."
OFFLINE_ALARM_TITLE = "Cảnh báo: cụm loa mất kết nối"


class Refusal(Enum):
    UNAUTHORIZED = 401
    NAME_MISMATCH = 403
    MALFORMED = 422


class ReceiverRefused(BroadcasterError):
    """A cluster's request refused; `refusal` says how (the API's status), str() one Vietnamese line."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_name(name: str) -> str:
    """A cluster name as stored: NFC, one line, 1–60 characters; InputError otherwise."""
    text = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not text:
        raise InputError("Tên cụm loa không được để trống")
    if len(text) > MAX_NAME_CHARS:
        raise InputError(f"Tên cụm loa dài quá {MAX_NAME_CHARS} ký tự")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InputError("Tên cụm loa có ký tự điều khiển")
    return text


def clean_zone(zone: str | None) -> tuple[str | None, str | None]:
    """(display text, slug) of a zone, (None, None) for no zone; InputError for an unusable name."""
    from ..streaming.urls import StreamUrlError, zone_slug

    if zone is None or not zone.strip():
        return None, None
    text = " ".join(unicodedata.normalize("NFC", zone).split())
    try:
        return text, zone_slug(text)
    except StreamUrlError as exc:
        raise InputError(str(exc).rstrip(".")) from None


@dataclass(frozen=True)
class ReceiverView:
    """One cluster as the console, `receivers list` and reports show it."""

    id: int
    name: str
    zone: str | None
    zone_slug: str | None
    online: bool
    revoked: bool
    created_at: datetime
    revoked_at: datetime | None
    last_seen: datetime | None
    state: ReceiverState | None
    mount: str | None
    buffer_s: float | None
    volume: float | None
    last_error: str | None

    @property
    def playing(self) -> bool:
        return self.online and self.state is ReceiverState.playing

    @property
    def state_label(self) -> str:
        if self.revoked:
            return "đã thu hồi"
        if not self.online:
            return "mất kết nối" if self.last_seen else "chưa kết nối lần nào"
        return STATE_LABELS.get(self.state, "trực tuyến") if self.state else "trực tuyến"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "zone": self.zone, "online": self.online, "revoked": self.revoked,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "playing": self.playing, "state": self.state.value if self.state else None, "mount": self.mount,
            "buffer_s": self.buffer_s, "volume": self.volume, "last_error": self.last_error,
        }


@dataclass(frozen=True)
class AddedReceiver:
    receiver: ReceiverView
    token: str  # shown once; never stored


class Receivers:
    """The clusters of one station's database."""

    def __init__(self, *, engine: Engine, settings: Settings, clock: Callable[[], datetime],
                 alarms: AsRunLog | None = None) -> None:
        """engine: the station's database; settings: stream and receiver settings; clock: now, UTC;
        alarms: the as-run log the slot-start alarms go to."""
        self.db = engine
        self.settings = settings
        self.clock = clock
        self.alarms = alarms
        # `watch`: clusters seen online during this run, and since when each one went quiet
        self._was_online: set[int] = set()
        self._quiet_since: dict[int, datetime] = {}

    def over_engine(self, engine: Engine, *, alarms: AsRunLog | None = None) -> Receivers:
        view = copy.copy(self)
        view.db = engine
        view.alarms = alarms or self.alarms
        return view

    # ------------------------------------------------------------------ settings
    @property
    def report_s(self) -> float:
        return float(getattr(self.settings, "receiver_report_s", DEFAULT_REPORT_S))

    @property
    def offline_s(self) -> float:
        return float(getattr(self.settings, "receiver_offline_s", DEFAULT_OFFLINE_S))

    # ------------------------------------------------------------------ registry
    def add(self, name: str, zone: str | None = None, *, by: str | None = None) -> AddedReceiver:
        """A new cluster and its token (shown once). InputError for a bad or taken name."""
        from .. import accounts

        name = clean_name(name)
        zone, slug = clean_zone(zone)
        token = secrets.token_urlsafe(32)
        with Session(self.db) as session:
            if session.exec(select(Receiver).where(Receiver.name == name)).first() is not None:
                raise InputError(f"Đã có cụm loa tên «{name}»")
            if slug is not None:  # "thôn đông" joins the zone already called "Thôn Đông"
                same = session.exec(select(Receiver.zone).where(Receiver.zone_slug == slug)).first()
                zone = same or zone
            row = Receiver(name=name, zone=zone, zone_slug=slug, token_hash=token_hash(token), created_at=self.clock())
            session.add(row)
            accounts.record(session=session, user=by, action="receiver.add", object_type="receiver",
                            detail=name + (f" ({zone})" if zone else ""))
            try:
                session.commit()
            except IntegrityError:
                raise InputError(f"Đã có cụm loa tên «{name}»") from None
            session.refresh(row)
            return AddedReceiver(self._view(row), token)

    def revoke(self, name: str | None = None, *, receiver_id: int | None = None, by: str | None = None) -> ReceiverView:
        """Revoke a cluster's token: its next request is refused. NotFoundError / InputError say why not."""
        from .. import accounts

        with Session(self.db) as session:
            if receiver_id is not None:
                row = session.get(Receiver, receiver_id)
            else:
                row = session.exec(select(Receiver).where(Receiver.name == clean_name(name or ""))).first()
            if row is None:
                known = ", ".join(r.name for r in self._active(session)) or "chưa có cụm loa nào"
                raise NotFoundError(f"Không có cụm loa «{name if receiver_id is None else receiver_id}» "
                                    f"(các cụm loa: {known})")
            if row.revoked_at is not None:
                raise InputError(f"Cụm loa «{row.name}» đã bị thu hồi từ trước")
            row.revoked_at = self.clock()
            session.add(row)
            accounts.record(session=session, user=by, action="receiver.revoke", object_type="receiver",
                            object_id=row.id, detail=row.name)
            session.commit()
            session.refresh(row)
            return self._view(row)

    def list(self, *, include_revoked: bool = True) -> list[ReceiverView]:
        """Every cluster, active ones first, by name."""
        with Session(self.db) as session:
            rows = session.exec(select(Receiver).order_by(Receiver.name)).all()
            views = [self._view(r) for r in rows]
        views.sort(key=lambda v: (v.revoked, v.name.casefold()))
        return [v for v in views if include_revoked or not v.revoked]

    def zones(self) -> list[str]:
        """The zones the active clusters belong to (display names), sorted: what urgents may target."""
        with Session(self.db) as session:
            rows = session.exec(select(Receiver.zone).where(col(Receiver.revoked_at).is_(None),
                                                             col(Receiver.zone).is_not(None)).distinct()).all()
        return sorted({z for z in rows if z}, key=str.casefold)

    def check_zones(self, zones: list[str]) -> list[str]:
        """The zones an urgent names, as the clusters' zones are written ('thôn đông' is 'Thôn Đông');
        InputError naming the known zones when one is not a zone of any active cluster."""
        from ..streaming.urls import StreamUrlError, zone_slug

        with Session(self.db) as session:
            known = {slug: zone for slug, zone in session.exec(select(Receiver.zone_slug, Receiver.zone).where(
                col(Receiver.revoked_at).is_(None), col(Receiver.zone_slug).is_not(None))).all()}
        out: list[str] = []
        for zone in zones:
            try:
                slug = zone_slug(zone)
            except StreamUrlError:
                slug = None
            if slug not in known:
                names = ", ".join(sorted(known.values(), key=str.casefold)) or "chưa có vùng nào"
                raise InputError(f"Không có vùng «{zone.strip()}» (các vùng: {names})")
            if known[slug] not in out:
                out.append(known[slug])
        return out

    @staticmethod
    def _active(session: Session) -> list[Receiver]:
        return list(session.exec(select(Receiver).where(col(Receiver.revoked_at).is_(None)).order_by(Receiver.name)).all())

    def _online(self, row: Receiver, now: datetime) -> bool:
        seen = as_utc(row.last_seen)
        return row.revoked_at is None and seen is not None and now - seen <= timedelta(seconds=self.offline_s)

    def _view(self, row: Receiver, now: datetime | None = None) -> ReceiverView:
        status: dict[str, Any] = {}
        if row.last_status:
            try:
                status = json.loads(row.last_status)
            except ValueError:
                status = {}
        try:
            state = ReceiverState(status.get("state")) if status.get("state") else None
        except ValueError:
            state = None
        return ReceiverView(
            id=row.id, name=row.name, zone=row.zone, zone_slug=row.zone_slug,
            online=self._online(row, now or self.clock()), revoked=row.revoked_at is not None,
            created_at=as_utc(row.created_at), revoked_at=as_utc(row.revoked_at), last_seen=as_utc(row.last_seen),
            state=state, mount=status.get("mount"), buffer_s=status.get("buffer_s"), volume=status.get("volume"),
            last_error=status.get("last_error"),
        )

    # ------------------------------------------------------------------ the clusters' API
    def authenticate(self, session: Session, token: str | None) -> Receiver:
        """The active cluster of a token, or ReceiverRefused(UNAUTHORIZED)."""
        if not token or len(token) > 200:
            raise ReceiverRefused(Refusal.UNAUTHORIZED, UNAUTHORIZED_TEXT)
        row = session.exec(select(Receiver).where(Receiver.token_hash == token_hash(token))).first()
        if row is None or row.revoked_at is not None:
            raise ReceiverRefused(Refusal.UNAUTHORIZED, UNAUTHORIZED_TEXT)
        return row

    def config(self, token: str | None) -> dict[str, Any]:
        """What a cluster plays: its zone's mount (or the main one) as a listener URL, never the source password."""
        with Session(self.db) as session:
            row = self.authenticate(session, token)
            name, zone = row.name, row.zone
        return {
            "name": name,
            "zone": zone,
            "station_name": self.settings.station_name,
            "stream_url": self.listen_url(zone),
            "format": getattr(self.settings, "stream_format", "mp3"),
            "report_s": self.report_s,
        }

    def listen_url(self, zone: str | None) -> str | None:
        """http://HOST:PORT/MOUNT a cluster of `zone` listens to (None without stream_url)."""
        from ..streaming.urls import StreamUrlError, parse_stream_url

        url = getattr(self.settings, "stream_url", None)
        if not url:
            return None
        try:
            target = parse_stream_url(str(url))
        except StreamUrlError:  # settings validation says so elsewhere; the cluster just gets no stream
            return None
        public = getattr(self.settings, "stream_public_host", None)
        if public:
            from dataclasses import replace

            target = replace(target, host=public)
        return target.listen_url(target.zone_mount(zone) if zone else None)

    def record_status(self, token: str | None, body: Any) -> None:
        """Store a cluster's status report (its last one only). Refused, nothing is written."""
        with Session(self.db) as session:
            row = self.authenticate(session, token)
            try:
                report = parse_status(body)
            except MalformedReport as exc:
                raise ReceiverRefused(Refusal.MALFORMED, str(exc)) from None
            if report.name != row.name:  # both NFC, one line (parse_status cleans it as clean_name does)
                raise ReceiverRefused(Refusal.NAME_MISMATCH, NAME_MISMATCH_TEXT)
            now = self.clock()
            row.last_seen = now
            row.last_status = json.dumps(report.as_json(now), ensure_ascii=False)
            session.add(row)
            session.commit()

    def store_log(self, token: str | None, body: Any) -> dict[str, int | None]:
        """Store a cluster's log rows; rows it sent before are skipped (a row stored still open gets its
        end). Returns {"stored": rows written, "last_local_id": the highest local id held}."""
        with Session(self.db) as session:
            row = self.authenticate(session, token)
            try:
                rows = parse_log(body)
            except MalformedReport as exc:
                raise ReceiverRefused(Refusal.MALFORMED, str(exc)) from None
            wanted = {r.local_id for r in rows}
            held = {r.local_id: r for r in session.exec(
                select(ReceiverLogRow).where(ReceiverLogRow.receiver_id == row.id,
                                             col(ReceiverLogRow.local_id).in_(wanted))).all()} if wanted else {}
            stored = 0
            now = self.clock()
            for item in rows:
                old = held.get(item.local_id)
                if old is None:
                    new = ReceiverLogRow(receiver_id=row.id, local_id=item.local_id, started_at=item.started_at,
                                         ended_at=item.ended_at, kind=item.kind, mount=item.mount, cause=item.cause,
                                         stored_at=now)
                    session.add(new)
                    held[item.local_id] = new
                    stored += 1
                elif old.ended_at is None and item.ended_at is not None:
                    old.ended_at, old.cause = item.ended_at, item.cause or old.cause
                    session.add(old)
                    stored += 1
            session.commit()
            last = session.exec(select(ReceiverLogRow.local_id).where(ReceiverLogRow.receiver_id == row.id)
                                .order_by(col(ReceiverLogRow.local_id).desc()).limit(1)).first()
        return {"stored": stored, "last_local_id": last}

    # ------------------------------------------------------------------ the station's log of the links
    def watch(self) -> list[AsRunPublic]:
        """Run every few seconds by serve: a cluster seen online that stops reporting gets an alarm row
        ("mất kết nối", from its last report); when it reports again, a row with the gap's length."""
        from ..localtime import duration_words, fmt_local

        if self.alarms is None:
            return []
        now = self.clock()
        with Session(self.db) as session:
            active = self._active(session)
        rows = []
        for receiver in active:
            seen = as_utc(receiver.last_seen)
            if self._online(receiver, now):
                since = self._quiet_since.pop(receiver.id, None)
                if since is not None and seen is not None:
                    gap = duration_words((seen - since).total_seconds())
                    rows.append(self.alarms.log_alarm(
                        title=f"Cụm loa kết nối lại «{receiver.name}»",
                        reason=f"Cụm loa «{receiver.name}» kết nối lại sau {gap} mất kết nối",
                        started_at=since, ended_at=seen))
                self._was_online.add(receiver.id)
            elif receiver.id in self._was_online and seen is not None:
                self._was_online.discard(receiver.id)
                self._quiet_since[receiver.id] = seen
                rows.append(self.alarms.log_alarm(
                    title=f"{OFFLINE_ALARM_TITLE} «{receiver.name}»",
                    reason=(f"Cụm loa «{receiver.name}» không báo cáo từ {fmt_local(seen, self.settings.timezone)} "
                            f"(quá {self.offline_s:g} giây)"),
                    started_at=seen))
        return rows

    # ------------------------------------------------------------------ slot-start alarm
    def alarm_offline(self, slot: str, planned_at: datetime) -> list[AsRunPublic]:
        """When a slot starts: an alarm row for each active cluster offline now (one per cluster per
        slot occurrence). Returns the rows written."""
        from ..localtime import fmt_local

        if self.alarms is None:
            return []
        planned_at = planned_at.astimezone(timezone.utc)
        now = self.clock()
        with Session(self.db) as session:
            offline = [r for r in self._active(session) if not self._online(r, now)]
        if not offline:
            return []
        from ..models import AsRun, AsRunKind

        with Session(self.db) as session:
            said = set(session.exec(select(AsRun.title).where(
                AsRun.kind == AsRunKind.alarm, AsRun.slot == slot, AsRun.planned_at == planned_at)).all())
        rows = []
        for receiver in offline:
            title = f"{OFFLINE_ALARM_TITLE} «{receiver.name}»"
            if title in said:
                continue
            seen = fmt_local(receiver.last_seen, self.settings.timezone)
            where = f" (vùng {receiver.zone})" if receiver.zone else ""
            reason = (f"Cụm loa «{receiver.name}»{where} không kết nối khi khung {slot} bắt đầu; "
                      + (f"báo cáo lần cuối lúc {seen}" if seen else "chưa kết nối lần nào"))
            rows.append(self.alarms.log_alarm(title=title, reason=reason, slot=slot, planned_at=planned_at))
        return rows


__all__ = ["AddedReceiver", "ReceiverRefused", "ReceiverView", "Receivers", "Refusal", "OFFLINE_ALARM_TITLE",
           "UNAUTHORIZED_TEXT", "NAME_MISMATCH_TEXT", "clean_name", "clean_zone", "token_hash"]
