"""Issue #12 item 7 in the console: the "Cách đọc" view marks the tokens that will be spelled and
lets an editor add a reading to the station lexicon in one step."""

from __future__ import annotations

from broadcaster.speech.lexicon import Lexicon

TEXT = "UBND xã thông báo sửa đường ĐT.265 tại khu ABC."


def test_reading_view_marks_spelled_tokens(as_role):
    editor = as_role("editor")
    r = editor.htmx("/bulletins/reading", {"text": TEXT})
    assert r.status_code == 200
    assert '<mark class="unknown-token" title="Máy không biết “ABC” nên đánh vần">a bê xê</mark>' in r.text
    assert "đê tê hai trăm sáu mươi lăm</mark>" in r.text
    assert 'name="written" value="ABC"' in r.text and 'name="written" value="ĐT.265"' in r.text
    assert "Ủy ban nhân dân xã" in r.text and "<mark" not in r.text.split("Ủy ban nhân dân xã")[0][-40:]


def test_editor_adds_a_reading_in_one_step_and_the_view_is_redrawn(station, as_role):
    editor = as_role("editor")
    r = editor.htmx("/lexicon/entries", {"written": "ABC", "spoken": "an bình cư", "text": TEXT})
    assert r.status_code == 200, r.text
    assert "Đã thêm vào từ điển của đài: ABC → an bình cư" in r.text
    assert "khu an bình cư" in r.text and 'value="ABC"' not in r.text  # no longer unknown
    assert 'name="written" value="ĐT.265"' in r.text  # the other one still is
    assert Lexicon.load(station.settings.lexicon_path).station_entries() == {"ABC": "an bình cư"}
    assert "an bình cư" in station.normalize(TEXT)  # what the engine is given follows at once


def test_bulletin_page_marks_tokens_and_adds_by_bulletin_id(station, as_role):
    editor = as_role("editor")
    r = editor.form("/bulletins", {"title": "Sửa đường", "text": TEXT, "bulletin_class": "thong_thuong",
                                   "frequency": "every_slot"})
    bid = int(r.headers["location"].rsplit("/", 1)[1])
    page = editor.get(f"/bulletins/{bid}").text
    assert "a bê xê</mark>" in page and f'name="bulletin_id" value="{bid}"' in page
    r = editor.htmx("/lexicon/entries", {"written": "ĐT.265", "spoken": "đường tỉnh hai sáu lăm", "bulletin_id": str(bid)})
    assert r.status_code == 200 and "đường tỉnh hai sáu lăm" in r.text


def test_bad_reading_is_one_vietnamese_line_and_nothing_is_written(station, as_role):
    editor = as_role("editor")
    r = editor.htmx("/lexicon/entries", {"written": "ABC", "spoken": "   ", "text": TEXT})
    assert r.status_code == 200 and "Chưa thêm được: cách đọc không được để trống" in r.text
    assert not station.settings.lexicon_path.exists()


def test_only_editors_add_readings(as_role):
    leader = as_role("leader")
    r = leader.htmx("/lexicon/entries", {"written": "ABC", "spoken": "x", "text": TEXT})
    assert r.status_code == 403
