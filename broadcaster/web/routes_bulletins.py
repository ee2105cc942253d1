"""Bulletin pages: list, write/edit (with the live reading view), recording upload, .docx import,
submission, approval/rejection by a leader, and the rendered preview.

Roles: editors write and submit; only leaders approve or reject; everyone logged in reads.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from sqlmodel import Session

from .. import accounts
from ..exceptions import InputError, NotFoundError
from ..models import BulletinClass, BulletinStatus, Frequency, Role
from ..station import bulletins, documents
from .security import CurrentUser, require_role, require_user, station_of
from .templating import flash, render
from .routes_lexicon import MAX_READING_CHARS  # noqa: F401  (the reading view's limit: one copy, tests import it here)

router = APIRouter()

editor_only = require_role(Role.editor)
leader_only = require_role(Role.leader)
LIST_STATUSES = ["draft", "submitted", "rejected", "approved", "scheduled", "aired", "expired"]


# ----------------------------------------------------------------------- helpers
def _parse_date(value: str | None, what: str) -> date | None:
    return bulletins.parse_date(value, what)


def _parse_int(value: str | None, what: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdecimal()):  # "²" passes isdigit(), int() refuses it
        raise InputError(f"{what} phải là số nguyên dương")
    return int(value)


async def _form_values(request: Request) -> dict:
    """The bulletin form as typed (strings; slot_names a list), to re-show it after an error."""
    form = await request.form()
    return {
        "title": str(form.get("title") or ""),
        "text": str(form.get("text") or ""),
        "bulletin_class": str(form.get("bulletin_class") or BulletinClass.normal.value),
        "valid_from": str(form.get("valid_from") or ""),
        "valid_until": str(form.get("valid_until") or ""),
        "frequency": str(form.get("frequency") or Frequency.every_slot.value),
        "times": str(form.get("times") or ""),
        "slot_names": [str(v) for v in form.getlist("slot_names") if str(v).strip()],
        "topic": str(form.get("topic") or ""),
        "voice": str(form.get("voice") or ""),
    }


def _fields(values: dict, voices: list[str] | None = None) -> bulletins.BulletinFields:
    return bulletins.clean_fields(
        title=values["title"],
        text=values["text"],
        bulletin_class=values["bulletin_class"],
        valid_from=_parse_date(values["valid_from"], "Phát từ ngày"),
        valid_until=_parse_date(values["valid_until"], "Phát đến ngày"),
        frequency=values["frequency"],
        times=_parse_int(values["times"], "Số lần phát"),
        slot_names=values["slot_names"],
        topic=values["topic"],
        voice=values.get("voice") or None,
        voices=voices,
    )


def _values_of(bulletin) -> dict:
    return {
        "title": bulletin.title,
        "text": bulletin.text,
        "bulletin_class": str(bulletin.bulletin_class),
        "valid_from": bulletin.valid_from.isoformat() if bulletin.valid_from else "",
        "valid_until": bulletin.valid_until.isoformat() if bulletin.valid_until else "",
        "frequency": str(bulletin.frequency),
        "times": str(bulletin.times or ""),
        "slot_names": list(bulletin.slot_names or []),
        "topic": bulletin.topic or "",
        "voice": bulletin.voice or "",
    }


def _slot_names(request: Request) -> list[str]:
    try:
        return [slot.name for slot in station_of(request).timetable().slots if getattr(slot, "kind", "") != "relay"]
    except Exception:  # the form still works (free names) if the timetable cannot be read
        return []


def _topics(request: Request) -> list[str]:
    try:
        from ..reports.topics import ensure_topics

        with Session(station_of(request).db) as session:
            topics = ensure_topics(session=session)
            session.commit()
            return [t.name for t in topics]
    except Exception:  # no topic table yet: a plain text field
        return []


def _voices(request: Request) -> list:
    try:
        return station_of(request).voices()
    except Exception:  # the form still works (the station's default voice) if no engine can be built
        return []


def _form_page(request: Request, *, values: dict, bulletin=None, error: str | None = None, status_code: int = 200,
               notice: str | None = None, recording_error: str | None = None, dropped=()):
    return render(
        request,
        "bulletin_form.html",
        {
            "title": f"Sửa bản tin số {bulletin.id}" if bulletin else "Viết bản tin",
            "values": values,
            "bulletin": bulletin,
            "error": error,
            "notice": notice,
            "classes": list(BulletinClass),
            "frequencies": list(Frequency),
            "slot_choices": _slot_names(request),
            "topics": _topics(request),
            "voices": _voices(request),
            "max_recording_mb": bulletins.MAX_RECORDING_BYTES // (1024 * 1024),
            "recording_error": recording_error,
            "dropped": dropped,
            "recording_accept": ",".join(bulletins.RECORDING_TYPES) + ",audio/*",
        },
        status_code=status_code,
    )


def _chosen_file(form, name: str):
    """The upload in a form field, or None when no file was chosen (browsers send an empty part)."""
    upload = form.get(name)
    if upload is None or not hasattr(upload, "read") or not (upload.filename or "").strip():
        return None
    return upload


@asynccontextmanager
async def _staged_upload(request: Request, upload):
    """The uploaded recording copied in blocks to a private temporary file on the data disk (ffmpeg
    reads a phone's M4A by seeking to its index at the end), removed afterwards."""
    import tempfile

    folder = station_of(request).settings.cache_dir / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=Path(upload.filename or "").suffix.lower()[:10], dir=folder)
    path = Path(name)
    try:
        size = 0
        with open(handle, "wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > bulletins.MAX_RECORDING_BYTES:
                    raise InputError(f"Tệp ghi âm lớn quá {bulletins.MAX_RECORDING_BYTES // (1024 * 1024)} MB")
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _reading_view(request: Request, text: str, *, bulletin_id: int) -> dict:
    from .routes_lexicon import reading_view

    return reading_view(request, text, bulletin_id=bulletin_id)


def _under_data_dir(request: Request, path: str | None) -> Path:
    """A file we may serve: it exists and lies under the data directory (no symlink or .. escapes)."""
    if not path:
        raise NotFoundError("Chưa có âm thanh cho bản tin này")
    from ..sources import is_station_file

    settings = station_of(request).settings
    root = settings.data_dir.resolve()
    target = Path(path).resolve()
    # never the database or run/ (a FileResponse would open the database inside serve)
    if not target.is_relative_to(root) or not target.is_file() or is_station_file(target, settings):
        raise NotFoundError("Không tìm thấy tệp âm thanh")
    return target


ENGINE_LABELS = {"espeak": "espeak-ng (máy đọc ngoại tuyến)", "gtts": "Google (máy đọc trực tuyến)",
                 "recording": "giọng thu của cán bộ"}


def length_text(seconds: float | None) -> str:
    """A length as an officer says it: "2 phút 5 giây"."""
    total = int(seconds or 0)  # as the player counts (6:28.6 shows 6:28)
    return f"{total // 60} phút {total % 60} giây"


def _audio_context(request: Request, bulletin) -> dict:
    """What the Nghe thử panel shows: the item that will air, or the render's progress. The voice list
    (every engine asked) is built only to name the voice under the player, never on a progress refresh."""
    rendering = bulletin.render_state in (bulletins.RENDER_QUEUED, bulletins.RENDER_RUNNING)
    fraction = station_of(request).renders.progress(bulletin.id) if rendering else None
    has_audio = bool(not rendering and bulletin.item_path and Path(bulletin.item_path).is_file())
    return {
        "b": bulletin,
        "has_audio": has_audio,
        "rendering": rendering,
        "percent": int((fraction or 0.0) * 100),
        "length": length_text(bulletin.item_duration_s),
        "engine_label": ENGINE_LABELS.get(bulletin.item_engine or "", bulletin.item_engine or ""),
        "voice_label": _voice_label(request, bulletin.item_voice) if has_audio else None,
    }


def _voice_label(request: Request, voice: str | None) -> str | None:
    """The editor's name for an engine:voice id ("espeak:vi" → its label in the voice list), else the id."""
    if not voice:
        return None
    try:
        labels = {v.id: v.label for v in station_of(request).items.voices()}
    except Exception:  # the list is a nicety: the id is shown when the engines cannot say
        labels = {}
    return labels.get(voice, voice)


# ------------------------------------------------------------------------- pages
@router.get("/bulletins")
def bulletins_page(request: Request, status: str | None = None, page: str | None = None, q: str | None = None,
                   user: CurrentUser = Depends(require_user)):
    """All bulletins, newest first, 50 a page, filtered by status and title."""
    status = status if status in LIST_STATUSES else None
    number = int(page) if page and page.isascii() and page.isdecimal() else 1
    with Session(station_of(request).db) as session:
        result = bulletins.list_page(session=session, status=status, page=number, query=q)
        counts = bulletins.status_counts(session=session)

    def link(**changes) -> str:
        params = {"status": status or "", "q": q or "", "page": result.page}
        params.update(changes)
        return "/bulletins?" + urlencode({k: v for k, v in params.items() if v})

    return render(request, "bulletins.html", {
        "title": "Bản tin", "result": result, "status": status, "q": q or "", "counts": counts,
        "statuses": LIST_STATUSES, "link": link,
    })


@router.get("/bulletins/new")
def bulletin_new(request: Request, user: CurrentUser = Depends(editor_only)):
    values = {"title": "", "text": "", "bulletin_class": "thong_thuong", "valid_from": "", "valid_until": "",
              "frequency": "every_slot", "times": "", "slot_names": [], "topic": "", "voice": ""}
    return _form_page(request, values=values)


@router.post("/bulletins")
async def bulletin_create(request: Request, user: CurrentUser = Depends(editor_only)):
    """A new draft; with a recording chosen on the form it airs that recording (an empty text then
    stands as the title). Both are checked before anything is stored."""
    values = await _form_values(request)
    upload = _chosen_file(await request.form(), "recording")
    typed = values  # re-shown as typed after an error
    if upload is not None and not values["text"].strip():
        typed, values = values, dict(values, text=values["title"])
    try:
        fields = _fields(values, [v.id for v in _voices(request)])
    except InputError as exc:
        return _form_page(request, values=typed, error=str(exc), status_code=400)
    service = station_of(request).bulletins
    try:
        if upload is None:
            new_id = service.create(fields=fields, by=user.name)
        else:
            async with _staged_upload(request, upload) as staged:
                # ffmpeg reads the whole file (seconds for 30 minutes): off the event loop
                new_id = await run_in_threadpool(service.create, fields=fields, by=user.name, recording=staged,
                                                 recording_name=upload.filename)
    except InputError as exc:
        return _form_page(request, values=typed, recording_error=str(exc), status_code=400)
    station_of(request).renders.wake()  # rendered in the background: the author hears it soon
    flash(request, f"Đã lưu bản nháp số {new_id}." + (" Nghe lại giọng thu ngay trên trang này." if upload else ""))
    return RedirectResponse(f"/bulletins/{new_id}", status_code=303)


@router.post("/bulletins/import-docx")
async def bulletin_import_docx(request: Request, user: CurrentUser = Depends(editor_only)):
    """Fill a new bulletin form from a .docx (nothing is saved until the editor presses Lưu)."""
    form = await request.form()
    upload = form.get("file")
    empty = {"title": "", "text": "", "bulletin_class": "thong_thuong", "valid_from": "", "valid_until": "",
             "frequency": "every_slot", "times": "", "slot_names": [], "topic": "", "voice": ""}
    if upload is None or not hasattr(upload, "read"):
        return _form_page(request, values=empty, error="Chưa chọn tệp .docx", status_code=400)
    data = await upload.read(documents.MAX_DOCX_BYTES + 1)
    try:
        if not (upload.filename or "").lower().endswith(".docx"):
            raise InputError("Chỉ nhập được tệp Word .docx")
        imported = documents.read_docx(data)
    except InputError as exc:
        return _form_page(request, values=empty, error=str(exc), status_code=400)
    notice = f"Đã lấy chữ từ {upload.filename}. Kiểm tra rồi bấm Lưu."
    if imported.dropped:
        notice += " Những phần không đọc trên loa đã được bỏ (xem bên cạnh, có thể thêm lại)."
    return _form_page(request, values=dict(empty, title=imported.title, text=imported.text), notice=notice,
                      dropped=imported.dropped)


@router.post("/bulletins/reading")
async def bulletin_reading(request: Request, user: CurrentUser = Depends(require_user)):
    """htmx: the reading layer's output for the text being typed (Cách đọc)."""
    form = await request.form()
    from .routes_lexicon import reading_view  # marks the tokens that will be spelled (issue #12 item 7)

    return render(request, "bulletin_reading.html", reading_view(request, str(form.get("text") or "")))


@router.get("/bulletins/{bulletin_id}")
def bulletin_view(request: Request, bulletin_id: int, user: CurrentUser = Depends(require_user)):
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
        history = accounts.audit_log(session=session, object_type="bulletin", object_id=bulletin_id, limit=50)
    return render(request, "bulletin_view.html", {
        "title": bulletin.title, "b": bulletin, "history": history,
        "reading": _reading_view(request, bulletin.text, bulletin_id=bulletin_id),
        **_audio_context(request, bulletin),
        "can_edit": user.role == Role.editor and bulletin.status in bulletins.EDITABLE,
        "can_submit": user.role == Role.editor and bulletin.status in (BulletinStatus.draft, BulletinStatus.rejected),
        "can_review": user.role == Role.leader and bulletin.status == BulletinStatus.submitted,
    })


@router.get("/bulletins/{bulletin_id}/edit")
def bulletin_edit(request: Request, bulletin_id: int, user: CurrentUser = Depends(editor_only)):
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
    return _form_page(request, values=_values_of(bulletin), bulletin=bulletin)


@router.post("/bulletins/{bulletin_id}")
async def bulletin_save(request: Request, bulletin_id: int, user: CurrentUser = Depends(editor_only)):
    values = await _form_values(request)
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
        try:
            fields = _fields(values, [v.id for v in _voices(request)])
            bulletins.update_draft(session=session, bulletin_id=bulletin_id, fields=fields, by=user.name)
            session.commit()
        except InputError as exc:
            session.rollback()
            return _form_page(request, values=values, bulletin=bulletin, error=str(exc), status_code=400)
    station_of(request).renders.wake()  # the edit is rendered again, in the background
    flash(request, "Đã lưu. Bản tin là bản nháp: gửi duyệt khi xong.")
    return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)


def _do(request: Request, bulletin_id: int, action, message: str):
    with Session(station_of(request).db) as session:
        try:
            action(session)
            session.commit()
        except InputError as exc:
            session.rollback()
            flash(request, f"Không thực hiện được: {exc}")
            return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)
    station_of(request).renders.wake()  # a submission or a changed recording queued a render
    flash(request, message)
    return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)


@router.post("/bulletins/{bulletin_id}/submit")
def bulletin_submit(request: Request, bulletin_id: int, user: CurrentUser = Depends(editor_only)):
    return _do(request, bulletin_id,
               lambda s: bulletins.submit(session=s, bulletin_id=bulletin_id, by=user.name),
               "Đã gửi lãnh đạo duyệt.")


@router.post("/bulletins/{bulletin_id}/reject")
async def bulletin_reject(request: Request, bulletin_id: int, user: CurrentUser = Depends(leader_only)):
    comment = str((await request.form()).get("comment") or "")
    return _do(request, bulletin_id,
               lambda s: bulletins.reject(session=s, bulletin_id=bulletin_id, by=user.name, comment=comment),
               "Đã trả lại bản tin kèm ý kiến.")


@router.post("/bulletins/{bulletin_id}/approve")
def bulletin_approve(request: Request, bulletin_id: int, user: CurrentUser = Depends(leader_only)):
    """Approve: it only marks the bulletin approved. The audio heard on its page is the item that airs;
    a render still under way goes on in the background (never in this request: issue 11 item 6)."""
    station = station_of(request)
    try:
        result = station.bulletins.approve(bulletin_id=bulletin_id, by=user.name, background=station.renders.ensure)
    except InputError as exc:
        flash(request, f"Không thực hiện được: {exc}")
        return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)
    if result.render_state == bulletins.RENDER_DONE and result.item_path:
        flash(request, f"Đã duyệt. Bản tin sẽ phát đúng âm thanh đã nghe ({length_text(result.item_duration_s)}).")
    elif result.render_state == bulletins.RENDER_FAILED:
        flash(request, f"Đã duyệt, nhưng chưa dựng được âm thanh: {result.render_error}")
    else:
        flash(request, "Đã duyệt. Âm thanh đang được dựng; tiến độ hiện ở mục Nghe thử.")
    return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)


@router.get("/bulletins/{bulletin_id}/render")
def bulletin_render_panel(request: Request, bulletin_id: int, user: CurrentUser = Depends(require_user)):
    """htmx: the Nghe thử panel (progress while rendering, then the player with length and voice)."""
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
    return render(request, "bulletin_audio.html", _audio_context(request, bulletin))


@router.post("/bulletins/{bulletin_id}/recording")
async def bulletin_recording(request: Request, bulletin_id: int, user: CurrentUser = Depends(editor_only)):
    """Upload an officer's own recording (a phone's M4A/MP4, MP3, WAV, OGG); checked by decoding it from
    the file on disk before it is kept; a refusal is shown next to the upload field."""
    form = await request.form()
    upload = _chosen_file(form, "file")
    if upload is None:
        flash(request, "Chưa chọn tệp ghi âm")
        return RedirectResponse(f"/bulletins/{bulletin_id}/edit", status_code=303)
    try:
        async with _staged_upload(request, upload) as staged:
            await run_in_threadpool(station_of(request).bulletins.attach_recording, bulletin_id=bulletin_id,
                                    source=staged, filename=upload.filename or "", by=user.name)
    except InputError as exc:
        with Session(station_of(request).db) as session:
            bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
        return _form_page(request, values=_values_of(bulletin), bulletin=bulletin, recording_error=str(exc),
                          status_code=400)
    flash(request, "Đã nhận tệp ghi âm: bản tin sẽ phát giọng thu này thay cho giọng đọc máy.")
    return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)


@router.post("/bulletins/{bulletin_id}/recording/delete")
def bulletin_recording_delete(request: Request, bulletin_id: int, user: CurrentUser = Depends(editor_only)):
    return _do(request, bulletin_id,
               lambda s: bulletins.remove_recording(session=s, bulletin_id=bulletin_id, by=user.name),
               "Đã bỏ tệp ghi âm: bản tin sẽ được đọc bằng giọng máy.")


@router.get("/bulletins/{bulletin_id}/audio")
def bulletin_audio(request: Request, bulletin_id: int, user: CurrentUser = Depends(require_user)):
    """The rendered program item (WAV) for the preview player; only files under the data dir."""
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
    path = _under_data_dir(request, bulletin.item_path)
    return FileResponse(path, media_type="audio/wav", filename=f"ban-tin-{bulletin_id}.wav",
                        content_disposition_type="inline")


@router.get("/bulletins/{bulletin_id}/recording")
def bulletin_recording_file(request: Request, bulletin_id: int, user: CurrentUser = Depends(require_user)):
    """The officer's original recording as uploaded."""
    with Session(station_of(request).db) as session:
        bulletin = bulletins.get(session=session, bulletin_id=bulletin_id)
    path = _under_data_dir(request, bulletin.recording_path)
    return FileResponse(path, media_type=bulletins.RECORDING_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                        content_disposition_type="inline")


__all__ = ["router"]
