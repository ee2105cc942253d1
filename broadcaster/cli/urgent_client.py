"""The fast path of `broadcaster urgent`: find a running `serve` and hand it the request.

Standard library only (argparse, http.client, json): urgent latency is measured from the
command, and the full CLI's imports (SQLModel, pydantic-settings, typer, every command)
cost more than the whole 500 ms budget on a small PC. The console script (entry.py) serves
`broadcaster urgent …` from here and hands every other command (and `urgent` with no
running serve) to the full CLI; this module never imports the full CLI.

A running serve is found through ``<data_dir>/run/serve.json`` ({"url", "pid"}) and its
token in ``<data_dir>/run/api-token``; a serve.json whose process is gone is ignored.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..exceptions import BroadcasterError, InputError

SERVE_INFO = Path("run") / "serve.json"
API_TOKEN = Path("run") / "api-token"
HTTP_TIMEOUT_S = 10.0
MAX_EVERY_MIN = 24 * 60  # as urgent.MAX_EVERY_MIN (not imported: this module stays stdlib-only)


def resolve_data_dir(option: str | Path | None) -> Path:
    """Same rule as config.resolve_data_dir (datadir.locate, standard library only): ConfigError when
    no data directory is found."""
    from ..datadir import locate

    return locate(option)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a serve killed with -9 leaves serve.json behind)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    return True


def running_serve(data_dir: Path) -> tuple[str, str] | None:
    """(url, token) of a live `serve` on this data directory, or None (then play locally)."""
    info_path = data_dir / SERVE_INFO
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        url, pid = str(info["url"]).rstrip("/"), int(info["pid"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"Tệp {info_path} hỏng ({exc}); hãy khởi động lại `broadcaster serve`") from exc
    if not pid_alive(pid):
        return None
    try:
        token = (data_dir / API_TOKEN).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(
            f"Đài đang chạy (tiến trình {pid}) nhưng không đọc được mã truy cập {data_dir / API_TOKEN}: "
            f"{exc.strerror or exc}"
        ) from exc
    return url, token


def call_api(url: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One JSON request to the serve's API. Returns (HTTP status, JSON object)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection = cls(parts.hostname or "127.0.0.1", parts.port, timeout=HTTP_TIMEOUT_S)
        try:
            connection.request(method, (parts.path.rstrip("/") or "") + path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as exc:
        raise BroadcasterError(f"Không gửi được lệnh tới đài đang chạy ở {url}: {exc}") from exc
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = {}
    return response.status, payload if isinstance(payload, dict) else {}


def api_or_fail(url: str, token: str, method: str, path: str, body: dict | None = None, *,
                answered_by: str = "") -> dict:
    """call_api, with an error answer raised as the station's own Vietnamese message (after `answered_by`)."""
    status, payload = call_api(url, token, method, path, body)
    if status >= 400:
        message = answered_by + (payload.get("error") or f"đài trả lời mã {status}")
        raise (InputError if status < 500 else BroadcasterError)(message)
    return payload


def check_request(
    *, text: str | None, file: str | Path | None, mic: bool, repeat: int, every: float | None
) -> None:
    """The CLI's own checks, before anything is sent or opened (bad input writes nothing)."""
    given = [name for name, value in (("--text", text is not None), ("--file", file is not None), ("--mic", mic)) if value]
    if len(given) != 1:
        raise InputError(
            "Cần đúng một trong ba: --text, --file hoặc --mic" + (f" (đã cho {', '.join(given)})" if given else "")
        )
    if text is not None and not text.strip():
        raise InputError("Nội dung thông báo khẩn cấp trống")
    if file is not None and not Path(file).is_file():
        raise InputError(f"Không tìm thấy tệp ghi âm: {file}")
    if repeat < 1:
        raise InputError("--repeat phải từ 1 trở lên")
    if every is not None and not (0 < every <= MAX_EVERY_MIN):  # NaN fails the comparison too
        raise InputError(f"--every phải lớn hơn 0 và không quá {MAX_EVERY_MIN} phút (24 giờ)")
    if mic and (repeat != 1 or every is not None):
        raise InputError("Phát qua micro không lặp lại được (bỏ --repeat/--every)")


def request_body(
    *, text: str | None, file: str | Path | None, mic: bool, repeat: int, every: float | None, operator: str | None,
    zones: list[str] | None = None,
) -> dict:
    return {
        "zones": [z for z in zones or [] if z is not None] or None,  # issue 14: some zones only; None = all
        "text": text,
        "file": str(Path(file).resolve()) if file is not None else None,
        "mic": mic,
        "repeat": repeat,
        "every_min": every,
        "operator": operator or os.environ.get("USER") or os.environ.get("USERNAME"),
    }


def clock_text(iso: str | None) -> str:
    """HH:MM:SS.mmm dd/mm/yyyy at the offset the API gave (the station's zone: requested_local), never
    converted to the PC's own zone."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).strftime("%H:%M:%S.%f")[:-3] + datetime.fromisoformat(iso).strftime(" %d/%m/%Y")
    except ValueError:
        return iso


def through_serve(url: str, token: str, *, body: dict, echo=print) -> None:
    """Send the request to the running serve; for the microphone, stay until Ctrl+C, then stop it."""
    import time

    # refused by the running station: the line says it was that station (not this command) that answered
    payload = api_or_fail(url, token, "POST", "/api/urgent", {k: v for k, v in body.items() if v not in (None, False)},
                          answered_by=f"Đài đang chạy ({url}) trả lời: ")
    echo(
        f"Đã gửi lệnh khẩn cấp tới đài đang chạy ({url}): yêu cầu số {payload.get('id')}, "
        f"nhận lúc {clock_text(payload.get('requested_local') or payload.get('requested_at'))} (giờ của đài)."
    )
    zones = payload.get("zones")
    if zones and isinstance(zones, list):
        echo(f"Chỉ phát tới vùng: {', '.join(str(z) for z in zones)} (loa của đài và các vùng khác vẫn phát "
             "chương trình); xem kết quả bằng `broadcaster log`.")
        return
    if not body.get("mic"):
        echo("Đài đang phát tín hiệu chú ý rồi thông báo; xem kết quả bằng `broadcaster log`.")
        return
    echo("Đang phát trực tiếp qua micro của đài. Nhấn Ctrl+C để dừng.")
    try:
        while True:
            status, job = call_api(url, token, "GET", f"/api/urgent/{payload.get('id')}")
            if status == 200 and job.get("state") in ("done", "failed", "stopped"):
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        api_or_fail(url, token, "POST", "/api/urgent/stop", {})
        echo("Đã dừng phát qua micro.")


# ---------------------------------------------------------------------- fast entry
class _Parser:
    """argparse with Vietnamese errors that become `Lỗi:` lines."""

    def __init__(self) -> None:
        import argparse

        class Parser(argparse.ArgumentParser):
            def error(self, message: str) -> None:  # argparse would print usage and exit 2
                for english, vietnamese in (
                    ("unrecognized arguments", "không hiểu tham số"),
                    ("expected one argument", "thiếu giá trị"),
                    ("argument ", ""),
                ):
                    message = message.replace(english, vietnamese)
                raise InputError(f"Tham số không hợp lệ: {message}")

        def number(kind):
            def parse(value: str):
                try:
                    return kind(value.replace(",", "."))
                except ValueError:
                    raise argparse.ArgumentTypeError(f"'{value}' không phải là số") from None

            return parse

        parser = Parser(prog="broadcaster urgent", description="Phát thông báo khẩn cấp ngay.", add_help=True)
        parser.add_argument("--text", help="Nội dung thông báo khẩn cấp.")
        parser.add_argument("--file", help="Tệp ghi âm của cán bộ (MP3/WAV/M4A).")
        parser.add_argument("--mic", action="store_true", help="Phát trực tiếp từ micro đến khi dừng.")
        parser.add_argument("--repeat", type=number(int), default=1, help="Số lần phát thông báo.")
        parser.add_argument("--every", type=number(float), default=None, help="Phát lại mỗi MIN phút.")
        parser.add_argument("--operator", default=None, help="Người ra lệnh (ghi vào nhật ký).")
        parser.add_argument("--zone", action="append", default=None,
                            help="Chỉ phát tới vùng này (lặp lại cho nhiều vùng; mặc định: tất cả các cụm loa).")
        parser.add_argument("--data-dir", default=None, help="Thư mục dữ liệu.")
        self.parser = parser

    def parse(self, argv: list[str]):
        return self.parser.parse_args(argv)


def fast_urgent(argv: list[str]) -> int | None:
    """`broadcaster urgent ARGS` through a running serve. Returns the exit code, or None when no
    serve runs (the full CLI then plays locally). Errors print one `Lỗi:` line."""
    try:
        args = _Parser().parse(argv)
        check_request(text=args.text, file=args.file, mic=args.mic, repeat=args.repeat, every=args.every)
        serve = running_serve(resolve_data_dir(args.data_dir))
        if serve is None:
            return None
        body = request_body(
            text=args.text, file=args.file, mic=args.mic, repeat=args.repeat, every=args.every, operator=args.operator,
            zones=args.zone,
        )
        through_serve(*serve, body=body, echo=lambda line: print(line, flush=True))
    except BroadcasterError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    return 0


__all__ = ["fast_urgent", "running_serve", "call_api", "check_request", "through_serve"]
