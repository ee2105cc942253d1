"""Screenshots of the web console's main pages at 1366×768 into docs/screenshots/*.png.

Run: .venv/bin/python bench/screenshots.py [--out docs/screenshots] [--mobile]

A fresh data directory is filled with a year of generated history (bench/web_data.py, smaller
than the benchmark), accounts are made for each role, and the console is served in-process by
uvicorn on a free loopback port with a real OnAir whose sound card is the in-memory fake, so the
on-air page has something playing. Debian's Chromium (/usr/bin/chromium) is driven by Playwright.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from _common import free_port  # noqa: E402

PASSWORD = "mat-khau-anh-chup-2026"
READING_TEXT = (
    "UBND xã Dân Tiến thông báo: Thực hiện Kế hoạch số 160/KH-UBND ngày 10/12/2025 của UBND tỉnh, "
    "từ ngày 15/3 đến ngày 15/4/2026 xã tổ chức tiêm phòng lở mồm long móng cho trâu, bò. "
    "Mức hỗ trợ 25.000 đồng/con. Liên hệ 0912 345 678."
)


def serve_in_process(data_dir: Path):
    """(url, station, onair, stop) — the console on uvicorn in a thread, OnAir on a fake card."""
    import uvicorn

    from broadcaster.config import load_settings
    from broadcaster.playout.memory import MemoryCard
    from broadcaster.playout.player import Player
    from broadcaster.station.facade import Station
    from broadcaster.web.app import create_app

    settings = load_settings(data_dir, engine_order=["espeak"])
    station = Station.open(settings)
    card = MemoryCard(speed=1.0, latency=0.02)
    onair = station.on_air(player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate,
                                                         fade_ms=settings.fade_ms),
                  stop=threading.Event(), say=lambda m: None)
    onair.ensure_device()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(station, onair=onair), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", station, onair, server


def make_users(station) -> None:
    from sqlmodel import Session

    from broadcaster import accounts

    with Session(station.db) as session:
        for name, role, full in (("quantri", "admin", "Nguyễn Văn Quản"), ("bientap", "editor", "Trần Thị Biên"),
                                 ("lanhdao", "leader", "Hoàng Văn Thảo"), ("trucdai", "operator", "Lê Văn Trực")):
            accounts.add_user(session=session, name=name, role=role, password=PASSWORD, by="screenshots", full_name=full)
        session.commit()


def play_something(station, onair) -> None:
    """A long programme item on air (a tone file under the data dir) so the on-air page shows progress."""
    import numpy as np

    from broadcaster.media import write_wav

    rate = station.settings.sample_rate
    seconds = 240
    t = np.arange(rate * seconds) / rate
    path = station.settings.cache_dir / "items" / "screenshot-item.wav"
    write_wav(path, (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sample_rate=rate)
    gate = station.air_gate
    gate.begin_slot("Buổi chiều", ["Gọi công dân nhập ngũ năm 2026", "Phòng chống lừa đảo qua mạng"])
    gate.upcoming = ["Gọi công dân nhập ngũ năm 2026", "Phòng chống lừa đảo qua mạng"]

    def run():
        gate.enter_item()
        try:
            station.play_file(path, player=onair.player, title="Lịch tiêm phòng gia súc đợt 1 năm 2026",
                              slot="Buổi chiều")
        finally:
            gate.leave_item()

    threading.Thread(target=run, daemon=True).start()


def login(page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--bulletins", type=int, default=600)
    parser.add_argument("--rows", type=int, default=6000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from web_data import generate

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        data_dir = Path(tmp) / "data"
        generate(data_dir, bulletins=args.bulletins, rows=args.rows, live=6)
        url, station, onair, server = serve_in_process(data_dir)
        make_users(station)
        shots = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
                page = context.new_page()

                def shot(name: str, full: bool = False) -> None:
                    page.wait_for_load_state("networkidle")
                    path = out / f"{name}.png"
                    page.screenshot(path=str(path), full_page=full)
                    shots.append(path)

                page.goto(url + "/login")
                shot("01-dang-nhap")
                login(page, url, "bientap")
                page.goto(url + "/bulletins")
                shot("02-ban-tin")
                page.goto(url + "/bulletins/new")
                if page.locator("textarea[name=text]").count():
                    page.fill("input[name=title]", "Tiêm phòng lở mồm long móng")
                    page.locator("textarea[name=text]").fill(READING_TEXT)
                    page.locator("textarea[name=text]").dispatch_event("keyup")
                    time.sleep(1.5)  # the htmx reading view answers after its delay
                shot("03-soan-ban-tin-cach-doc")
                context.clear_cookies()
                login(page, url, "trucdai")
                page.goto(url + "/timetable")
                shot("04-lich-phat-tuan")
                play_something(station, onair)
                time.sleep(3)
                page.goto(url + "/onair")
                shot("05-truc-dai")
                page.goto(url + "/log")
                shot("06-nhat-ky")
                context.clear_cookies()
                login(page, url, "lanhdao")
                from datetime import date

                today = date.today()
                last = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
                page.goto(url + f"/reports?period={last}")
                shot("07-bao-cao")
                phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                            is_mobile=True, has_touch=True, locale="vi-VN")
                page = phone.new_page()
                login(page, url, "trucdai")
                page.goto(url + "/onair")
                shot("08-truc-dai-dien-thoai")
                page.goto(url + "/log")
                shot("09-nhat-ky-dien-thoai")
                browser.close()
        finally:
            from broadcaster.playout.outcome import Outcome

            onair.player.interrupt(Outcome.INTERRUPTED) if onair.player.is_open else None
            onair.urgent.shutdown()
            server.should_exit = True
            time.sleep(0.5)
            onair.player.close()
            station.close()
    for path in shots:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
