"""Installed Piper voices in ``<data_dir>/voices`` and the catalogue of published Vietnamese ones.

Layout: one folder per voice, ``voices/<name>/<name>.onnx`` + ``<name>.onnx.json`` +
``voice.json`` (where it came from, its sha256, its licence) and, when the source had one,
``MODEL_CARD``. A voice is installed only whole: the files are copied (or downloaded) into a
hidden staging folder, verified there (sizes and sha256 against the catalogue when it came from
it; the config parsed; the model opened by onnxruntime with Piper's inputs; a trial sentence
spoken), and the folder is then renamed into place in one step. Anything that fails leaves
nothing behind but the refusal line.

The catalogue's figures (sizes, sha256, licences) and where each was taken from are in
``CATALOGUE`` below; a station can point ``voice_catalogue_url`` at a mirror (the tests point it
at a local HTTP server) and ``voice_catalogue_file`` at its own catalogue in the same form.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import InputError, SpeechError

if TYPE_CHECKING:
    from ..config import Settings
    from .piper_engine import PiperEngine

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
TRIAL_SENTENCE = "Xin chào bà con."
SAMPLE_SENTENCE = "Đài truyền thanh xã xin kính chào bà con. Sau đây là bản tin thời sự."
META_FILE = "voice.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CatalogueVoice:
    """One published voice: where to fetch it, what it must be, under which terms."""

    name: str
    path: str  # under the catalogue base URL, without the extension
    model_size: int
    model_sha256: str | None  # None: no checksum we could confirm; refused by name (install from a file)
    config_size: int | None
    licence: str
    description: str
    source: str  # where the figures above were taken from

    def url(self, base: str, suffix: str) -> str:
        return f"{base.rstrip('/')}/{self.path}{suffix}"


# Figures: sizes of the .onnx and .onnx.json from a public snapshot of the rhasspy/piper-voices
# tree (vendored in a public project's catalogue, files at its pinned revision); the vais1000
# model's sha256 is the one two independent public projects pin for rhasspy/piper-voices (revision
# c10ece1a); licences from the voices' MODEL_CARDs as quoted publicly (vais1000: CC BY 4.0; VIVOS
# corpus: CC BY-NC-SA 4.0, non-commercial). Hugging Face itself is not reachable from the machine
# this was written on, so no sha256 we could not confirm is invented: those two are None.
CATALOGUE: tuple[CatalogueVoice, ...] = (
    CatalogueVoice(
        name="vi_VN-vais1000-medium", path="vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium",
        model_size=63201294, model_sha256="ec7c89e2c85f4d1edc24b6120c18aaf1bda614f06b511567eb9c7c0de15e2dab",
        config_size=4860, licence="CC BY 4.0 (bộ dữ liệu VAIS-1000)",
        description="giọng nữ, chất lượng trung bình, 22050 Hz",
        source="rhasspy/piper-voices v1.0.0; sha256 ghim bởi hai dự án công khai (bản c10ece1a)",
    ),
    CatalogueVoice(
        name="vi_VN-25hours_single-low", path="vi/vi_VN/25hours_single/low/vi_VN-25hours_single-low",
        model_size=63104526, model_sha256=None, config_size=4176,
        licence="chưa rõ — xem MODEL_CARD của giọng trước khi phát",
        description="một người đọc, chất lượng thấp, 16000 Hz",
        source="rhasspy/piper-voices v1.0.0; chưa có sha256 đã kiểm chứng",
    ),
    CatalogueVoice(
        name="vi_VN-vivos-x_low", path="vi/vi_VN/vivos/x_low/vi_VN-vivos-x_low",
        model_size=27789413, model_sha256=None, config_size=5592,
        licence="CC BY-NC-SA 4.0 (bộ dữ liệu VIVOS) — chỉ dùng phi thương mại",
        description="65 người đọc, chất lượng rất thấp, 16000 Hz",
        source="rhasspy/piper-voices v1.0.0; chưa có sha256 đã kiểm chứng",
    ),
)


@dataclass(frozen=True)
class InstalledVoice:
    """A voice in ``<data_dir>/voices``."""

    name: str
    folder: Path
    licence: str
    source: str
    sha256: str
    size: int

    @property
    def model_path(self) -> Path:
        return self.folder / f"{self.name}.onnx"

    @property
    def config_path(self) -> Path:
        return self.folder / f"{self.name}.onnx.json"


# ------------------------------------------------------------------------------ catalogue
def catalogue(settings: Settings) -> tuple[CatalogueVoice, ...]:
    """The built-in catalogue, or the station's own file (``voice_catalogue_file``) in its place."""
    path = settings.voice_catalogue_file.strip()
    if not path:
        return CATALOGUE
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        return tuple(CatalogueVoice(**row) for row in rows)
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InputError(f"Không đọc được danh mục giọng {path}: {exc}") from None


def voices_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "voices"


# ------------------------------------------------------------------------------ installed
def installed(settings: Settings) -> list[InstalledVoice]:
    """The voices installed whole (a folder with its model, config and record), sorted by name."""
    folder = voices_dir(settings)
    if not folder.is_dir():
        return []
    found = []
    for sub in sorted(folder.iterdir()):
        if sub.name.startswith(".") or not sub.is_dir():
            continue
        try:
            meta = json.loads((sub / META_FILE).read_text(encoding="utf-8"))
            voice = InstalledVoice(name=sub.name, folder=sub, licence=str(meta.get("licence", "")),
                                   source=str(meta.get("source", "")), sha256=str(meta.get("sha256", "")),
                                   size=int(meta.get("size", 0)))
        except (OSError, UnicodeDecodeError, ValueError, TypeError):
            continue
        if voice.model_path.is_file() and voice.config_path.is_file():
            found.append(voice)
    return found


def find(settings: Settings, name: str) -> InstalledVoice:
    for voice in installed(settings):
        if voice.name == name:
            return voice
    names = ", ".join(v.name for v in installed(settings)) or "chưa cài giọng nào"
    raise InputError(f"Không có giọng '{name}' (đã cài: {names})")


def engine_for(voice: InstalledVoice, settings: Settings | None = None) -> PiperEngine:
    """The engine speaking ``voice``, at its rate from ``voice_rates`` ("piper:<name>") when set."""
    from .piper_engine import PiperEngine

    voices = installed(settings) if settings else [voice]
    everything = {v.name: (v.model_path, v.config_path) for v in voices}
    rate = float((getattr(settings, "voice_rates", None) or {}).get(f"piper:{voice.name}", 1.0))
    return PiperEngine(voice.model_path, config_path=voice.config_path, voice=voice.name, installed=everything,
                       licences={v.name: v.licence for v in voices}, length_scale=None if rate == 1.0 else 1.0 / rate)


def piper_engines(settings: Settings) -> dict[str, PiperEngine]:
    """One engine per installed voice, keyed by voice name (the "piper:<name>" voice ids)."""
    return {voice.name: engine_for(voice, settings) for voice in installed(settings)}


def default_piper(settings: Settings) -> PiperEngine | None:
    """The voice the "piper" engine speaks with: ``piper_voice`` if installed, else the first one."""
    voices = installed(settings)
    chosen = [v for v in voices if v.name == settings.piper_voice] if settings.piper_voice else voices
    return engine_for(chosen[0], settings) if chosen else None


def remove(settings: Settings, name: str) -> InstalledVoice:
    """Uninstall: the folder is renamed aside first (gone from the list at once), then deleted."""
    voice = find(settings, name)
    trash = voice.folder.with_name(f".{voice.name}.removing-{secrets.token_hex(4)}")
    os.replace(voice.folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return voice


# -------------------------------------------------------------------------------- install
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(staging: Path, name: str) -> None:
    """The staged voice must load and speak; SpeechError (one line) otherwise."""
    from .piper_engine import PiperEngine

    engine = PiperEngine(staging / f"{name}.onnx", config_path=staging / f"{name}.onnx.json", voice=name)
    engine.synthesize(TRIAL_SENTENCE)


def _commit(settings: Settings, staging: Path, name: str, meta: dict) -> InstalledVoice:
    (staging / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    target = voices_dir(settings) / name
    if target.exists():
        raise InputError(f"Giọng '{name}' đã được cài; gỡ nó trước (broadcaster voices remove {name})")
    os.replace(staging, target)
    return find(settings, name)


def _staging(settings: Settings, name: str) -> Path:
    folder = voices_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    return staging


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise InputError(f"Tên giọng '{name}' không hợp lệ (chỉ chữ, số, '_', '-', '.')")
    return name


def install_file(settings: Settings, model: Path) -> InstalledVoice:
    """Install ``X.onnx`` with its ``X.onnx.json`` (or ``X.json``) beside it, named X."""
    model = Path(model)
    if model.suffix != ".onnx":
        raise InputError(f"'{model}' không phải tệp giọng .onnx")
    if not model.is_file():
        raise InputError(f"Không có tệp {model}")
    name = check_name(model.name.removesuffix(".onnx"))
    config = next((c for c in (Path(f"{model}.json"), model.with_suffix(".json")) if c.is_file()), None)
    if config is None:
        raise InputError(f"Thiếu tệp cấu hình {model.name}.json bên cạnh {model.name}")
    if (voices_dir(settings) / name).exists():
        raise InputError(f"Giọng '{name}' đã được cài; gỡ nó trước (broadcaster voices remove {name})")
    known = {v.name: v for v in catalogue(settings)}.get(name)
    staging = _staging(settings, name)
    try:
        shutil.copyfile(model, staging / f"{name}.onnx")
        shutil.copyfile(config, staging / f"{name}.onnx.json")
        card = model.parent / "MODEL_CARD"
        if card.is_file():
            shutil.copyfile(card, staging / "MODEL_CARD")
        digest = _sha256(staging / f"{name}.onnx")
        if known is not None and known.model_sha256 and digest != known.model_sha256:
            raise SpeechError(f"Tệp {model.name} không khớp mã sha256 của giọng '{name}' trong danh mục "
                              "(hỏng hoặc bị sửa)")
        _verify(staging, name)
        meta = {"name": name, "source": str(model.resolve()), "sha256": digest,
                "size": (staging / f"{name}.onnx").stat().st_size,
                "licence": known.licence if known else "không rõ (cài từ tệp; xem MODEL_CARD đi kèm)",
                "installed": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        return _commit(settings, staging, name, meta)
    except OSError as exc:
        raise InputError(f"Không chép được giọng vào {voices_dir(settings)}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download(url: str, target: Path, *, limit: int, timeout: float) -> None:
    """Fetch url into target, refusing more than ``limit`` bytes; InputError on any network failure."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            received = 0
            while block := response.read(_CHUNK):
                received += len(block)
                if received > limit:
                    raise SpeechError(f"Tệp tải về từ {url} lớn hơn kích thước trong danh mục")
                out.write(block)
    except urllib.error.HTTPError as exc:
        raise InputError(f"Không tải được {url}: máy chủ trả lời {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"Không tải được {url}: {reason}") from None


def install_catalogue(settings: Settings, name: str) -> InstalledVoice:
    """Download a catalogue voice, verify sizes and sha256, then install it whole."""
    entry = {v.name: v for v in catalogue(settings)}.get(name)
    if entry is None:
        names = ", ".join(v.name for v in catalogue(settings))
        raise InputError(f"Không có giọng '{name}' trong danh mục (có: {names}) và cũng không phải tệp .onnx")
    check_name(entry.name)
    if not entry.model_sha256:
        raise InputError(f"Danh mục chưa có mã sha256 đã kiểm chứng cho '{name}'; hãy tự tải tệp .onnx và "
                         ".onnx.json rồi cài từ tệp (broadcaster voices install ĐƯỜNG_DẪN.onnx)")
    if (voices_dir(settings) / name).exists():
        raise InputError(f"Giọng '{name}' đã được cài; gỡ nó trước (broadcaster voices remove {name})")
    base, timeout = settings.voice_catalogue_url, settings.voice_download_timeout
    staging = _staging(settings, name)
    try:
        model, config = staging / f"{name}.onnx", staging / f"{name}.onnx.json"
        _download(entry.url(base, ".onnx"), model, limit=entry.model_size, timeout=timeout)
        _download(entry.url(base, ".onnx.json"), config, limit=entry.config_size or 1 << 20, timeout=timeout)
        size = model.stat().st_size
        if size != entry.model_size:
            raise SpeechError(f"Tệp giọng '{name}' tải về không đủ: {size} / {entry.model_size} byte")
        if entry.config_size is not None and config.stat().st_size != entry.config_size:
            raise SpeechError(f"Tệp cấu hình của '{name}' tải về sai kích thước "
                              f"({config.stat().st_size} / {entry.config_size} byte)")
        digest = _sha256(model)
        if digest != entry.model_sha256:
            raise SpeechError(f"Tệp giọng '{name}' tải về không khớp mã sha256 của danh mục (hỏng hoặc bị sửa)")
        _verify(staging, name)
        meta = {"name": name, "source": entry.url(base, ".onnx"), "sha256": digest, "size": size,
                "licence": entry.licence, "catalogue": asdict(entry),
                "installed": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        return _commit(settings, staging, name, meta)
    except OSError as exc:
        raise InputError(f"Không ghi được giọng vào {voices_dir(settings)}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(settings: Settings, source: str) -> InstalledVoice:
    """``source`` is a path to an .onnx file, or the name of a catalogue voice."""
    if source.endswith(".onnx") or os.sep in source or Path(source).exists():
        return install_file(settings, Path(source))
    return install_catalogue(settings, source)
