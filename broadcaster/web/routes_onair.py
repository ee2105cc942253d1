"""On air (trực đài): what is playing with its progress, what comes next, stop/skip, and the
urgent button (typed text, an uploaded recording, or the station PC's microphone).

The urgent button asks for confirmation exactly once, on the server: the first POST checks the
request and shows what will air with one "Phát ngay" button; only that second POST (with
confirmed=1) reaches the urgent desk. It works without JavaScript, on a phone too. An uploaded
recording is kept under <data_dir>/uploads/urgent/ between the two steps.

Reading the page needs a login; the controls need an operator (trực đài) or an administrator.
When serve runs without playout (app.state.onair is None) the page says the station is not running.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from ..reports.log import query_log
from ..exceptions import BroadcasterError, InputError
from ..models import Role
from ..scheduling.programme import format_duration
from .security import CurrentUser, onair_of, require_role, require_user, station_of
from .templating import flash, render

router = APIRouter()

CONTROLLERS = (Role.admin, Role.operator)
NOT_RUNNING = "Đài chưa chạy bộ phát (lệnh broadcaster serve không chạy phần phát sóng): không điều khiển được."
UPLOAD_LIMIT = 50 * 1024 * 1024
UPLOAD_SUFFIXES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".webm", ".flac")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
STATE_LABELS = {
    "pending": "đang chuẩn bị",
    "on_air": "đang phát",
    "waiting": "chờ lần phát sau",
    "done": "đã phát xong",
    "failed": "lỗi",
    "stopped": "đã dừng",
}


def _status(request: Request) -> dict | None:
    onair = onair_of(request)
    if onair is None:
        return None
    view = station_of(request)
    status = onair.status(asrun=view.asrun, slots=view.slots)
    for group in ("active", "recent"):
        for job in status.get("urgent", {}).get(group, []):
            job["state_label"] = STATE_LABELS.get(job.get("state"), job.get("state"))
    return status


def _context(request: Request, user: CurrentUser) -> dict:
    station = station_of(request)
    status = _status(request)
    next_slot = None
    if status and status.get("next_slot"):
        from datetime import datetime

        at = datetime.fromisoformat(status["next_slot"]["at"]).astimezone(station.tz)
        next_slot = {"slot": status["next_slot"]["slot"], "at": at.strftime("%H:%M %d/%m/%Y"),
                     "items": _next_slot_items(station, status["next_slot"]["slot"], at)}
    with Session(station.db) as session:
        recent = query_log(session=session, tz=station.tz, per_page=8).entries
    return {
        "title": "Trực đài",
        "status": status,
        "running": status is not None,
        "not_running": NOT_RUNNING,
        "next_slot": next_slot,
        "recent": recent,
        "can_control": user.role in CONTROLLERS,
        "fmt": format_duration,
        "max_repeat": station.settings.urgent_max_repeat,
        "zone_choice": _zone_choice(request),  # issue 14: None = no stream, no choice shown
        # the panel says it live (it refreshes every 2 s): one warning on this page, not two (issue 11 item 7)
        "device_banner": None,
    }


def _zone_choice(request: Request) -> list[str] | None:
    """The known zones the urgent form offers (None: the station has no Icecast stream)."""
    onair = onair_of(request)
    if onair is None or getattr(onair, "urgent", None) is None:
        return None
    from ..station.urgent_zones import zone_choice

    try:
        return zone_choice(onair.urgent)
    except Exception:  # the page must answer even when the receivers cannot be read
        return []


def _form_zones(form) -> list[str] | None:
    """The zones the officer ticked (None = every cluster); InputError for 'some zones' with none ticked."""
    if str(form.get("zone_scope") or "all") != "zones":
        return None
    zones = [str(z) for z in form.getlist("zones") if str(z).strip()]
    if not zones:
        raise InputError("Hãy đánh dấu ít nhất một vùng, hoặc chọn «Tất cả các cụm loa»")
    return zones


def _next_slot_items(station, slot_name: str, at) -> list[str]:
    """What the next slot will air, for "Tiếp theo" when the slot on air has nothing left."""
    try:
        programme = station.slots.programme(slot=slot_name, planned_at=at)
    except Exception:  # the panel must answer even when the programme cannot be read
        return []
    if programme.relay is not None:
        return [f"Tiếp sóng: {slot_name}"]
    return [item.title for item in programme.items]


@router.get("/onair")
def onair_page(request: Request, user: CurrentUser = Depends(require_user)):
    """The operator's page (the panel refreshes itself every 2 s through htmx)."""
    return render(request, "onair.html", _context(request, user))


@router.get("/onair/panel")
def onair_panel(request: Request, user: CurrentUser = Depends(require_user)):
    """Just the status panel (htmx polling)."""
    return render(request, "onair_panel.html", _context(request, user))


def _require_onair(request: Request):
    onair = onair_of(request)
    if onair is None:
        raise InputError(NOT_RUNNING)
    return onair


@router.post("/onair/skip")
async def onair_skip(request: Request, user: CurrentUser = Depends(require_role(*CONTROLLERS))):
    """Fade out the programme item on air; the slot goes on with the next."""
    done = _require_onair(request).skip()
    flash(request, f"Đã bỏ qua bản tin đang phát ({user.display})." if done else "Không có bản tin nào đang phát.")
    return RedirectResponse("/onair", status_code=303)


@router.post("/onair/stop")
async def onair_stop(request: Request, user: CurrentUser = Depends(require_role(*CONTROLLERS))):
    """Fade out and drop the rest of the slot on air."""
    done = _require_onair(request).stop_programme()
    flash(request, f"Đã dừng chương trình đang phát ({user.display})." if done else "Không có khung giờ nào đang phát.")
    return RedirectResponse("/onair", status_code=303)


@router.post("/onair/urgent/stop")
async def urgent_stop(request: Request, user: CurrentUser = Depends(require_role(*CONTROLLERS))):
    """Stop every urgent announcement (and the microphone)."""
    done = _require_onair(request).urgent.stop()
    flash(request, "Đã dừng thông báo khẩn cấp." if done else "Không có thông báo khẩn cấp nào đang phát.")
    return RedirectResponse("/onair", status_code=303)


def _upload_dir(request: Request) -> Path:
    directory = station_of(request).settings.data_dir / "uploads" / "urgent"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def _save_upload(request: Request, upload) -> str:
    """Keep an uploaded recording under the data dir; returns its token. InputError for a bad file."""
    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(f"Tệp ghi âm phải là {', '.join(s[1:].upper() for s in UPLOAD_SUFFIXES)} (nhận được «{name}»)")
    token = secrets.token_hex(16)
    target = _upload_dir(request) / f"{token}{suffix}"
    size = 0
    with open(target, "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > UPLOAD_LIMIT:
                out.close()
                target.unlink(missing_ok=True)
                raise InputError(f"Tệp ghi âm lớn quá {UPLOAD_LIMIT // (1024 * 1024)} MB")
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise InputError("Tệp ghi âm trống")
    # the desk decodes it (ffmpeg) before airing; reading it now proves it is audio
    try:
        from ..media import decode

        decode(target, sample_rate=8000)
    except Exception:
        target.unlink(missing_ok=True)
        raise InputError(f"Không đọc được «{name}» như một tệp âm thanh") from None
    return f"{token}{suffix}"


def _upload_path(request: Request, token: str) -> Path:
    stem, _, suffix = token.partition(".")
    if not TOKEN.match(stem) or f".{suffix}" not in UPLOAD_SUFFIXES:
        raise InputError("Tệp ghi âm không hợp lệ; hãy chọn lại tệp")
    path = _upload_dir(request) / token
    if not path.is_file():
        raise InputError("Không còn tệp ghi âm đã tải lên; hãy chọn lại tệp")
    return path


def _repeat(value) -> int:
    text = str(value or "1").strip()
    if not (text.isascii() and text.isdecimal()):  # "²" passes isdigit(), int() refuses it
        raise InputError(f"Số lần phát '{text}' không hợp lệ")
    return int(text)


@router.post("/onair/urgent")
async def urgent_request(request: Request, user: CurrentUser = Depends(require_role(*CONTROLLERS))):
    """Step 1 (no `confirmed`): check the request and ask once. Step 2 (confirmed=1): air it."""
    onair = _require_onair(request)
    form = await request.form()
    source = str(form.get("source") or "text")
    text = str(form.get("text") or "").strip()
    confirmed = form.get("confirmed") == "1"
    try:
        repeat = _repeat(form.get("repeat"))
        limit = station_of(request).settings.urgent_max_repeat
        if not 1 <= repeat <= limit:
            raise InputError(f"Số lần phát phải từ 1 đến {limit}")
        from ..station.urgent_job import check_every_min

        every_min = check_every_min(form.get("every_min"))  # an absurd value is refused even for one airing
        upload_token = str(form.get("upload") or "")
        if source == "text":
            if not text:
                raise InputError("Hãy gõ nội dung thông báo khẩn cấp")
        elif source == "file":
            upload = form.get("recording")
            if not upload_token:
                if upload is None or not getattr(upload, "filename", ""):
                    raise InputError("Hãy chọn tệp ghi âm (MP3/WAV/M4A)")
                upload_token = await _save_upload(request, upload)
            _upload_path(request, upload_token)
        elif source == "mic":
            repeat, every_min = 1, None
        else:
            raise InputError("Nguồn thông báo không hợp lệ")
        zones = _form_zones(form)
        if zones:
            from ..station.urgent_zones import check_zones

            zones = check_zones(onair.urgent, zones, source)  # no stream, the microphone, an unknown zone
        if not confirmed:
            return render(request, "onair_confirm.html", {
                "title": "Xác nhận phát khẩn cấp",
                "source": source,
                "text": text,
                "repeat": repeat,
                "every_min": every_min,
                "upload": upload_token,
                "upload_name": Path(getattr(form.get("recording"), "filename", "") or "").name or upload_token,
                "zones": zones or [],
            })
        kwargs = {"text": text} if source == "text" else {"mic": True} if source == "mic" else {
            "file": _upload_path(request, upload_token)}
        job = onair.urgent.request(repeat=repeat, every_min=every_min, operator=user.name, zones=zones, **kwargs)
    except BroadcasterError as exc:
        context = _context(request, user)
        context.update(urgent_error=str(exc), urgent_text=text, urgent_source=source,
                       urgent_zones=[str(z) for z in form.getlist("zones")],
                       urgent_scope=str(form.get("zone_scope") or "all"))
        return render(request, "onair.html", context, status_code=400)
    where = f" tới vùng {', '.join(job.zones)}" if job.zones else ""
    flash(request, f"Đang phát thông báo khẩn cấp «{job.label}» (số {job.id}){where} — yêu cầu bởi {user.display}.")
    return RedirectResponse("/onair", status_code=303)
