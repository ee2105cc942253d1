import sqlite3

import pytest

from broadcaster.config import load_settings, settings_template
from broadcaster.exceptions import ConfigError
from broadcaster.station.facade import init_data_dir


def test_sources_order(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('espeak_rate = 120\ntarget_lufs = -18.0\n', encoding="utf-8")
    monkeypatch.setenv("BROADCASTER_TARGET_LUFS", "-20")
    s = load_settings(tmp_path)
    assert s.espeak_rate == 120  # from the file
    assert s.target_lufs == -20.0  # environment beats the file
    assert load_settings(tmp_path, target_lufs=-14.0).target_lufs == -14.0  # arguments beat both


def test_engine_order_from_env_string(tmp_path, monkeypatch):
    monkeypatch.setenv("BROADCASTER_ENGINE_ORDER", '["espeak", "gtts"]')
    assert load_settings(tmp_path).engine_order == ["espeak", "gtts"]


def test_bad_settings_file_is_a_clear_error(tmp_path):
    (tmp_path / "settings.toml").write_text("espeak_rate = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="settings.toml"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text('engine_order = ["piper2000"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="piper2000"):
        load_settings(tmp_path)


def test_template_parses_back_to_defaults(tmp_path):
    (tmp_path / "settings.toml").write_text(settings_template(), encoding="utf-8")
    assert load_settings(tmp_path).espeak_rate == 140
    # every setting is documented in the template
    for name in ("engine_order", "gtts_timeout", "output_device", "misfire_grace_s"):
        assert f"# {name} = " in settings_template()


def test_init_is_idempotent_and_database_is_wal_full(tmp_path):
    s = load_settings(tmp_path / "d")
    first = init_data_dir(s)
    assert str(s.db_path) in first and str(s.settings_path) in first
    (s.settings_path).write_text("espeak_rate = 100\n", encoding="utf-8")
    assert init_data_dir(s) == []  # nothing recreated, the officer's settings kept
    assert "espeak_rate = 100" in s.settings_path.read_text(encoding="utf-8")
    con = sqlite3.connect(s.db_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"bulletin", "as_run", "schema_version"} <= tables


def test_synchronous_full_on_every_connection(tmp_path):
    from sqlalchemy import text

    from broadcaster.db import make_engine

    engine = make_engine(tmp_path / "x.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


def _field_bounds(name: str) -> tuple:
    """The bounds a setting's Field declares: (lowest, highest, lowest_excluded, highest_excluded)."""
    import annotated_types

    from broadcaster.config import Settings

    low = high = None
    low_excluded = high_excluded = False
    for m in Settings.model_fields[name].metadata:
        if isinstance(m, (annotated_types.Ge, annotated_types.Gt)):
            low_excluded = isinstance(m, annotated_types.Gt)
            low = m.gt if low_excluded else m.ge
        elif isinstance(m, (annotated_types.Le, annotated_types.Lt)):
            high_excluded = isinstance(m, annotated_types.Lt)
            high = m.lt if high_excluded else m.le
    return low, high, low_excluded, high_excluded


def test_setting_ranges_are_the_field_bounds():
    """One place for a setting's range: its Field (ge/gt, le), which SETTING_RANGES is made from."""
    from broadcaster.config import SETTING_RANGES, Settings

    assert {"espeak_rate", "sample_rate", "silence_s", "web_port"} <= set(SETTING_RANGES)
    for name, bounds in SETTING_RANGES.items():
        assert _field_bounds(name) == bounds, name
    assert {n for n in Settings.model_fields if None not in _field_bounds(n)[:2]} == set(SETTING_RANGES)


@pytest.mark.parametrize("line, why", [
    ("espeak_rate = 40", "phải từ 50 đến 500"),
    ("gtts_timeout = 0", "phải lớn hơn 0 và tối đa 300"),
    ("gtts_timeout = nan", "phải lớn hơn 0 và tối đa 300"),
    ("silence_dbfs = 1", "phải từ -120 đến dưới 0"),
    ("silence_dbfs = -130", "phải từ -120 đến dưới 0"),
    ("web_port = 0", "phải từ 1 đến 65535"),
    ("espeak_rate = 'nhanh'", "phải là số nguyên"),
])
def test_a_setting_out_of_its_range_says_the_range(tmp_path, line, why):
    (tmp_path / "settings.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value).startswith(f"Cài đặt {line.split()[0]} = ") and f"không hợp lệ: {why} (" in str(caught.value)
