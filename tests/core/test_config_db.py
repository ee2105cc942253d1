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
