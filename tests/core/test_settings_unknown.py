"""Settings that say what is wrong (issue 10 item 8): an unknown key in settings.toml is named back
with the closest valid one (strict for CLI commands, a warning for serve); the template written by
`init` explains every setting in Vietnamese and every line of it, uncommented, is a valid setting."""

from __future__ import annotations

import re
import tomllib
import unicodedata

import pytest

from broadcaster.config import Settings, load_settings, settings_template
from broadcaster.exceptions import ConfigError


def write(directory, text: str):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "settings.toml").write_text(text, encoding="utf-8")
    return directory / "settings.toml"


def test_unknown_key_is_refused_naming_the_closest_setting(tmp_path):
    path = write(tmp_path, "espeak_rat = 150\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == (
        f"Cài đặt không có tên 'espeak_rat' trong {path}; có phải ý bạn là 'espeak_rate'?"
    )


def test_every_unknown_key_gets_its_own_line_with_the_wrong_values(tmp_path):
    write(tmp_path, 'espeak_rat = 150\nweb_prot = 8081\nsample_rate = 0\nzzz_nothing_like_it = 1\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 4, lines
    assert "'espeak_rat'" in lines[0] and "'espeak_rate'" in lines[0]
    assert "'web_prot'" in lines[1] and "'web_port'" in lines[1]
    assert "'zzz_nothing_like_it'" in lines[2] and "có phải ý bạn" not in lines[2]
    assert "sample_rate" in lines[3]  # the wrong value is still named as before
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)


def test_a_table_in_the_file_is_an_unknown_key_too(tmp_path):
    write(tmp_path, "[web]\nport = 8081\n")
    with pytest.raises(ConfigError, match="Cài đặt không có tên 'web'"):
        load_settings(tmp_path)


def test_lenient_load_keeps_the_valid_settings_and_carries_the_warning(tmp_path):
    path = write(tmp_path, "espeak_rat = 150\nespeak_pitch = 40\n")
    settings = load_settings(tmp_path, strict=False)
    assert settings.espeak_pitch == 40 and settings.espeak_rate == 140  # the unknown key is ignored
    assert settings.warnings == [f"Cài đặt không có tên 'espeak_rat' trong {path}; có phải ý bạn là 'espeak_rate'?"]
    assert load_settings(tmp_path / "clean").warnings == []


def test_a_setting_in_other_letter_case_is_a_setting(tmp_path):
    write(tmp_path, "Espeak_Rate = 150\n")  # pydantic-settings applies it: it must not be called unknown
    settings = load_settings(tmp_path)
    assert settings.espeak_rate == 150 and settings.warnings == []


def test_data_dir_in_the_file_is_named_as_having_no_effect(tmp_path):
    write(tmp_path, 'data_dir = "/elsewhere"\n')
    with pytest.raises(ConfigError, match="'data_dir' không đặt được trong .*--data-dir"):
        load_settings(tmp_path)
    assert load_settings(tmp_path, strict=False).data_dir == tmp_path


def test_lenient_load_still_refuses_a_wrong_value(tmp_path):
    write(tmp_path, "espeak_rat = 150\nsample_rate = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, strict=False)
    assert "sample_rate" in str(caught.value) and "espeak_rat" not in str(caught.value)


def test_misspelled_environment_variable_is_named_back(tmp_path, monkeypatch):
    monkeypatch.setenv("BROADCASTER_ESPEAK_RAT", "150")
    monkeypatch.setenv("BROADCASTER_SOMETHING_ELSE_ENTIRELY", "1")  # not like any setting: not ours
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == (
        "Biến môi trường BROADCASTER_ESPEAK_RAT không phải cài đặt nào; có phải ý bạn là BROADCASTER_ESPEAK_RATE?"
    )
    assert load_settings(tmp_path, strict=False).warnings == [str(caught.value)]


def test_environment_variables_that_are_settings_are_not_flagged(tmp_path, monkeypatch):
    monkeypatch.setenv("BROADCASTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BROADCASTER_ESPEAK_RATE", "150")
    monkeypatch.setenv("broadcaster_espeak_pitch", "30")  # pydantic-settings reads names case-insensitively
    settings = load_settings(tmp_path)
    assert settings.espeak_rate == 150 and settings.warnings == []


# ------------------------------------------------------------------ the template
def _has_vietnamese(text: str) -> bool:
    return any(ord(ch) > 127 and unicodedata.category(ch).startswith("L") for ch in text)


def test_every_setting_has_a_vietnamese_help_line_in_the_template():
    template = settings_template()
    lines = template.splitlines()
    assert _has_vietnamese(lines[0])  # the header too
    for name in Settings.model_fields:
        if name == "data_dir":  # the folder the file lives in: not a setting of the file
            continue
        index = next(i for i, line in enumerate(lines) if line.startswith(f"# {name} = "))
        start = index  # the help block: the comment lines just above the setting's line
        while start > 0 and lines[start - 1].startswith("# ") and not re.match(r"# \w+ = ", lines[start - 1]):
            start -= 1
        help_block = lines[start:index]
        assert help_block, (name, lines[index - 1])
        vietnamese = help_block[0][2:].split(" / ")[0]
        assert _has_vietnamese(vietnamese), (name, help_block)  # Vietnamese first, English after is fine
        assert all(unicodedata.is_normalized("NFC", line) for line in help_block), name
    for name, field in Settings.model_fields.items():
        assert field.description and _has_vietnamese(field.description.split(" / ")[0]), name


def test_uncommenting_any_line_of_the_template_gives_the_default(tmp_path):
    template = settings_template()
    assert tomllib.loads(template) == {}  # everything commented out
    defaults = Settings.model_fields
    loaded = {}
    for line in template.splitlines():
        found = re.match(r"# (\w+) = (.*)$", line)
        if not found:
            continue
        name = found.group(1)
        directory = tmp_path / name
        write(directory, line[2:] + "\n")
        loaded[name] = load_settings(directory)  # strict: the name is a setting, the value is valid
    assert set(loaded) == set(defaults) - {"data_dir"}
    wrong = {name: getattr(s, name) for name, s in loaded.items() if getattr(s, name) != defaults[name].default}
    assert wrong == {}  # e.g. `intro_jingle = ""` must mean the built-in jingle, not Path(".")
    assert all(s.warnings == [] for s in loaded.values())
