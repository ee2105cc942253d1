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

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .settings_errors import _field_range, _range_text, _settings_failure, describe_settings_errors  # noqa: F401
from .settings_fields import DefaultVoice, EdgeTimeout, EdgeVoice, RecordingMaxMinutes, StationName, VoiceRatesField
from .settings_fields import PiperVoice, VoiceCatalogueFile, VoiceCatalogueUrl, VoiceDownloadTimeout
from .settings_fields import (ReceiverOfflineS, ReceiverReportS, StreamBitrate, StreamFormat, StreamPublicHost,
                              StreamUrl)
from .settings_fields import ReceiverDeadAirS, ReceiverVolume
from .voice_ids import KNOWN_ENGINES, ONLINE_ENGINES, VoiceId, VoiceRates  # noqa: F401  (re-exported)

DEFAULT_DATA_DIR = Path("data")
SETTINGS_FILE = "settings.toml"
# below this much free space SQLite itself cannot work (its WAL index alone is 32 KB a connection)
MIN_FREE_MB_FLOOR = 10

# ---- sane ranges of settings (issue 9 item 9: a wrong value is refused with one line naming it)
# each range is its Field's bounds (ge/gt with le/lt); SETTING_RANGES, below the class, is made from
# them, and Settings._in_range says the whole range when a value falls outside it
NON_EMPTY_SETTINGS = ("timezone", "gtts_lang", "gtts_tld", "espeak_voice", "web_host", "station_name", "edge_voice")

# ---- settings that say what is wrong (issue 10 item 8: H8)
# optional settings whose template line reads `name = ""`: empty means the default (None), never
# Path("") (the working directory) or an empty command
OPTIONAL_SETTINGS = (
    "intro_jingle", "outro_jingle", "attention_tone", "filler", "output_device", "input_device",
    "schedule_file", "amp_on_command", "amp_off_command", "media_dir", "default_voice",
)
# BROADCASTER_* environment variables that are not settings (none yet; BROADCASTER_DATA_DIR is one):
# never reported as a misspelled setting
ENV_NOT_SETTINGS: tuple[str, ...] = ("RECEIVER_TOKEN",)  # `broadcaster receiver`'s token (kept off argv)
ENV_PREFIX = "BROADCASTER_"
# how alike a name must be to a setting's to be offered as "có phải ý bạn là …" (difflib ratio);
# an environment variable is reported only when it is this close to a setting (the environment is shared)
CLOSE_KEY_CUTOFF = 0.6
CLOSE_ENV_CUTOFF = 0.8


class Settings(BaseSettings):
    """Station settings. Paths that are relative are relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")
    # what load_settings(strict=False) ignored (unknown keys): serve logs them and the console shows them
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """One Vietnamese line per ignored problem of the settings (an unknown key), in file order."""
        return self._warnings

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="Thư mục dữ liệu: cơ sở dữ liệu, bộ đệm bản dựng, settings.toml / Data directory: database, "
        "render cache, settings.toml",
    )
    timezone: str = Field(
        "Asia/Ho_Chi_Minh",
        description="Múi giờ của đài; dữ liệu lưu theo giờ UTC / The station's time zone; storage is UTC",
    )

    # speech
    engine_order: Annotated[list[str], NoDecode] = Field(
        ["edge", "gtts", "piper", "espeak"],
        description="Các máy đọc dùng lần lượt; máy trước lỗi thì chuyển sang máy sau / Speech engines to try, in "
        "order; a failure falls back to the next",
    )
    gtts_lang: str = Field("vi", description="Ngôn ngữ của gTTS / gTTS language")
    gtts_tld: str = Field("com.vn", description="Đuôi tên miền Google dùng cho gTTS / Google host suffix for gTTS")
    gtts_timeout: float = Field(
        10.0, gt=0, le=300,
        description="Số giây chờ gTTS trả lời trước khi bỏ (không bao giờ chờ mãi) / Seconds before a gTTS request "
        "is abandoned (never unlimited)",
    )
    gtts_slow: bool = Field(False, description="gTTS đọc chậm / gTTS slow reading")
    espeak_voice: str = Field("vi", description="Giọng đọc espeak-ng / espeak-ng voice")
    espeak_rate: int = Field(
        140, ge=50, le=500,
        description="Tốc độ đọc espeak-ng, số từ mỗi phút; chậm hơn nói chuyện vì loa có tiếng vang / espeak-ng "
        "words per minute; slower than talk, loudspeakers echo",
    )
    espeak_pitch: int = Field(50, ge=0, le=99, description="Cao độ giọng espeak-ng, 0-99 / espeak-ng pitch 0-99")
    speech_chunk_chars: int = Field(
        450, ge=50, le=5000,
        description="Đoạn văn bản dài nhất gửi cho máy đọc một lần, ký tự / Longest piece of text sent to an engine"
        " at once, characters",
    )

    # ---- voices: Edge online, the default voice, speaking rate per voice (issue 12 items 3-4)
    edge_voice: EdgeVoice = "vi-VN-HoaiMyNeural"
    edge_timeout: EdgeTimeout = 15.0
    default_voice: DefaultVoice = None
    voice_rates: VoiceRatesField = {}

    # audio
    sample_rate: int = Field(
        48000, ge=8000, le=192000,
        description="Tần số lấy mẫu đầu ra, Hz (định dạng cố định: PCM 16 bit) / Output sample rate (fixed format: "
        "16-bit PCM)",
    )
    target_lufs: float = Field(
        -16.0, ge=-40, le=-5,
        description="Độ to tích hợp của mọi mục phát, LUFS / Integrated loudness of every program item, LUFS",
    )
    true_peak_dbtp: float = Field(-1.0, ge=-20, le=0, description="Mức đỉnh tối đa, dBTP / Ceiling for peaks, dBTP")
    intro_jingle: Path | None = Field(
        None,
        description="Tệp nhạc hiệu mở đầu; để trống = nhạc hiệu có sẵn / Intro jingle file; empty = the built-in "
        "one",
    )
    outro_jingle: Path | None = Field(
        None,
        description="Tệp nhạc hiệu kết thúc; để trống = nhạc hiệu có sẵn / Outro jingle file; empty = the built-in "
        "one",
    )
    attention_tone: Path | None = Field(
        None,
        description="Tiếng báo chú ý trước tin khẩn cấp; để trống = tiếng có sẵn / Attention tone for urgent items;"
        " empty = built-in",
    )
    filler: Path | None = Field(
        None,
        description="Âm thanh lấp chỗ trống, phát sau khi trên sóng mất tiếng, trước mục kế tiếp; để trống = có sẵn"
        " / Station filler aired after silence on air, before the next item; empty = built-in",
    )
    jingle_gap_ms: int = Field(
        500, ge=0, le=10000,
        description="Khoảng lặng giữa nhạc hiệu và giọng đọc, ms / Silence between a jingle and the speech, ms",
    )
    fade_ms: int = Field(
        20, ge=0, le=1000,
        description="Thời gian tăng dần, giảm dần âm lượng ở mỗi chỗ nối, ms (không có tiếng lách cách) / Fade "
        "in/out at every joint, ms (no clicks)",
    )
    sentence_gap_ms: int = Field(
        250, ge=0, le=5000,
        description="Khoảng lặng nối hai đoạn giọng đọc tổng hợp, ms / Silence joining two pieces of synthesized "
        "speech, ms",
    )

    # playout
    output_device: str | None = Field(
        None,
        description="Card âm thanh: số thứ tự hoặc một phần tên; để trống = card mặc định / Sound card: index or "
        "part of its name; empty = default",
    )
    playout_block_frames: int = Field(
        1024, ge=64, le=65536,
        description="Số khung mẫu mỗi khối gửi tới card âm thanh / Frames per sound-card block",
    )
    device_retry_s: float = Field(
        10.0, gt=0, le=3600,
        description="Số giây giữa các lần thử mở lại card âm thanh bị mất / Seconds between attempts to reopen a "
        "missing sound card",
    )
    silence_s: float = Field(
        5.0, gt=0, le=3600,
        description="Đầu ra nhỏ hơn silence_dbfs lâu chừng này giây thì dừng mục: báo động, âm thanh lấp chỗ trống,"
        " mục kế tiếp / Output quieter than silence_dbfs for this long ends the item: alarm, filler, "
        "next",
    )
    silence_dbfs: float = Field(
        -60.0, ge=-120, lt=0,
        description="Dưới mức này (dBFS, đỉnh) đầu ra được coi là im lặng / Below this level (dBFS, peak) the "
        "output counts as silence",
    )
    input_device: str | None = Field(
        None,
        description="Micrô: số thứ tự hoặc một phần tên; để trống = micrô mặc định / Microphone: index or part of "
        "its name; empty = default",
    )

    # urgent announcements (khẩn cấp)
    urgent_resume: Literal["resume", "drop"] = Field(
        "resume",
        description="Sau tin khẩn cấp: resume = phát tiếp chương trình bị ngắt từ đầu mục đang phát dở, drop = bỏ "
        "phần còn lại của khung giờ / After an urgent announcement: resume the interrupted programme at the item "
        "it was on (replayed from its start) or drop the rest of the slot",
    )
    urgent_gap_s: float = Field(
        2.0, ge=0, le=600, description="Khoảng lặng giữa các lần phát liền nhau của một tin khẩn cấp, giây / "
        "Silence between back-to-back airings of an urgent message, s"
    )
    urgent_max_repeat: int = Field(
        20, ge=1, le=1000,
        description="Số lần phát nhiều nhất một yêu cầu khẩn cấp được đặt / Most airings one urgent request may ask"
        " for",
    )

    # timetable
    schedule_file: Path | None = Field(
        None,
        description="Tệp lịch phát TOML; để trống = schedules/default.toml có sẵn / Timetable TOML; empty = the "
        "built-in schedules/default.toml",
    )
    misfire_grace_s: int = Field(
        1800, ge=0, le=7 * 86400,
        description="Khung giờ bị lỡ khi máy tắt vẫn được phát nếu trễ không quá chừng này giây / A slot missed "
        "while the PC was off still airs this late, s",
    )
    missed_lookback_days: int = Field(
        7, ge=0, le=366,
        description="Khi khởi động, các khung giờ bị lỡ trong chừng này ngày trước được ghi là bị lỡ / At start-up,"
        " slots missed up to this many days back are logged as missed",
    )
    prerender_lead_min: int = Field(
        30, ge=0, le=24 * 60,
        description="Dựng lại mọi mục của một khung giờ chừng này phút trước giờ phát / Render every item of a slot"
        " again this many minutes before it airs",
    )
    scheduler_poll_s: float = Field(
        5.0, gt=0, le=3600,
        description="Bao lâu serve xem lại lịch phát một lần (thay đổi từ dòng lệnh hoặc web), giây / How often "
        "serve looks for timetable changes made by the CLI or web, s",
    )

    # web console
    web_host: str = Field(
        "127.0.0.1",
        description="Địa chỉ bảng điều khiển web lắng nghe; 127.0.0.1 = chỉ máy này (0.0.0.0 = cả mạng LAN) / "
        "Address the web console listens on; 127.0.0.1 = this PC only (0.0.0.0 = the LAN)",
    )
    web_port: int = Field(
        8080, ge=1, le=65535,
        description="Cổng của bảng điều khiển web / Port of the web console",
    )

    # web console under load and at the login door (issue 9, items 2 and 7: H2)
    web_max_concurrent: int = Field(
        8, ge=1, le=30,
        description="Số yêu cầu bảng điều khiển xử lý cùng lúc; yêu cầu thêm chờ trong một hàng ngắn (đường khẩn "
        "cấp không bao giờ chờ); nhỏ hơn 40 luồng của máy chủ / Console requests handled at once; more "
        "wait in a short queue (the urgent routes never wait). Stays below the server's 40 worker "
        "threads",
    )
    web_queue: int = Field(
        16, ge=0,
        description="Số yêu cầu được chờ chỗ trống; quá số này: 503 'Máy chủ đang bận' / Console requests that may "
        "wait for a free place; beyond it: 503 'Máy chủ đang bận'",
    )
    web_queue_timeout_s: float = Field(
        10.0, gt=0,
        description="Thời gian lâu nhất một yêu cầu chờ trong hàng trước khi bị trả 503, giây / Longest a queued "
        "console request waits before it is answered 503, s",
    )
    web_max_exports: int = Field(
        2, ge=1, description="Số bản xuất nhật ký, báo cáo (CSV, XLSX) dựng cùng lúc; thêm một bản nữa bị trả 503 "
        "'Máy chủ đang bận' / Log/report exports (CSV, XLSX) built at once; one more gets 503 'Máy chủ đang bận'"
    )
    web_trusted_proxy: list[str] = Field(
        [], description="Địa chỉ của reverse proxy được tin tiêu đề X-Forwarded-For/-Proto; để trống = không "
        "tin tiêu đề chuyển tiếp nào / Addresses of the reverse proxy whose X-Forwarded-For/-Proto are believed; "
        "empty = trust no forwarded header"
    )
    login_max_failures: int = Field(
        5, ge=1,
        description="Số lần đăng nhập sai của một tài khoản từ một địa chỉ trước khi phải tạm dừng / Failed logins "
        "per account and address before a pause",
    )
    login_max_failures_per_source: int = Field(
        20, ge=1, description="Số lần đăng nhập sai từ một địa chỉ (mọi tài khoản) trước khi phải tạm dừng / "
        "Failed logins from one address (any account) before it must pause"
    )
    login_max_failures_total: int = Field(
        100, ge=1,
        description="Tổng số lần đăng nhập sai từ mọi nơi trước khi mọi lần đăng nhập phải tạm dừng (tấn công dò "
        "mật khẩu) / Failed logins from everywhere before every login must pause (a guessing attack)",
    )
    login_window_s: float = Field(
        300.0, gt=0,
        description="Số lần đăng nhập sai được đếm trong chừng này giây / Failed logins are counted over this many "
        "seconds",
    )

    # ---- officers' recordings (issue 11 item 3): phone recordings attached to bulletins
    recording_max_minutes: RecordingMaxMinutes = 30.0

    @field_validator("web_trusted_proxy", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    # amplifier
    amp_on_command: str | None = Field(
        None,
        description="Lệnh bật bộ khuếch đại (âm ly) trước một khung giờ / Command that switches the amplifier on "
        "before a slot",
    )
    amp_off_command: str | None = Field(
        None,
        description="Lệnh tắt bộ khuếch đại (âm ly) sau một khung giờ / Command that switches the amplifier off "
        "after a slot",
    )
    amp_preroll_s: float = Field(
        5.0, ge=0, le=120,
        description="Số giây từ lúc bật bộ khuếch đại đến tiếng đầu tiên của khung giờ / Seconds between switching "
        "the amplifier on and the first sound of the slot",
    )
    amp_command_timeout_s: float = Field(
        15.0, gt=0, le=600,
        description="Số giây chờ lệnh bộ khuếch đại trước khi bỏ (buổi phát vẫn tiếp tục) / Seconds before an "
        "amplifier command is abandoned (the broadcast goes on)",
    )

    # database backups (issue 9, item 5): serve's automatic backup into <data dir>/backups
    backup_interval_h: float = Field(
        24.0, ge=0, le=24 * 366,
        description="serve sao lưu cơ sở dữ liệu khi bản sao lưu mới nhất đã cũ chừng này giờ (cả lúc khởi "
        "động); 0 = không tự sao lưu / serve backs the database up when the newest backup is this many hours old "
        "(at start too); 0 = no automatic backups",
    )
    backup_keep: int = Field(
        14, ge=1, le=100000,
        description="Số bản sao lưu giữ trong <data dir>/backups; các bản cũ nhất vượt quá số này bị xóa / Backups "
        "kept in <data dir>/backups; the oldest beyond this are removed",
    )

    # disk space (a full disk must not silence the station; issue 9 item 3)
    min_free_mb: int = Field(
        200,
        ge=MIN_FREE_MB_FLOOR,
        description="Dung lượng trống (MB) ổ đĩa chứa thư mục dữ liệu phải giữ: dưới mức này không dựng bản tin "
        "mới, nhật ký ghi báo động và bảng điều khiển hiện cảnh báo; những gì đã dựng vẫn phát (ít nhất "
        f"{MIN_FREE_MB_FLOOR}) / Free space (MB) the data directory's disk must keep: below it renders are refused, "
        f"an alarm is logged and the console shows a banner; what is already rendered still airs (at least "
        f"{MIN_FREE_MB_FLOOR})",
    )

    # relay sources (issue 9, item 1): what a relay slot may play
    media_dir: Path | None = Field(
        None,
        description="Thư mục các tệp âm thanh mà khung giờ tiếp sóng được phát (không phát gì ngoài thư mục này); "
        "để trống = <data_dir>/media / Folder of the audio files relay slots may play (nothing outside it is "
        "relayed); empty = <data_dir>/media",
    )

    # ---- first run and the station's name (issue 11 item 1)
    station_name: StationName = "Đài truyền thanh xã"

    # ---- issue 14: Icecast (helper C): what the station airs also goes to Icecast, for IP loudspeaker clusters
    stream_url: StreamUrl = None
    stream_format: StreamFormat = "mp3"
    stream_bitrate_kbps: StreamBitrate = 48
    stream_public_host: StreamPublicHost = None
    receiver_report_s: ReceiverReportS = 5.0
    receiver_offline_s: ReceiverOfflineS = 20.0

    # ---- issue 14: the receiver program at a loudspeaker cluster (`broadcaster receiver`)
    receiver_dead_air_s: ReceiverDeadAirS = 10.0
    receiver_volume: ReceiverVolume = 1.0

    @field_validator(*OPTIONAL_SETTINGS, mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        # `intro_jingle = ""` (the template's empty value) means the default, not the working directory
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def media_path(self) -> Path:
        """The media folder relay files must lie in (media_dir, else <data_dir>/media)."""
        return Path(self.media_dir) if self.media_dir else self.data_dir / "media"

    # Piper voices (issue 12 items 1-2): which installed voice "piper" speaks with, and the catalogue
    piper_voice: PiperVoice = ""
    voice_catalogue_url: VoiceCatalogueUrl = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"
    voice_catalogue_file: VoiceCatalogueFile = ""
    voice_download_timeout: VoiceDownloadTimeout = 60.0

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
    @field_validator("*", mode="wrap")
    @classmethod
    def _in_range(cls, value, handler: ValidatorFunctionWrapHandler, info: ValidationInfo):
        """A value outside its Field's bounds (NaN too) is told the whole range, not one bound."""
        try:
            return handler(value)
        except ValidationError as exc:
            bounds = SETTING_RANGES.get(info.field_name)
            if bounds is None or not any(e["type"] in _BOUND_ERRORS for e in exc.errors()):
                raise
            raise ValueError(f"phải {_range_text(*bounds)}") from None

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


# every setting whose Field has both bounds: a value outside is told the whole range (_in_range)
SETTING_RANGES = {name: r for name, field in Settings.model_fields.items() if (r := _field_range(field))}
_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def resolve_data_dir(data_dir: Path | str | None = None, *, create: bool = True) -> Path:
    """The data directory: the argument, else $BROADCASTER_DATA_DIR, else the station's found by
    datadir.locate (./data, then the project's data/). Not found: ./data with `create`, else
    ConfigError saying where it looked (issue 11 item 2)."""
    from .datadir import locate

    return locate(data_dir, create=create)


def load_settings(data_dir: Path | str | None = None, *, strict: bool = True, create: bool = False,
                  **overrides: Any) -> Settings:
    """Settings for a data directory: arguments > environment > settings.toml > defaults.

    With no data_dir and no $BROADCASTER_DATA_DIR the station's data directory is looked for; when
    there is none this raises ConfigError saying where it looked, unless `create` (init only).

    A wrong value always raises ConfigError (one line per wrong setting). An unknown key of settings.toml
    (or a BROADCASTER_* variable spelled like a setting) raises too when `strict` (CLI commands); with
    strict=False (serve: the station keeps airing) it is ignored and named in `Settings.warnings`."""
    from .exceptions import ConfigError

    directory = resolve_data_dir(data_dir, create=create)
    toml_path = directory / SETTINGS_FILE
    unknown = unknown_settings(toml_path)
    refused = unknown if strict else []

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
        settings = _StationSettings(data_dir=directory, **overrides)
    except ValidationError as exc:
        raise ConfigError("\n".join([*refused, describe_settings_errors(exc, toml_path)])) from None
    except Exception as exc:  # a TOML syntax error, an environment value that cannot be read
        raise ConfigError("\n".join([*refused, _settings_failure(exc, toml_path)])) from None
    if refused:
        raise ConfigError("\n".join(refused))
    settings._warnings = list(unknown)
    return settings


def unknown_settings(toml_path: Path, environ: dict[str, str] | None = None) -> list[str]:
    """One line per key of settings.toml that is no setting (with the closest valid one), then per
    BROADCASTER_* environment variable spelled almost like a setting. A file that does not parse gives
    nothing here (loading it says what is wrong with it)."""
    import difflib
    import tomllib

    names = [name for name in Settings.model_fields if name != "data_dir"]
    lines = []
    try:
        keys = list(tomllib.loads(toml_path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        keys = []
    for key in keys:
        if key.lower() == "data_dir":
            lines.append(
                f"Cài đặt 'data_dir' không đặt được trong {toml_path} (tệp này nằm trong thư mục dữ liệu); "
                f"dùng --data-dir hoặc biến môi trường {ENV_PREFIX}DATA_DIR"
            )
        elif key.lower() not in names:  # pydantic-settings reads the file's names case-insensitively
            close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=CLOSE_KEY_CUTOFF)
            hint = (f"có phải ý bạn là '{close[0]}'?" if close
                    else "không có cài đặt nào tên gần giống; hãy sửa hoặc xóa dòng này")
            lines.append(f"Cài đặt không có tên '{key}' trong {toml_path}; {hint}")
    known = {name.upper() for name in Settings.model_fields} | {name.upper() for name in ENV_NOT_SETTINGS}
    for variable in sorted(os.environ if environ is None else environ):
        if not variable.upper().startswith(ENV_PREFIX) or variable.upper()[len(ENV_PREFIX):] in known:
            continue
        close = difflib.get_close_matches(variable[len(ENV_PREFIX):].lower(), names, n=1, cutoff=CLOSE_ENV_CUTOFF)
        if close:
            lines.append(f"Biến môi trường {variable} không phải cài đặt nào; "
                         f"có phải ý bạn là {ENV_PREFIX}{close[0].upper()}?")
    return lines


SETTINGS_TEMPLATE = """\
# Cài đặt của đài. Bỏ dấu # ở đầu dòng "tên = giá trị" để đổi cài đặt đó; tên viết sai sẽ bị báo lỗi.
# Mỗi cài đặt cũng đặt được bằng biến môi trường BROADCASTER_<TÊN>.
# Settings for this station. Uncomment a line to change it; a misspelled name is refused.
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
        elif isinstance(default, dict):  # a TOML inline table (voice_rates)
            shown = "{" + ", ".join(f'"{k}" = {v!r}' for k, v in default.items()) + "}"
        else:
            shown = f'"{default}"'
        help_text = "".join(f"# {line}\n" for line in _help_lines(field.description or name))
        lines.append(f"{help_text}# {name} = {shown}\n")
    return "\n".join(lines)


def _help_lines(description: str, width: int = 98) -> list[str]:
    """A setting's help as comment lines: the Vietnamese text, then the English after " / ". Continuation
    lines are indented, so none of them reads like a `name = value` line to uncomment."""
    import textwrap

    return [line for part in description.split(" / ", 1)
            for line in textwrap.wrap(part.strip(), width, subsequent_indent="  ")]
