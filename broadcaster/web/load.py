"""The console sheds load before the station suffers (issue 9, item 2).

- `LoadShedder`: at most `web_max_concurrent` console requests are handled at once; up to
  `web_queue` more wait (at most `web_queue_timeout_s`); the rest get 503 with a Vietnamese page
  and Retry-After at once. The urgent routes (the API's /api/urgent… and the on-air page's
  /onair/urgent…) are never counted nor queued: an urgent request always gets through.
- `export_stream`: log/report exports are built while they stream, at most `web_max_exports` at a
  time; one more is answered 503 at once (building a 30,000-row workbook is the heaviest thing a
  visitor can ask for).

The web's own database pool (cli.serve._WebServer) is sized from web_max_concurrent; playout, the
timetable and the urgent desk have their own engine, so a busy console never makes them wait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

log = logging.getLogger(__name__)

BUSY_MESSAGE = "Máy chủ đang bận, hãy thử lại sau ít giây."
RETRY_AFTER_S = 2
# never shed: an urgent announcement must reach the desk whatever the console is doing
URGENT_PREFIXES = ("/api/urgent", "/onair/urgent")


def busy_page() -> str:
    return (
        '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Máy chủ đang bận</title>'
        f"<h1>Máy chủ đang bận…</h1><p>{BUSY_MESSAGE} Việc phát thanh vẫn diễn ra bình thường.</p>"
        '<p><a href="">Tải lại trang</a></p></html>'
    )


def busy_response(path: str) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if path.startswith("/api/"):
        return JSONResponse({"error": BUSY_MESSAGE}, status_code=503, headers=headers)
    return HTMLResponse(busy_page(), status_code=503, headers=headers)


def is_urgent_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in URGENT_PREFIXES)


class LoadShedder:
    """ASGI middleware: a bounded number of console requests in flight, a short queue, then 503."""

    def __init__(self, app, *, max_concurrent: int, queue: int, queue_timeout_s: float) -> None:
        self.app = app
        self.max_concurrent = max_concurrent
        self.queue = queue
        self.queue_timeout_s = queue_timeout_s
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0
        self.shed = 0  # how many requests were answered 503 (tests, diagnostics)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or is_urgent_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made on the server's own event loop
            self._slots = asyncio.Semaphore(self.max_concurrent)
        if not await self._enter():
            self.shed += 1
            await busy_response(scope.get("path", ""))(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)  # returns when the whole response (a stream too) is sent
        finally:
            self._slots.release()

    async def _enter(self) -> bool:
        slots = self._slots
        if not slots.locked():
            await slots.acquire()
            return True
        if self._waiting >= self.queue:
            return False
        self._waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), self.queue_timeout_s)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiting -= 1


class ServerBusy(Exception):
    """Too many exports at once: answered 503 with the busy page."""


class _HeldStream(StreamingResponse):
    """A streamed response that gives its export slot back when it is done, sent or not."""

    def __init__(self, content, *, release: Callable[[], None], **kwargs) -> None:
        self._release = release
        self._released = False
        super().__init__(content, **kwargs)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def export_stream(request: Request, chunks: Callable[[], Iterator[bytes]], *, media_type: str,
                  headers: dict[str, str]) -> Response:
    """A response streaming `chunks()` (which does the database work as it goes), holding one of
    the `web_max_exports` slots until it ends; ServerBusy when none is free."""
    slots: threading.BoundedSemaphore = request.app.state.export_slots
    if not slots.acquire(blocking=False):
        raise ServerBusy()
    try:
        return _HeldStream(chunks(), release=slots.release, media_type=media_type, headers=headers)
    except BaseException:
        slots.release()
        raise


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def install(app: FastAPI, settings) -> None:
    """The export slots, the busy page and the load shedder (outermost: call it last)."""
    app.state.export_slots = threading.BoundedSemaphore(settings.web_max_exports)

    @app.exception_handler(ServerBusy)
    async def _busy(request: Request, exc: ServerBusy) -> Response:
        return busy_response(request.url.path)

    app.add_middleware(LoadShedder, max_concurrent=settings.web_max_concurrent, queue=settings.web_queue,
                       queue_timeout_s=settings.web_queue_timeout_s)
