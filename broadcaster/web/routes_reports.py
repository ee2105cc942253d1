"""Reports for a month or a quarter (báo cáo): airings and minutes by class and by topic, a chart
rendered on the server as inline SVG, exports for the district/province, and the topic list.

Everyone logged in reads reports; the topic list is edited by a leader or an administrator.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from .. import accounts
from ..exceptions import InputError
from ..models import Role
from ..reports import chart
from ..reports import report as monthly
from ..reports import topics as topic_list
from .load import chunked, export_stream
from .security import CurrentUser, require_role, require_user, station_of
from .templating import flash, render

router = APIRouter()

TOPIC_EDITORS = (Role.admin, Role.leader)
PAGE_DETAIL = 20  # the page lists the most aired bulletins; exports list all


def _period(request: Request, station) -> monthly.Period:
    return monthly.Period.parse(request.query_params.get("period"), today=station.local_today())


def _station_name(station) -> str:
    return station.settings.station_name


@router.get("/reports")
def report_page(request: Request, user: CurrentUser = Depends(require_user)):
    """The report of one period (?period=2026-12 or 2026-Q4; the current month by default)."""
    station = station_of(request)
    error = None
    try:
        period = _period(request, station)
    except InputError as exc:
        error, period = str(exc), monthly.Period.containing(station.local_today())
    with Session(station.db) as session:
        report = monthly.build_report(session=session, tz=station.tz, period=period, detail_limit=PAGE_DETAIL)
        topics = topic_list.list_topics(session=session)
    today = station.local_today()
    months = [monthly.Period("month", today.year - (m > today.month), m) for m in range(1, 13)]
    months.sort(key=lambda p: (p.year, p.number), reverse=True)
    quarters = [monthly.Period("quarter", y, q) for y in (today.year, today.year - 1) for q in (4, 3, 2, 1)]
    quarters = [q for q in quarters if q.start <= today]
    charts = {
        "topic": Markup(chart.bar_chart_svg(report.by_topic, title="Số phút phát theo chủ đề")),
        "class": Markup(chart.bar_chart_svg(report.by_class, title="Số phút phát theo mức độ")),
    }
    return render(request, "report.html", {
        "title": f"Báo cáo phát sóng {period.label}",
        "report": report,
        "period": period,
        "period_last": period.end - timedelta(days=1),
        "months": months,
        "quarters": quarters,
        "charts": charts,
        "topics": topics,
        "can_edit_topics": user.role in TOPIC_EDITORS,
        "error": error,
        "detail_limit": PAGE_DETAIL,
    }, status_code=400 if error else 200)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/reports/export.xlsx")
def report_xlsx(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    """The period's report as XLSX (sheets Tổng hợp and Chi tiết) for the district/province."""
    station = station_of(request)
    period = _period(request, station)

    def body():
        with Session(station.db) as session:
            report = monthly.build_report(session=session, tz=station.tz, period=period)
        yield from chunked(monthly.report_xlsx(report, station_name=_station_name(station)))

    return export_stream(request, body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         headers=_attachment(f"bao-cao-phat-song-{period.key}.xlsx"))


@router.get("/reports/export.csv")
def report_csv(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    """The period's report as CSV (UTF-8 with BOM)."""
    station = station_of(request)
    period = _period(request, station)

    def body():
        with Session(station.db) as session:
            report = monthly.build_report(session=session, tz=station.tz, period=period)
        data = monthly.report_csv(report, station_name=_station_name(station))
        yield from chunked(data.encode("utf-8") if isinstance(data, str) else data)

    return export_stream(request, body, media_type="text/csv; charset=utf-8",
                         headers=_attachment(f"bao-cao-phat-song-{period.key}.csv"))


def _back(request: Request, form) -> RedirectResponse:
    period = str(form.get("period") or "")
    target = "/reports" + (f"?period={period}" if period and len(period) <= 8 else "") + "#chu-de"
    return RedirectResponse(target, status_code=303)


@router.post("/reports/topics")
async def topic_add(request: Request, user: CurrentUser = Depends(require_role(*TOPIC_EDITORS))):
    """Add a topic to the list."""
    form = await request.form()
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="topic.add", object_type="topic",
                        detail=str(form.get("name") or "")[:200])
        topic = topic_list.add_topic(session=session, name=str(form.get("name") or ""), by=user.name)
    flash(request, f"Đã thêm chủ đề «{topic.name}».")
    return _back(request, form)


@router.post("/reports/topics/{topic_id}")
async def topic_rename(topic_id: int, request: Request, user: CurrentUser = Depends(require_role(*TOPIC_EDITORS))):
    """Rename a topic (its bulletins follow)."""
    form = await request.form()
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="topic.rename", object_type="topic",
                        object_id=topic_id, detail=str(form.get("name") or "")[:200])
        topic = topic_list.rename_topic(session=session, topic_id=topic_id, name=str(form.get("name") or ""), by=user.name)
    flash(request, f"Đã đổi tên chủ đề thành «{topic.name}».")
    return _back(request, form)


@router.post("/reports/topics/{topic_id}/delete")
async def topic_delete(topic_id: int, request: Request, user: CurrentUser = Depends(require_role(*TOPIC_EDITORS))):
    """Take a topic off the list (bulletins keep their topic text)."""
    form = await request.form()
    with Session(station_of(request).db) as session:
        accounts.record(session=session, user=user.name, action="topic.remove", object_type="topic", object_id=topic_id)
        topic = topic_list.remove_topic(session=session, topic_id=topic_id)
    flash(request, f"Đã bỏ chủ đề «{topic.name}» khỏi danh sách.")
    return _back(request, form)
