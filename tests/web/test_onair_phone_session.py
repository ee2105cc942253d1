"""Issue 11 items 7 and 8, in-process: the Trực đài page as a phone user needs it (urgent box first,
one device warning, controls disabled when nothing plays, the next slot's items, operators land
on it) and what happens when the session ends under an htmx panel (full login page, then back to
the page the user was on; logged-in pages never cached)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from w2_helpers import anonymous, login, make_app, text_of

from broadcaster.playout.memory import MemoryCard
from support.onair import onair_over

TITLE = "Lịch tiêm phòng cho đàn gia cầm"


@pytest.fixture
def onair_closed(station, settings):
    """A running OnAir whose sound card was never opened (no device)."""
    with onair_over(station, settings, MemoryCard(speed=8.0, latency=0.02)) as runner:
        yield runner


@pytest.fixture
def onair_open(onair_closed):
    assert onair_closed.ensure_device()
    return onair_closed


# ---------------------------------------------------------------- item 7
def test_urgent_box_and_button_come_before_the_status_panel(station, onair_open):
    page = login(make_app(station, onair=onair_open), station, "trucdai", "operator").get("/onair").text
    main = page[page.index("<main"):]
    assert main.index('id="urgent-text"') < main.index('id="onair-panel"')
    assert main.index('id="nut-khan-cap"') < main.index('id="onair-panel"')
    # the text box and the button are the first controls of the form (the options come after)
    form = main[main.index('id="khan-cap-form"'):]
    assert form.index('id="nut-khan-cap"') < form.index('name="source"')


def test_one_device_warning_not_two(station, onair_closed):
    client = login(make_app(station, onair=onair_closed), station, "trucdai", "operator")
    page = text_of(client.get("/onair").text)
    assert page.count("Không có thiết bị âm thanh") == 1, page
    # the panel's own warning is live (it refreshes every 2 s); other pages keep the banner
    assert "Không có thiết bị âm thanh" in text_of(client.get("/onair/panel").text)
    assert text_of(client.get("/bulletins").text).count("Không có thiết bị âm thanh") == 1


def test_skip_and_stop_are_disabled_when_nothing_plays(station, onair_open):
    page = login(make_app(station, onair=onair_open), station, "trucdai", "operator").get("/onair/panel").text
    for action in ("/onair/skip", "/onair/stop"):
        form = page[page.index(f'action="{action}"'):]
        button = form[form.index("<button"):form.index("</button>")]
        assert "disabled" in button, button


def test_next_shows_the_next_slots_items_when_this_slot_has_none_left(station, onair_open):
    station.add_bulletin(title=TITLE, text="Xã tổ chức tiêm phòng cho gia cầm từ thứ hai.", approve=True)
    panel = text_of(login(make_app(station, onair=onair_open), station, "trucdai", "operator")
                    .get("/onair/panel").text)
    assert "Khung giờ tới" in panel
    assert TITLE in panel, panel


def test_an_operator_lands_on_the_onair_page_after_login(station):
    app = make_app(station)
    operator = login(app, station, "trucdai", "operator")
    assert operator.get("/").headers["location"] == "/onair"
    editor = login(app, station, "bientap", "editor")
    assert editor.get("/").headers["location"] == "/bulletins"


# ---------------------------------------------------------------- item 8
@pytest.mark.parametrize(("method", "url", "current"), [
    ("get", "/onair/panel", "/onair"),
    ("post", "/bulletins/reading", "/bulletins/new?tu=docx"),
])
def test_an_htmx_panel_whose_session_ended_sends_to_login_and_back(station, onair_open, method, url, current):
    app = make_app(station, onair=onair_open)
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver" + current}
    answer = getattr(anonymous(app).http, method)(url, headers=headers)
    assert answer.status_code == 401 and "<html" not in answer.text
    assert answer.headers["HX-Redirect"] == "/login?next=" + quote(current, safe="")


def test_an_htmx_redirect_never_points_off_site(station):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://evil.example//evil.example/x"}
    answer = anonymous(make_app(station)).http.get("/onair/panel", headers=headers)
    assert answer.headers["HX-Redirect"] in ("/login", "/login?next=%2F")


def test_logged_in_pages_are_not_cached(station, onair_open):
    client = login(make_app(station, onair=onair_open), station, "trucdai", "operator")
    for url in ("/bulletins", "/onair", "/onair/panel", "/log"):
        answer = client.get(url)
        assert answer.status_code == 200 and "no-store" in answer.headers.get("cache-control", ""), url
