"""Settings fields declared once with their help text, for the groups added since issue 11.

``config.Settings`` names each of these in one line (``station_name: StationName = "…"``), so
the class stays readable and within the layout's size limits while every field still carries
its Vietnamese and English help (``broadcaster settings`` and the template read it from here).
New groups of settings go here, each under a comment naming its issue.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from .voice_ids import VoiceId, VoiceRates

# ---- voices: Edge online, the default voice, speaking rate per voice (issue 12 items 3-4)
EdgeVoice = Annotated[str, Field(
    description="Giọng Edge khi bản tin không chọn giọng (vi-VN-HoaiMyNeural nữ, vi-VN-NamMinhNeural nam) / "
    "Edge voice when a bulletin names none",
)]
EdgeTimeout = Annotated[float, Field(
    gt=0, le=300,
    description="Số giây chờ Edge TTS cho một đoạn trước khi bỏ (không bao giờ chờ mãi) / Seconds before an "
    "Edge TTS request is abandoned (never unlimited)",
)]
DefaultVoice = Annotated[VoiceId, Field(
    description="Giọng mặc định của đài, dạng máy:giọng (vd. edge:vi-VN-HoaiMyNeural, espeak:vi); để trống = "
    "theo thứ tự máy đọc / The station's default voice as engine:voice; empty = the engine order",
)]
VoiceRatesField = Annotated[VoiceRates, Field(
    description="Tốc độ đọc riêng từng giọng, bội số của tốc độ gốc 0.5-2.0 (vd. {\"edge:vi-VN-NamMinhNeural\" "
    "= 0.9}) / Speaking rate per voice, a multiple of its own speed",
)]

# ---- officers' recordings (issue 11 item 3): phone recordings attached to bulletins
RecordingMaxMinutes = Annotated[float, Field(
    gt=0, le=240,
    description="Tệp ghi âm của cán bộ dài nhất, phút (dài hơn bị từ chối khi tải lên) / Longest officer's "
    "recording, minutes (a longer one is refused at upload)",
)]

# ---- first run and the station's name (issue 11 item 1)
StationName = Annotated[str, Field(
    min_length=1, max_length=120,
    description="Tên đài, hiện trên tiêu đề trang, bản xuất và báo cáo (hỏi ở trang cài đặt lần đầu) / The "
    "station's name, shown in page titles, exports and reports (asked by the first-run set-up page)",
)]


# ---- Piper voices (issue 12 items 1-2): which installed voice "piper" speaks with, and the catalogue
# (moved here unchanged from Settings when the issue 14 merges took that class over 400 lines)
PiperVoice = Annotated[str, Field(
    pattern=r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$",
    description="Giọng Piper máy đọc 'piper' dùng (tên đã cài); trống = giọng đầu tiên đã cài / Installed Piper "
    "voice of the 'piper' engine; empty = the first installed",
)]
VoiceCatalogueUrl = Annotated[str, Field(
    pattern=r"^(https?|file)://",
    description="Địa chỉ gốc tải giọng trong danh mục (hoặc máy chủ gương) / Base URL catalogue voices are "
    "downloaded from",
)]
VoiceCatalogueFile = Annotated[str, Field(
    description="Tệp JSON danh mục giọng thay danh mục có sẵn; trống = có sẵn / A JSON voice catalogue used "
    "instead of the built-in one",
)]
VoiceDownloadTimeout = Annotated[float, Field(
    gt=0, le=3600,
    description="Số giây chờ máy chủ khi tải giọng / Seconds without an answer before a voice download is abandoned",
)]


# ---- issue 14: Icecast (helper C): the station's fan-out to IP loudspeaker clusters (cụm loa)
def _empty_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# checked by streaming.urls.parse_stream_url where it is used (cli_settings, serve): config sits below streaming
StreamUrl = Annotated[str | None, BeforeValidator(_empty_is_none), Field(
    repr=False,  # it holds the source password: never in a repr of the settings
    description="Máy chủ Icecast nhận những gì đài phát (cho các cụm loa IP), dạng "
    "icecast://source:MẬT_KHẨU@MÁY:CỔNG/dai.mp3; để trống = không phát luồng (biến môi trường "
    "BROADCASTER_STREAM_URL) / The Icecast server that gets what the station airs, for IP loudspeaker "
    "clusters; empty = no stream",
)]
StreamFormat = Annotated[Literal["mp3", "opus"], Field(
    description="Định dạng luồng Icecast: mp3 hoặc opus (Ogg/Opus) / Icecast stream format: mp3 or opus",
)]
StreamBitrate = Annotated[int, Field(
    ge=32, le=64,
    description="Tốc độ bit của luồng Icecast, kb/s (giọng nói: 32-64) / Icecast stream bitrate, kb/s",
)]
StreamPublicHost = Annotated[str | None, BeforeValidator(_empty_is_none), Field(
    description="Tên máy hoặc địa chỉ các cụm loa dùng để tới Icecast khi stream_url chỉ 127.0.0.1/localhost; "
    "để trống = máy trong stream_url / The host receivers reach Icecast at when stream_url names "
    "127.0.0.1/localhost; empty = the stream_url host",
)]
ReceiverReportS = Annotated[float, Field(
    gt=0, le=300,
    description="Cụm loa báo trạng thái về đài mỗi chừng này giây / How often receivers report, s",
)]
ReceiverOfflineS = Annotated[float, Field(
    gt=0, le=3600,
    description="Cụm loa không báo về chừng này giây thì coi là mất kết nối / A receiver silent this long is "
    "offline, s",
)]


# ---- issue 14: the receiver program (`broadcaster receiver`, at a loudspeaker cluster)
ReceiverDeadAirS = Annotated[float, Field(
    gt=0, le=3600,
    description="Cụm loa: luồng đã nối mà im lặng (dưới silence_dbfs) lâu chừng này giây thì ghi gián đoạn «luồng "
    "im lặng» / Receiver: a connected stream this many seconds silent is logged as a dead-air gap",
)]
ReceiverVolume = Annotated[float, Field(
    ge=0, le=1.5,
    description="Cụm loa: âm lượng phát ra card, bội số 0-1.5 của mức đài gửi / Receiver: output volume, a "
    "multiple 0-1.5 of the station's level",
)]
