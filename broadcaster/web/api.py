"""The HTTP API of a running `serve` (used by `broadcaster urgent` and other tools).

Every route needs the header ``Authorization: Bearer <token>``, the token being the one in
``<data_dir>/run/api-token`` (app.state.api_token). Answers are JSON; errors are
``{"error": "<Vietnamese message>"}`` with a 4xx/5xx status, never a traceback.

Routes:
    POST /api/urgent       {text | file | mic: true, repeat, every_min, operator, zones} → 202 {id, requested_at}
                           (zones: zone names; absent or [] = every cluster)
    POST /api/urgent/stop  → {stopped: bool}
    GET  /api/onair        → what is playing, its progress, what comes next, urgent requests
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..exceptions import BroadcasterError, InputError, NotFoundError, PlayoutError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api")

UNAUTHORIZED = "Thiếu hoặc sai mã truy cập API (Authorization: Bearer …)"
NOT_RUNNING = "Đài chưa chạy bộ phát (serve không có OnAir): không phát được khẩn cấp"
ALLOWED_FIELDS = {"text", "file", "mic", "repeat", "every_min", "operator", "zones"}


class ApiError(Exception):
    """An answer with a status and a Vietnamese message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _status_for(exc: BroadcasterError) -> int:
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PlayoutError):
        return 503
    return 409


def require_token(request: Request) -> None:
    """Dependency: the bearer token must match app.state.api_token (constant-time compare)."""
    expected = getattr(request.app.state, "api_token", None)
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not given.strip()
        or not hmac.compare_digest(given.strip().encode("utf-8"), str(expected).encode("utf-8"))
    ):
        raise ApiError(401, UNAUTHORIZED)


def _onair(request: Request):
    onair = getattr(request.app.state, "onair", None)
    if onair is None:
        raise ApiError(503, NOT_RUNNING)
    return onair


def _guard(handler):
    """Turn every failure of a route into a JSON error (no traceback ever reaches a client)."""
    import functools

    @functools.wraps(handler)
    async def wrapped(*args, **kwargs):
        try:
            return await handler(*args, **kwargs)
        except ApiError as exc:
            return error(exc.status, exc.message)
        except BroadcasterError as exc:
            return error(_status_for(exc), str(exc))
        except Exception as exc:
            log.exception("API route failed")
            return error(500, f"Lỗi không mong đợi: {type(exc).__name__}")

    return wrapped


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception:
        raise ApiError(400, "Nội dung yêu cầu phải là JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Nội dung yêu cầu phải là một đối tượng JSON")
    unknown = sorted(set(body) - ALLOWED_FIELDS)
    if unknown:
        raise ApiError(400, f"Trường không hợp lệ: {', '.join(unknown)}")
    return body


@router.post("/urgent", status_code=202)
@_guard
async def post_urgent(request: Request) -> JSONResponse:
    """Cut in with an urgent announcement: text, a file on the station PC, or the microphone."""
    requested_at = datetime.now(timezone.utc)  # the request time in the log: taken first
    require_token(request)
    body = await _json_body(request)
    onair = _onair(request)
    text = body.get("text")
    file = body.get("file")
    mic = body.get("mic", False)
    if text is not None and not isinstance(text, str):
        raise ApiError(400, "Trường text phải là chuỗi")
    if file is not None and not isinstance(file, str):
        raise ApiError(400, "Trường file phải là đường dẫn (chuỗi)")
    if not isinstance(mic, bool):
        raise ApiError(400, "Trường mic phải là true hoặc false")
    repeat = body.get("repeat", 1)
    if repeat is None:
        repeat = 1
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ApiError(400, "Trường repeat phải là số nguyên")
    every_min = body.get("every_min")
    if every_min is not None and (isinstance(every_min, bool) or not isinstance(every_min, (int, float))):
        raise ApiError(400, "Trường every_min phải là số phút")
    operator = body.get("operator")
    if operator is not None and not isinstance(operator, str):
        raise ApiError(400, "Trường operator phải là chuỗi")
    zones = body.get("zones")  # issue 14: some zones only (checked against the known ones by the desk)
    if zones is not None and (not isinstance(zones, list) or not all(isinstance(z, str) for z in zones)):
        raise ApiError(400, "Trường zones phải là danh sách tên vùng (chuỗi)")
    import functools

    call = functools.partial(
        onair.urgent.request,
        text=text,
        file=file or None,
        mic=mic,
        repeat=repeat,
        every_min=every_min,
        operator=operator,
        requested_at=requested_at,
        zones=zones or None,
    )
    if file:
        import anyio

        # a file is decoded (ffmpeg) before the tone goes out: off the event loop
        job = await anyio.to_thread.run_sync(call)
    else:
        job = call()
    from .security import station_of

    # the receipt the CLI prints is station-local, whatever the clock of the PC it runs on (issue 11 item 9)
    public = job.public()
    requested_iso = public["requested_at"]
    local = datetime.fromisoformat(requested_iso).astimezone(station_of(request).tz).isoformat(timespec="milliseconds")
    return JSONResponse(
        {"id": job.id, "requested_at": requested_iso, "requested_local": local, "state": job.state,
         "zones": public.get("zones")},
        status_code=202,
    )


@router.post("/urgent/stop")
@_guard
async def post_urgent_stop(request: Request) -> JSONResponse:
    """Stop every urgent announcement (the microphone too); the programme resumes."""
    require_token(request)
    onair = _onair(request)
    return JSONResponse({"stopped": onair.urgent.stop()})


@router.get("/urgent/{job_id}")
@_guard
async def get_urgent(request: Request, job_id: int) -> JSONResponse:
    """One urgent request and how far it got."""
    require_token(request)
    job = _onair(request).urgent.get(job_id)
    if job is None:
        raise ApiError(404, f"Không có yêu cầu khẩn cấp số {job_id}")
    return JSONResponse(job.public())


@router.get("/onair")
@_guard
async def get_onair(request: Request) -> JSONResponse:
    """What is playing (title, progress), what comes next, urgent requests, whether the card is open."""
    require_token(request)
    onair = _onair(request)
    import anyio

    # status reads the database: off the event loop
    from .security import station_of

    view = station_of(request)
    return JSONResponse(await anyio.to_thread.run_sync(lambda: onair.status(asrun=view.asrun, slots=view.slots)))


__all__ = ["router", "require_token", "ApiError"]
