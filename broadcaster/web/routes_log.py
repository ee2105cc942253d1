"""Log review (nhật ký phát sóng): filters, pages, playback of what aired, CSV/XLSX export.

Every logged-in account may read the log (it is the station's record); nothing here changes
anything. Files are served only when the station itself wrote them (data/archive, data/cache).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from ..reports import log as log_data
from ..exceptions import InputError, NotFoundError
from ..models import CLASS_LABELS, KIND_LABELS, STATUS_LABELS, AsRunKind, AsRunStatus, BulletinClass
from .load import chunked, export_stream
from .paging import page_links, page_number
from .security import CurrentUser, require_user, station_of
from .templating import render

router = APIRouter()

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg"}


FILTER_FIELDS = ("date_from", "date_until", "bulletin_class", "status", "operator", "kind")


def _filters(request: Request) -> log_data.LogFilter:
    q = request.query_params
    return log_data.LogFilter.parse(
        date_from=q.get("date_from"),
        date_until=q.get("date_until"),
        bulletin_class=q.get("bulletin_class"),
        status=q.get("status"),
        operator=q.get("operator"),
        kind=q.get("kind"),
    )


@router.get("/log")
def log_page(request: Request, user: CurrentUser = Depends(require_user)):
    """The filtered as-run log, newest first, 50 rows a page (?receiver=all|ID: the clusters' rows)."""
    if request.query_params.get("receiver"):
        from .routes_receivers import receiver_log_page

        return receiver_log_page(request, user)
    station = station_of(request)
    error = None
    try:
        filters = _filters(request)
    except InputError as exc:
        error, filters = str(exc), log_data.LogFilter()
    with Session(station.db) as session:
        try:
            page = log_data.query_log(session=session, tz=station.tz, filters=filters, page=page_number(request),
                                     data_dir=station.settings.data_dir)
        except InputError as exc:
            error = str(exc)
            filters = log_data.LogFilter()
            page = log_data.query_log(session=session, tz=station.tz, data_dir=station.settings.data_dir)
        names = log_data.operators(session=session)
    params = filters.query_params()
    # After an error the form keeps what the officer typed (a reversed range is fixed, not retyped).
    typed = {k: v for k, v in request.query_params.items() if k in FILTER_FIELDS and v} if error else params
    return render(request, "log.html", {
        "title": "Nhật ký phát sóng",
        "page": page,
        "filters": filters,
        "params": typed,
        "query": urlencode(params),
        "error": error,
        "operators": names,
        "classes": [(c.value, CLASS_LABELS[c]) for c in BulletinClass],
        "statuses": [(s.value, STATUS_LABELS.get(s.value, s.value)) for s in AsRunStatus],
        "kinds": [(k.value, KIND_LABELS[k]) for k in AsRunKind],
        "page_url": page_links("/log", params),
        "receivers": station.receivers.list(),  # the "Cụm loa" view's choices (issue 14)
    }, status_code=400 if error else 200)


@router.get("/log/{row_id}/audio")
def log_audio(row_id: int, request: Request, user: CurrentUser = Depends(require_user)):
    """The file an as-run row played, if it still exists in the station's archive or cache."""
    station = station_of(request)
    with Session(station.db) as session:
        row = log_data.log_row(session=session, row_id=row_id)
        path = log_data.playable_path(row.path, station.settings.data_dir)
    if path is None:
        raise NotFoundError(
            "Không còn tệp âm thanh của dòng nhật ký này (hoặc tệp không do đài ghi vào kho lưu trữ/bộ nhớ đệm)"
        )
    return FileResponse(path, media_type=AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream"))


def _export_name(filters: log_data.LogFilter, suffix: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return f"nhat-ky-phat-song-{stamp}.{suffix}"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/log/export.csv")
def log_export_csv(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    """The filtered log as CSV (UTF-8 with BOM, station-local times), streamed as it is read."""
    if request.query_params.get("receiver"):
        from .routes_receivers import receiver_log_export

        return receiver_log_export(request, "csv")
    station = station_of(request)
    filters = _filters(request)

    def body():
        with Session(station.db) as session:
            yield from log_data.log_csv(session=session, tz=station.tz, filters=filters)

    return export_stream(request, body, media_type="text/csv; charset=utf-8",
                         headers=_attachment(_export_name(filters, "csv")))


@router.get("/log/export.xlsx")
def log_export_xlsx(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    """The filtered log as an XLSX workbook."""
    if request.query_params.get("receiver"):
        from .routes_receivers import receiver_log_export

        return receiver_log_export(request, "xlsx")
    station = station_of(request)
    filters = _filters(request)

    def body():
        with Session(station.db) as session:
            data = log_data.log_xlsx(session=session, tz=station.tz, filters=filters,
                                     title=f"{station.settings.station_name} — Nhật ký phát sóng")
        yield from chunked(data)

    return export_stream(request, body, media_type=XLSX_TYPE, headers=_attachment(_export_name(filters, "xlsx")))
