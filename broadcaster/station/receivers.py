"""Loudspeaker clusters (cụm loa, issue 14): the registry, their tokens, what they report, their logs.

A cluster is added with a name and an optional zone; its token is shown once and only its sha256
is kept. Every request of a cluster carries the token: a missing, wrong or revoked one is refused
(`ReceiverRefused` with `Refusal.UNAUTHORIZED`) before anything is read or stored. A cluster is
online while its last report is younger than receiver_offline_s (`is_online`). The alarms an
offline cluster raises (at a slot's start, a link lost and back) are receiver_watch's.

Built with its collaborators (engine, settings, clock); it never calls back into the facade.
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
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..exceptions import BroadcasterError, InputError, NotFoundError
from ..localtime import as_utc
from ..models import Receiver, ReceiverLogRow
from .receiver_reports import MAX_NAME_CHARS, STATE_LABELS, MalformedReport, ReceiverState, parse_log, parse_status

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

# issue 14 settings (helper h3 adds them to config.py); until that lands the contract's defaults hold
DEFAULT_REPORT_S = 5.0
DEFAULT_OFFLINE_S = 20.0
UNAUTHORIZED_TEXT = "Mã cụm loa không hợp lệ hoặc đã bị thu hồi."
NAME_MISMATCH_TEXT = "Tên cụm loa không khớp với mã."


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


def offline_seconds(settings: Settings) -> float:
    """How long a cluster may stay silent and still count as online (receiver_offline_s)."""
    return float(getattr(settings, "receiver_offline_s", DEFAULT_OFFLINE_S))


def is_online(row: Receiver, now: datetime, offline_s: float) -> bool:
    """An active cluster whose last report is at most offline_s old."""
    seen = as_utc(row.last_seen)
    return row.revoked_at is None and seen is not None and now - seen <= timedelta(seconds=offline_s)


def active_receivers(session: Session) -> list[Receiver]:
    """The clusters not revoked, by name."""
    return list(session.exec(select(Receiver).where(col(Receiver.revoked_at).is_(None)).order_by(Receiver.name)).all())


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

    def __init__(self, *, engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> None:
        """engine: the station's database; settings: stream and receiver settings; clock: now, UTC."""
        self.db = engine
        self.settings = settings
        self.clock = clock

    def over_engine(self, engine: Engine) -> Receivers:
        view = copy.copy(self)
        view.db = engine
        return view

    # ------------------------------------------------------------------ settings
    @property
    def report_s(self) -> float:
        return float(getattr(self.settings, "receiver_report_s", DEFAULT_REPORT_S))

    @property
    def offline_s(self) -> float:
        return offline_seconds(self.settings)

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
                known = ", ".join(r.name for r in active_receivers(session)) or "chưa có cụm loa nào"
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
        """The zones the active clusters belong to (display names, one per mount), sorted: what urgents may target."""
        from .urgent_zones import known_zones

        return known_zones(self.db)

    def check_zones(self, zones: list[str]) -> list[str]:
        """The zones an urgent names, as the clusters' zones are written ('thôn đông' is 'Thôn Đông');
        InputError naming the known zones when one is not a zone of any active cluster."""
        from .urgent_zones import resolve_zones

        return resolve_zones(list(zones), self.zones())

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
            online=is_online(row, now or self.clock(), self.offline_s), revoked=row.revoked_at is not None,
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

    def record_status(self, token: str | None, body: Any) -> dict[str, bool]:
        """Store a cluster's status report (its last one only). Refused, nothing is written.

        Answers {"on_air": whether the station airs something this cluster should hear now}: the
        cluster counts silence as dead air only then, not between programmes."""
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
            return {"on_air": self._airing_for(session, row.zone)}

    @staticmethod
    def _airing_for(session: Session, zone: str | None) -> bool:
        """Whether an as-run row is on air that reaches a cluster of `zone` (every cluster, or its zone)."""
        from ..models import AsRun, AsRunStatus
        from ..streaming.urls import StreamUrlError, zone_slug

        def slug(name: str | None) -> str | None:
            try:
                return zone_slug(name) if name else None
            except StreamUrlError:
                return None

        mine = slug(zone)
        for zones in session.exec(select(AsRun.zones).where(AsRun.status == AsRunStatus.on_air)).all():
            if not zones or (mine is not None and mine in {slug(z) for z in zones}):
                return True
        return False

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


__all__ = ["AddedReceiver", "ReceiverRefused", "ReceiverView", "Receivers", "Refusal", "UNAUTHORIZED_TEXT",
           "NAME_MISMATCH_TEXT", "active_receivers", "clean_name", "clean_zone", "is_online", "offline_seconds",
           "token_hash"]
