"""A small, faithful stand-in for the station's side of the receiver API (issue 14 contract).

The real endpoints are built by another helper at the same time; these tests talk to this fake,
which follows the contract exactly — Bearer tokens, 401/403/422 with one Vietnamese `detail`
line, nothing stored on a refusal, idempotent log uploads — so the receiver is tested against the
contract, not against whatever the fake happens to accept. The interface the tests use
(`url`, `add`, `revoke`, `statuses`, `log_rows`, `requests`, `down`/`up`) is small, so the same
tests can run against the real station (an adapter over `broadcaster serve`) later.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATES = {"playing", "connecting", "dead_air", "offline", "stopped"}
BAD_TOKEN = {"detail": "Mã cụm loa không hợp lệ hoặc đã bị thu hồi."}
BAD_NAME = {"detail": "Tên cụm loa không khớp với mã."}
STATUS_FIELDS = {"name", "zone", "state", "mount", "buffer_s", "volume", "last_error", "sent_at"}
ROW_FIELDS = {"local_id", "started_at", "ended_at", "kind", "mount", "cause"}


@dataclass
class FakeReceiver:
    name: str
    zone: str | None
    token: str
    revoked: bool = False
    statuses: list[dict] = field(default_factory=list)
    log: dict[int, dict] = field(default_factory=dict)  # local_id -> row


def _iso_with_offset(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).utcoffset() is not None
    except ValueError:
        return False


def _opt_str(value, limit: int | None = None) -> bool:
    return value is None or (isinstance(value, str) and (limit is None or len(value) <= limit))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_status(body) -> str | None:
    """The 422 line for a malformed status report, or None when it follows the contract."""
    if not isinstance(body, dict):
        return "Báo cáo trạng thái phải là một đối tượng JSON."
    missing = sorted(STATUS_FIELDS - set(body))
    if missing:
        return f"Báo cáo trạng thái thiếu trường «{missing[0]}»."
    extra = sorted(set(body) - STATUS_FIELDS)
    if extra:
        return f"Báo cáo trạng thái có trường lạ «{extra[0]}»."
    if not isinstance(body["name"], str) or not body["name"].strip():
        return "Trường «name» phải là tên cụm loa."
    if not _opt_str(body["zone"]):
        return "Trường «zone» phải là chữ hoặc null."
    if body["state"] not in STATES:
        return "Trường «state» không hợp lệ."
    if not _opt_str(body["mount"]):
        return "Trường «mount» phải là chữ hoặc null."
    if not _number(body["buffer_s"]) or body["buffer_s"] < 0:
        return "Trường «buffer_s» phải là số không âm."
    if not _number(body["volume"]) or not 0 <= body["volume"] <= 1.5:
        return "Trường «volume» phải là số từ 0 đến 1.5."
    if not _opt_str(body["last_error"], 300):
        return "Trường «last_error» dài quá 300 ký tự hoặc không phải chữ."
    if not _iso_with_offset(body["sent_at"]):
        return "Trường «sent_at» phải là thời điểm ISO-8601 có múi giờ."
    return None


def check_log(body) -> str | None:
    if not isinstance(body, dict) or set(body) != {"rows"} or not isinstance(body["rows"], list):
        return "Nhật ký phải có dạng {\"rows\": [...]}."
    if len(body["rows"]) > 500:
        return "Mỗi lần gửi nhiều nhất 500 dòng nhật ký."
    for row in body["rows"]:
        if not isinstance(row, dict) or set(row) != ROW_FIELDS:
            return "Dòng nhật ký thiếu hoặc thừa trường."
        if not isinstance(row["local_id"], int) or isinstance(row["local_id"], bool) or row["local_id"] <= 0:
            return "Trường «local_id» phải là số nguyên dương."
        if not _iso_with_offset(row["started_at"]):
            return "Trường «started_at» phải là thời điểm ISO-8601 có múi giờ."
        if row["ended_at"] is not None and not _iso_with_offset(row["ended_at"]):
            return "Trường «ended_at» phải là thời điểm ISO-8601 có múi giờ hoặc null."
        if row["kind"] not in ("heard", "gap"):
            return "Trường «kind» phải là heard hoặc gap."
        if not _opt_str(row["mount"]) or not _opt_str(row["cause"], 300):
            return "Trường «mount»/«cause» phải là chữ hoặc null."
    return None


class FakeStation:
    """The three endpoints on 127.0.0.1:<free port>, in a thread; `stream_url` is what config answers."""

    def __init__(self, *, stream_url: str | None, station_name: str = "Đài truyền thanh xã Thử",
                 report_s: float = 1.0, fmt: str = "mp3") -> None:
        self.stream_url = stream_url
        self.zone_urls: dict[str, str] = {}
        self.station_name = station_name
        self.report_s = report_s
        self.format = fmt
        self.receivers: dict[str, FakeReceiver] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.on_air: bool | None = None  # answer status reports with {"on_air": …} as the station does (None: 204)
        self.drop_next_log_answer = False  # store the upload, then close without answering (a lost answer)
        self.config_answer: tuple[int, bytes] | None = None  # force a config answer (a station answering nonsense)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------------ what tests use
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, name: str, zone: str | None = None) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.receivers[name] = FakeReceiver(name=name, zone=zone, token=token)
        return token

    def revoke(self, name: str) -> None:
        with self.lock:
            self.receivers[name].revoked = True

    def statuses(self, name: str) -> list[dict]:
        with self.lock:
            return list(self.receivers[name].statuses)

    def log_rows(self, name: str) -> list[dict]:
        with self.lock:
            return [self.receivers[name].log[k] for k in sorted(self.receivers[name].log)]

    def answered(self, path: str, status: int) -> int:
        with self.lock:
            return sum(1 for _, p, s in self.requests if p == path and s == status)

    # ------------------------------------------------------------------ life
    def up(self) -> FakeStation:
        station = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                station._handle(self, "GET")

            def do_POST(self):
                station._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop answering (a station restarting): the port refuses connections until up()."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ the contract
    def _receiver(self, handler) -> FakeReceiver | None:
        match = re.fullmatch(r"Bearer (\S+)", handler.headers.get("Authorization", ""))
        if not match:
            return None
        for receiver in self.receivers.values():
            if secrets.compare_digest(receiver.token, match.group(1)) and not receiver.revoked:
                return receiver
        return None

    def _handle(self, handler, method: str) -> None:
        path = handler.path.split("?", 1)[0]
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self.lock:
            status, body, drop = self._answer(method, path, handler, raw)
            self.requests.append((method, path, status))
        if drop:
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        handler.send_response(status)
        if body is not None:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(self, method: str, path: str, handler, raw: bytes):
        routes = {("GET", "/api/receiver/config"), ("POST", "/api/receiver/status"), ("POST", "/api/receiver/log")}
        if (method, path) not in routes:
            return 404, {"detail": "Not Found"}, False
        receiver = self._receiver(handler)
        if receiver is None:
            return 401, BAD_TOKEN, False
        if path == "/api/receiver/config":
            if self.config_answer is not None:
                return self.config_answer[0], self.config_answer[1], False
            url = self.zone_urls.get(receiver.zone or "", self.stream_url)
            return 200, {"name": receiver.name, "zone": receiver.zone, "station_name": self.station_name,
                         "stream_url": url, "format": self.format, "report_s": self.report_s}, False
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 422, {"detail": "Nội dung gửi lên không phải JSON."}, False
        if path == "/api/receiver/status":
            problem = check_status(body)
            if problem:
                return 422, {"detail": problem}, False
            if body["name"] != receiver.name:
                return 403, BAD_NAME, False
            receiver.statuses.append(body)
            if self.on_air is not None:
                return 200, {"on_air": self.on_air}, False
            return 204, None, False
        problem = check_log(body)
        if problem:
            return 422, {"detail": problem}, False
        stored = 0
        for row in body["rows"]:
            if row["local_id"] not in receiver.log:
                receiver.log[row["local_id"]] = row
                stored += 1
        drop, self.drop_next_log_answer = self.drop_next_log_answer, False
        return 200, {"stored": stored, "last_local_id": max(receiver.log) if receiver.log else None}, drop
