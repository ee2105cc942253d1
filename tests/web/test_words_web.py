"""Issue #11 item 10 in the console: durations in words, no status codes or English in the history,
full names, one spelling, dd/mm/yyyy date fields, the report's wording, a reversed range kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session

from w2_helpers import login

from broadcaster import accounts
from broadcaster.models import AsRun, AsRunKind, AsRunStatus, Bulletin


def make_user(station, name: str, role: str, full_name: str) -> None:
    with Session(station.db) as session:
        accounts.add_user(session=session, name=name, role=role, password="mat-khau-du-dai-2026", by="test",
                          full_name=full_name)
        session.commit()

TEMPLATES = Path(__file__).resolve().parents[2] / "broadcaster" / "web" / "templates"
OLD_TONES = re.compile(r"(?<![qQ])(?:oà|oá|oả|oã|oạ|oè|oé|oẻ|oẽ|oẹ|uỳ|uý|uỷ|uỹ|uỵ)(?!\w)")


def _new(client, **overrides) -> int:
    data = {"title": "Lịch tiêm phòng", "text": "Ngày 21/3/2026 tiêm phòng cho trẻ.", "bulletin_class": "thong_thuong",
            "valid_from": "01/12/2026", "valid_until": "10/12/2026", "frequency": "every_slot"}
    data.update(overrides)
    r = getattr(client, "form", client.post)("/bulletins", data)  # conftest's WebClient or w2_helpers' Client
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("seconds", "words"), [
    (None, "?"), (0, "0 giây"), (48, "48 giây"), (1428, "23 phút 48 giây"), (1428.4, "23 phút 48 giây"),
    (600, "10 phút"), (3725, "1 giờ 2 phút 5 giây"), (3600, "1 giờ"), (3605, "1 giờ 0 phút 5 giây"),
])
def test_duration_words(seconds, words):
    from broadcaster.localtime import duration_words

    assert duration_words(seconds) == words


def test_bulletin_pages_show_minutes_and_seconds_and_full_names(station, app, users):
    make_user(station, "bientap", "editor", full_name="Nguyễn Thị Hoa")
    editor = login(app, station, "bientap", "editor")
    bid = _new(editor)
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        b.item_duration_s, b.item_engine = 1428.0, "recording"
        b.item_path = str(station.settings.data_dir / "x.wav")
        s.add(b)
        s.commit()
    listing = editor.get("/bulletins").text
    assert "23 phút 48 giây" in listing and "1428 giây" not in listing
    assert "Nguyễn Thị Hoa" in listing and ">bientap<" not in listing
    view = editor.get(f"/bulletins/{bid}").text
    assert "Người viết</dt><dd>Nguyễn Thị Hoa" in view


def test_history_never_says_draft_to_draft(station, as_role):
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor)
    form = {"title": "Lịch tiêm phòng (sửa)", "text": "Nội dung mới.", "bulletin_class": "thong_thuong",
            "frequency": "every_slot"}
    assert editor.form(f"/bulletins/{bid}", form).status_code == 303
    editor.form(f"/bulletins/{bid}/submit")
    assert editor.form(f"/bulletins/{bid}", form).status_code == 303
    page = leader.get(f"/bulletins/{bid}").text
    assert "draft" not in re.sub(r'class="[^"]*"', "", page).replace("bản nháp", "")
    assert "chờ duyệt → bản nháp" in page


def test_history_rows_written_before_read_in_words_too(station, as_role):
    from broadcaster.models import AuditEntry

    editor = as_role("editor")
    bid = _new(editor)
    with Session(station.db) as s:
        s.add(AuditEntry(user="editor1", action="bulletin.edit", object_type="bulletin", object_id=str(bid),
                         detail="draft → draft"))
        s.add(AuditEntry(user="editor1", action="bulletin.edit", object_type="bulletin", object_id=str(bid),
                         detail="rejected → draft"))
        s.add(AuditEntry(user="editor1", action="bulletin.recording", object_type="bulletin", object_id=str(bid),
                         detail="ghi.m4a (93.1 s)"))
        s.commit()
    page = editor.get(f"/bulletins/{bid}").text
    assert "draft →" not in page and "bị trả lại → bản nháp" in page and "ghi.m4a (1 phút 33 giây)" in page


def test_date_fields_show_dd_mm_yyyy_whatever_the_browser_language(as_role):
    editor = as_role("editor")
    bid = _new(editor)
    form = editor.get(f"/bulletins/{bid}/edit").text
    for name, shown in (("valid_from", "01/12/2026"), ("valid_until", "10/12/2026")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form).group(0)
        assert 'type="text"' in field and 'placeholder="dd/mm/yyyy"' in field and f'value="{shown}"' in field
    for template in TEMPLATES.glob("*.html"):
        assert 'type="date"' not in template.read_text(encoding="utf-8"), template.name


def test_reversed_log_range_keeps_what_was_typed(as_role):
    leader = as_role("leader")
    page = leader.get("/log?date_from=20/12/2026&date_until=10/12/2026")
    assert page.status_code == 400 and "phải sau hoặc bằng" in page.text
    assert 'value="20/12/2026"' in page.text and 'value="10/12/2026"' in page.text


def test_log_requester_is_a_full_name(station, app, users):
    make_user(station, "trucdai2", "operator", full_name="Trần Văn Bình")
    with Session(station.db) as s:
        s.add(AsRun(title="Khẩn: bão", status=AsRunStatus.aired, kind=AsRunKind.urgent, operator="trucdai2",
                    duration_s=95.0))
        s.commit()
    client = login(app, station, "trucdai2", "operator")
    page = client.get("/log").text
    assert 'data-label="Người yêu cầu">Trần Văn Bình<' in page
    assert "1 phút 35 giây" in page
    assert ">Trần Văn Bình</option>" in page  # the filter lists people by name too
    export = client.get("/log/export.csv").content.decode("utf-8-sig")
    assert "Trần Văn Bình" in export and ",trucdai2," not in export


def test_one_spelling_new_style_tones_everywhere_a_user_looks():
    root = Path(__file__).resolve().parents[2] / "broadcaster"
    files = [*TEMPLATES.glob("*.html"), *(root / "web").glob("*.py"), *(root / "cli").glob("*.py"),
             *(root / "station").glob("*.py"), *(root / "reports").glob("*.py")]
    found = [f"{f.name}: {m.group(0)}" for f in files for m in OLD_TONES.finditer(f.read_text(encoding="utf-8"))]
    assert not found, found


def test_report_export_is_worded_for_the_reporting_line_of_today(as_role):
    page = as_role("leader").get("/reports").text
    assert "gửi cấp trên" in page and "huyện" not in page
