"""One typed Settings object.

Sources, strongest first: explicit arguments, environment (``BROADCASTER_*``), the
data directory's ``settings.toml``, the defaults below. Every field carries its help
text next to its default, so ``broadcaster settings`` (and the README) can list them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATA_DIR = Path("data")
SETTINGS_FILE = "settings.toml"
KNOWN_ENGINES = ("gtts", "espeak")
# below this much free space SQLite itself cannot work (its WAL index alone is 32 KB a connection)
MIN_FREE_MB_FLOOR = 10

# ---- sane ranges of settings (issue 9 item 9: a wrong value is refused with one line naming it)
# name: (lowest, highest, lowest_excluded); checked by Settings._in_range after the type checks
SETTING_RANGES: dict[str, tuple[float, float, bool]] = {
    "gtts_timeout": (0, 300, True),
    "espeak_rate": (50, 500, False),
    "espeak_pitch": (0, 99, False),
    "speech_chunk_chars": (50, 5000, False),
    "sample_rate": (8000, 192000, False),
    "target_lufs": (-40, -5, False),
    "true_peak_dbtp": (-20, 0, False),
    "jingle_gap_ms": (0, 10000, False),
    "fade_ms": (0, 1000, False),
    "sentence_gap_ms": (0, 5000, False),
    "playout_block_frames": (64, 65536, False),
    "device_retry_s": (0, 3600, True),
    "silence_s": (0, 3600, True),
    "silence_dbfs": (-120, 0, False),
    "urgent_gap_s": (0, 600, False),
    "urgent_max_repeat": (1, 1000, False),
    "misfire_grace_s": (0, 7 * 86400, False),
    "missed_lookback_days": (0, 366, False),
    "prerender_lead_min": (0, 24 * 60, False),
    "scheduler_poll_s": (0, 3600, True),
    "web_port": (1, 65535, False),
    "amp_preroll_s": (0, 120, False),
    "amp_command_timeout_s": (0, 600, True),
}
NON_EMPTY_SETTINGS = ("timezone", "gtts_lang", "gtts_tld", "espeak_voice", "web_host")


class Settings(BaseSettings):
    """Station settings. Paths that are relative are relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="BROADCASTER_", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Data directory: database, render cache, settings.toml")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="The station's time zone; storage is UTC")

    # speech
    engine_order: Annotated[list[str], NoDecode] = Field(
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

    # web console under load and at the login door (issue 9, items 2 and 7: H2)
    web_max_concurrent: int = Field(
        8, ge=1, le=30, description="Console requests handled at once; more wait in a short queue (the "
        "urgent routes never wait). Stays below the server's 40 worker threads"
    )
    web_queue: int = Field(
        16, ge=0, description="Console requests that may wait for a free place; beyond it: 503 'Máy chủ đang bận'"
    )
    web_queue_timeout_s: float = Field(
        10.0, gt=0, description="Longest a queued console request waits before it is answered 503, s"
    )
    web_max_exports: int = Field(
        2, ge=1, description="Log/report exports (CSV, XLSX) built at once; one more gets 503 'Máy chủ đang bận'"
    )
    web_trusted_proxy: list[str] = Field(
        [], description="Addresses of the reverse proxy whose X-Forwarded-For/-Proto are believed; "
        "empty = trust no forwarded header"
    )
    login_max_failures: int = Field(5, ge=1, description="Failed logins per account and address before a pause")
    login_max_failures_per_source: int = Field(
        20, ge=1, description="Failed logins from one address (any account) before it must pause"
    )
    login_max_failures_total: int = Field(
        100, ge=1, description="Failed logins from everywhere before every login must pause (a guessing attack)"
    )
    login_window_s: float = Field(300.0, gt=0, description="Failed logins are counted over this many seconds")

    @field_validator("web_trusted_proxy", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    # amplifier
    amp_on_command: str | None = Field(None, description="Command that switches the amplifier on before a slot")
    amp_off_command: str | None = Field(None, description="Command that switches the amplifier off after a slot")
    amp_preroll_s: float = Field(
        5.0, ge=0, description="Seconds between switching the amplifier on and the first sound of the slot"
    )
    amp_command_timeout_s: float = Field(
        15.0, gt=0, description="Seconds before an amplifier command is abandoned (the broadcast goes on)"
    )

    # database backups (issue 9, item 5): serve's automatic backup into <data dir>/backups
    backup_interval_h: float = Field(
        24.0, ge=0, le=24 * 366,
        description="serve backs the database up when the newest backup is this many hours old "
        "(at start too); 0 = no automatic backups",
    )
    backup_keep: int = Field(
        14, ge=1, le=100000, description="Backups kept in <data dir>/backups; the oldest beyond this are removed"
    )

    # disk space (a full disk must not silence the station; issue 9 item 3)
    min_free_mb: int = Field(
        200,
        ge=MIN_FREE_MB_FLOOR,
        description="Free space (MB) the data directory's disk must keep: below it renders are refused, an alarm "
        f"is logged and the console shows a banner; what is already rendered still airs (at least {MIN_FREE_MB_FLOOR})",
    )

    # relay sources (issue 9, item 1): what a relay slot may play
    media_dir: Path | None = Field(
        None,
        description="Folder of the audio files relay slots may play (nothing outside it is relayed); "
        "empty = <data_dir>/media",
    )

    @field_validator("media_dir", mode="before")
    @classmethod
    def _empty_media_dir(cls, value: Any) -> Any:
        # `media_dir = ""` (the template's empty value) means the default, not the working directory
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def media_path(self) -> Path:
        """The media folder relay files must lie in (media_dir, else <data_dir>/media)."""
        return Path(self.media_dir) if self.media_dir else self.data_dir / "media"

    @field_validator("engine_order", mode="before")
    @classmethod
    def _split_engines(cls, value: Any) -> Any:
        # from the environment: a plain comma list (espeak,gtts) or a JSON list (["espeak"])
        if isinstance(value, str):
            if value.strip().startswith("["):
                try:
                    return json.loads(value)
                except ValueError:
                    pass
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("engine_order")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in KNOWN_ENGINES]
        if unknown or not value:
            raise ValueError(f"máy đọc không có: {', '.join(unknown) or '(trống)'}; chọn trong {', '.join(KNOWN_ENGINES)}")
        return value

    # ---- sane ranges and values (issue 9 item 9)
    @field_validator(*SETTING_RANGES)
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        low, high, low_excluded = SETTING_RANGES[info.field_name]
        if value != value or (value <= low if low_excluded else value < low) or value > high:  # NaN too
            shown = f"lớn hơn {low:g} và tối đa {high:g}" if low_excluded else f"từ {low:g} đến {high:g}"
            raise ValueError(f"phải {shown}")
        return value

    @field_validator(*NON_EMPTY_SETTINGS)
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("không được để trống")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("không phải múi giờ IANA (ví dụ Asia/Ho_Chi_Minh)") from None
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
    except ValidationError as exc:
        raise ConfigError(describe_settings_errors(exc, toml_path)) from None
    except Exception as exc:  # a TOML syntax error, an environment value that cannot be read
        raise ConfigError(_settings_failure(exc, toml_path)) from None


# ---- one line per wrong setting, no pydantic internals (issue 9 item 9)
_WHY = {
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "bool_type": "phải là true hoặc false",
    "string_type": "phải là chuỗi chữ",
    "list_type": "phải là danh sách",
    "path_type": "phải là đường dẫn tệp",
}


def _why(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    if kind in _WHY:
        return _WHY[kind]
    if kind == "literal_error":
        return f"phải là một trong: {ctx.get('expected', '')}".replace("'", "").replace(" or ", ", ")
    bounds = {"greater_than": "phải lớn hơn", "greater_than_equal": "phải từ", "less_than": "phải nhỏ hơn",
              "less_than_equal": "phải tối đa"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"{bounds[kind]} {limit}" + (" trở lên" if kind == "greater_than_equal" else "")
    return "giá trị không hợp lệ"


def describe_settings_errors(exc: ValidationError, toml_path: Path) -> str:
    """One line per wrong setting: its name, the value given and what is allowed."""
    lines = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error.get("loc") else "?"
        value = error.get("input")
        shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 60 else "…"
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        lines.append(
            f"Cài đặt {name} = {shown} không hợp lệ: {_why(error)} "
            f"(trong {toml_path} hoặc biến môi trường BROADCASTER_{name.upper()})"
        )
    return "\n".join(dict.fromkeys(lines)) or f"Cấu hình không hợp lệ ({toml_path})"


def _settings_failure(exc: Exception, toml_path: Path) -> str:
    import re
    import tomllib

    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"Tệp cài đặt {toml_path} sai cú pháp TOML: {str(exc).splitlines()[0]}"
    found = re.search(r'field "(\w+)"', str(exc))
    if found:
        name = found.group(1)
        return f"Cài đặt {name} không đọc được (biến môi trường BROADCASTER_{name.upper()} hoặc {toml_path})"
    return f"Cấu hình không hợp lệ ({toml_path}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


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
