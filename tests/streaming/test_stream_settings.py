"""The issue 14 settings block: stream_url checked where it is used (one line, never the password),
the format and bitrate ranges, and the zones hook the fan-out asks."""

from __future__ import annotations

import pytest
import sqlalchemy

from broadcaster.cli.common import _check_stream_url
from broadcaster.config import load_settings
from broadcaster.exceptions import ConfigError
from broadcaster.station.urgent_zones import known_zones

BAD = "icecast://source:bi-mat-42@127.0.0.1/dai.mp3"  # no port


def test_stream_settings_defaults_and_env(data_dir, monkeypatch):
    settings = load_settings(data_dir)
    assert (settings.stream_url, settings.stream_format, settings.stream_bitrate_kbps) == (None, "mp3", 48)
    assert (settings.receiver_report_s, settings.receiver_offline_s, settings.stream_public_host) == (5.0, 20.0, None)
    monkeypatch.setenv("BROADCASTER_STREAM_URL", "icecast://source:pw@127.0.0.1:8000/dai.mp3")
    assert load_settings(data_dir).stream_url.endswith(":8000/dai.mp3")
    assert ":pw@" not in repr(load_settings(data_dir))  # the password is never in a repr of the settings
    monkeypatch.setenv("BROADCASTER_STREAM_URL", "")
    assert load_settings(data_dir).stream_url is None


@pytest.mark.parametrize("name,value", [("stream_bitrate_kbps", 70), ("stream_bitrate_kbps", 16),
                                        ("stream_format", "aac")])
def test_out_of_range_stream_settings_are_one_line(data_dir, name, value):
    with pytest.raises(ConfigError) as err:
        load_settings(data_dir, **{name: value})
    assert len(str(err.value).splitlines()) == 1 and name in str(err.value)


def test_a_bad_stream_url_stops_a_command_and_serve_airs_without_the_stream(data_dir):
    with pytest.raises(ConfigError) as err:
        _check_stream_url(load_settings(data_dir, stream_url=BAD), strict=True)
    line = str(err.value)
    assert len(line.splitlines()) == 1 and "stream_url" in line and "cổng" in line and "bi-mat-42" not in line
    served = _check_stream_url(load_settings(data_dir, stream_url=BAD, strict=False), strict=False)
    assert served.stream_url is None  # serve airs on, without the stream, and shows why
    assert any("stream_url" in w and "bi-mat-42" not in w for w in served.warnings), served.warnings


def test_known_zones_before_and_after_the_receivers_table(tmp_path):
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'z.db'}")
    assert known_zones(engine) == []
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE receivers (id INTEGER PRIMARY KEY, name TEXT, zone TEXT, "
                                     "revoked_at TEXT)"))
        conn.execute(sqlalchemy.text("INSERT INTO receivers (name, zone, revoked_at) VALUES "
                                     "('a', 'Thôn Đông', NULL), ('b', 'Thôn Đông', NULL), ('c', NULL, NULL), "
                                     "('d', 'Thôn Tây', '2026-01-01')"))
    assert known_zones(engine) == ["Thôn Đông"]
    engine.dispose()
