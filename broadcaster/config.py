"""One typed Settings object.

Sources, strongest first: explicit arguments, environment (``BROADCASTER_*``), the
data directory's ``settings.toml``, the defaults below. Every field carries its help
text next to its default, so ``broadcaster settings`` (and the README) can list them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATA_DIR = Path("data")
SETTINGS_FILE = "settings.toml"
KNOWN_ENGINES = ("gtts", "espeak")
# below this much free space SQLite itself cannot work (its WAL index alone is 32 KB a connection)
MIN_FREE_MB_FLOOR = 10


class Settings(BaseSettings):
    """Station settings. Paths that are relative are relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="BROADCASTER_", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Data directory: database, render cache, settings.toml")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="The station's time zone; storage is UTC")

    # speech
    engine_order: list[str] = Field(
        ["gtts", "espeak"], description="Speech engines to try, in order; a failure falls back to the next"
    )
    gtts_lang: str = Field("vi", description="gTTS language")
    gtts_tld: str = Field("com.vn", description="Google host suffix for gTTS")
    gtts_timeout: float = Field(10.0, description="Seconds before a gTTS request is abandoned (never unlimited)")
    gtts_slow: bool = Field(False, description="gTTS slow reading")
    espeak_voice: str = Field("vi", description="espeak-ng voice")
    espeak_rate: int = Field(140, description="espeak-ng words per minute; slower than talk, loudspeakers echo")
    espeak_pitch: int = Field(50, description="espeak-ng pitch 0-99")
    speech_chunk_chars: int = Field(450, description="Longest piece of text sent to an engine at once")

    # audio
    sample_rate: int = Field(48000, description="Output sample rate (fixed format: 16-bit PCM)")
    target_lufs: float = Field(-16.0, description="Integrated loudness of every program item, LUFS")
    true_peak_dbtp: float = Field(-1.0, description="Ceiling for peaks, dBTP")
    intro_jingle: Path | None = Field(None, description="Intro jingle file; empty = the built-in one")
    outro_jingle: Path | None = Field(None, description="Outro jingle file; empty = the built-in one")
    attention_tone: Path | None = Field(None, description="Attention tone for urgent items; empty = built-in")
    filler: Path | None = Field(
        None, description="Station filler aired after silence on air, before the next item; empty = built-in"
    )
    jingle_gap_ms: int = Field(500, description="Silence between a jingle and the speech, ms")
    fade_ms: int = Field(20, description="Fade in/out at every joint, ms (no clicks)")
    sentence_gap_ms: int = Field(250, description="Silence joining two pieces of synthesized speech, ms")

    # playout
    output_device: str | None = Field(None, description="Sound card: index or part of its name; empty = default")
    playout_block_frames: int = Field(1024, description="Frames per sound-card block")
    device_retry_s: float = Field(10.0, description="Seconds between attempts to reopen a missing sound card")
    silence_s: float = Field(
        5.0, gt=0, description="Output quieter than silence_dbfs for this long ends the item: alarm, filler, next"
    )
    silence_dbfs: float = Field(-60.0, lt=0, description="Below this level (dBFS, peak) the output counts as silence")
    input_device: str | None = Field(None, description="Microphone: index or part of its name; empty = default")

    # urgent announcements (khẩn cấp)
    urgent_resume: Literal["resume", "drop"] = Field(
        "resume",
        description="After an urgent announcement: resume the interrupted programme at the item it was on "
        "(replayed from its start) or drop the rest of the slot",
    )
    urgent_gap_s: float = Field(
        2.0, ge=0, description="Silence between back-to-back airings of an urgent message, s"
    )
    urgent_max_repeat: int = Field(20, ge=1, description="Most airings one urgent request may ask for")

    # timetable
    schedule_file: Path | None = Field(None, description="Timetable TOML; empty = the built-in schedules/default.toml")
    misfire_grace_s: int = Field(1800, description="A slot missed while the PC was off still airs this late, s")
    missed_lookback_days: int = Field(
        7, ge=0, description="At start-up, slots missed up to this many days back are logged as missed"
    )
    prerender_lead_min: int = Field(
        30, ge=0, description="Render every item of a slot again this many minutes before it airs"
    )
    scheduler_poll_s: float = Field(
        5.0, gt=0, description="How often serve looks for timetable changes made by the CLI or web, s"
    )

    # web console
    web_host: str = Field(
        "127.0.0.1", description="Address the web console listens on; 127.0.0.1 = this PC only (0.0.0.0 = the LAN)"
    )
    web_port: int = Field(8080, ge=1, le=65535, description="Port of the web console")

    # amplifier
    amp_on_command: str | None = Field(None, description="Command that switches the amplifier on before a slot")
    amp_off_command: str | None = Field(None, description="Command that switches the amplifier off after a slot")
    amp_preroll_s: float = Field(
        5.0, ge=0, description="Seconds between switching the amplifier on and the first sound of the slot"
    )
    amp_command_timeout_s: float = Field(
        15.0, gt=0, description="Seconds before an amplifier command is abandoned (the broadcast goes on)"
    )

    # disk space (a full disk must not silence the station; issue 9 item 3)
    min_free_mb: int = Field(
        200,
        ge=MIN_FREE_MB_FLOOR,
        description="Free space (MB) the data directory's disk must keep: below it renders are refused, an alarm "
        f"is logged and the console shows a banner; what is already rendered still airs (at least {MIN_FREE_MB_FLOOR})",
    )

    @field_validator("engine_order", mode="before")
    @classmethod
    def _split_engines(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("engine_order")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in KNOWN_ENGINES]
        if unknown or not value:
            raise ValueError(f"engine_order: unknown engine(s) {unknown}; choose from {list(KNOWN_ENGINES)}")
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "broadcaster.db"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def settings_path(self) -> Path:
        return self.data_dir / SETTINGS_FILE

    @property
    def lexicon_path(self) -> Path:
        return self.data_dir / "lexicon.tsv"


def resolve_data_dir(data_dir: Path | str | None = None) -> Path:
    """The data directory: the argument, else $BROADCASTER_DATA_DIR, else ./data."""
    if data_dir:
        return Path(data_dir)
    env = os.environ.get("BROADCASTER_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


def load_settings(data_dir: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings for a data directory: arguments > environment > settings.toml > defaults."""
    from .exceptions import ConfigError

    directory = resolve_data_dir(data_dir)
    toml_path = directory / SETTINGS_FILE

    class _StationSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))

    try:
        return _StationSettings(data_dir=directory, **overrides)
    except Exception as exc:  # pydantic ValidationError or a TOML syntax error
        raise ConfigError(f"Cấu hình không hợp lệ ({toml_path}): {exc}") from exc


SETTINGS_TEMPLATE = """\
# Cài đặt của đài (settings for this station). Uncomment a line to change it.
# Every setting can also be given as an environment variable BROADCASTER_<NAME>.
"""


def settings_template() -> str:
    """A commented settings.toml listing every setting with its default and help."""
    lines = [SETTINGS_TEMPLATE]
    for name, field in Settings.model_fields.items():
        if name == "data_dir":
            continue
        default = field.default
        if default is None:
            shown = '""'
        elif isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, (int, float)):
            shown = repr(default)
        elif isinstance(default, list):
            shown = "[" + ", ".join(f'"{v}"' for v in default) + "]"
        else:
            shown = f'"{default}"'
        lines.append(f"# {field.description}\n# {name} = {shown}\n")
    return "\n".join(lines)
