"""espeak-ng through ctypes: robotic but offline, fast and always there.

The only module that loads libespeak-ng (the copy shipped by the ``espeakng-loader``
wheel, with its own ``espeak-ng-data``). The C library keeps all of its state in process
globals (current voice, parameters, the synth callback) and is not thread-safe, so every
call into it goes through one process-wide lock held by ``_LIBRARY`` below. That is the
single module-level object in the speech package, and it is justified only because the
thing it guards is itself process-global; it is created eagerly but loads the library
lazily, on the first synthesis.
"""

from __future__ import annotations

import ctypes
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import SpeechError
from .base import Speech

if TYPE_CHECKING:
    from ..config import Settings

# From espeak-ng's speak_lib.h (API revision 12).
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
ESPEAK_CHARS_AUTO = 0
ESPEAK_PHONEMES_IPA = 0x02
ESPEAK_RATE = 1
ESPEAK_PITCH = 3
EE_OK = 0
EE_NOT_FOUND = 2
RATE_MIN, RATE_MAX = 80, 450  # espeakRATE_MINIMUM / espeakRATE_MAXIMUM
SILENCE_LEVEL = 1e-3  # about -60 dBFS: below this the output holds no speech

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def _default_paths() -> tuple[str, str]:
    """The library and data directory shipped in the espeakng-loader wheel."""
    import espeakng_loader

    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def _loader_version() -> str:
    try:
        return metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout without metadata
        return "unknown"


class _EspeakLibrary:
    """The process-wide libespeak-ng: one lock, the loaded handles and what is currently set.

    All state below is touched only while holding ``lock``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._handles: dict[str, ctypes.CDLL] = {}
        self._active: tuple[str, str] | None = None  # (library path, data path) initialized
        self.sample_rate = 0
        self._voice: str | None = None
        self._params: tuple[int, int] | None = None
        self._chunks: list[np.ndarray] = []
        # ctypes only keeps the C trampoline alive while this Python object lives.
        self._callback = _SYNTH_CALLBACK(self._on_audio)

    def _on_audio(self, wav, numsamples, events) -> int:
        # Runs inside espeak_Synth on the calling thread (synchronous mode), under the lock.
        if wav and numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0  # 0 = continue synthesis

    def _load(self, library_path: str) -> ctypes.CDLL:
        lib = self._handles.get(library_path)
        if lib is not None:
            return lib
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as exc:
            message = f"Không nạp được thư viện espeak-ng ({library_path}): {exc}"
            raise SpeechError(message, engine="espeak") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        # const char *espeak_TextToPhonemes(const void **textptr, int textmode, int phonememode)
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._handles[library_path] = lib
        return lib

    def _initialize(self, library_path: str, data_path: str) -> ctypes.CDLL:
        lib = self._load(library_path)
        if self._active == (library_path, data_path):
            return lib
        # Checked here because after one good initialization the library accepts a bad path
        # without complaint and then speaks garbage; phontab is the first file it needs.
        if not any((Path(data_path) / sub / "phontab").is_file() for sub in ("", "espeak-ng-data")):
            raise SpeechError(f"Không tìm thấy dữ liệu espeak-ng ở {data_path}", engine="espeak")
        # Without DONT_EXIT a missing data directory makes the C library call exit(1) and
        # take the whole station down with it; with it we get a bad sample rate back instead.
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), ESPEAK_INITIALIZE_DONT_EXIT)
        self._active, self._voice, self._params = None, None, None
        if rate <= 0:
            raise SpeechError(f"Không khởi động được espeak-ng (dữ liệu: {data_path})", engine="espeak")
        # The voice only shows whether the data really loaded: espeak_Initialize can still
        # report a rate when phontab is missing.
        if lib.espeak_SetVoiceByName(b"en") != EE_OK and lib.espeak_SetVoiceByName(b"vi") != EE_OK:
            raise SpeechError(f"Dữ liệu espeak-ng không dùng được ({data_path})", engine="espeak")
        lib.espeak_SetSynthCallback(self._callback)
        self.sample_rate = rate
        self._active = (library_path, data_path)
        return lib

    def _use_voice(self, lib, voice: str) -> None:
        """Load `voice` unless it is the one loaded (under self.lock); a new voice resets rate and pitch."""
        if self._voice == voice:
            return
        status = lib.espeak_SetVoiceByName(voice.encode())
        if status != EE_OK:
            self._voice = None
            why = "không có giọng này" if status == EE_NOT_FOUND else f"mã lỗi {status}"
            raise SpeechError(f"espeak-ng: không nạp được giọng '{voice}' ({why})", engine="espeak")
        self._voice, self._params = voice, None

    def synthesize(self, *, text: str, voice: str, rate: int, pitch: int, library_path: str, data_path: str) -> Speech:
        """Speak text with the given voice and parameters. Serialized across the whole process."""
        with self.lock:
            lib = self._initialize(library_path, data_path)
            self._use_voice(lib, voice)
            if self._params != (rate, pitch):
                rate_ok = lib.espeak_SetParameter(ESPEAK_RATE, rate, 0) == EE_OK
                if not rate_ok or lib.espeak_SetParameter(ESPEAK_PITCH, pitch, 0) != EE_OK:
                    self._params = None
                    message = f"espeak-ng: không đặt được tốc độ {rate} / cao độ {pitch}"
                    raise SpeechError(message, engine="espeak")
                self._params = (rate, pitch)
            data = text.encode("utf-8")
            self._chunks = []
            try:
                status = lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
                chunks = self._chunks
            finally:  # never let one call's audio leak into the next
                self._chunks = []
            sample_rate = self.sample_rate
        if status != EE_OK:
            raise SpeechError(f"espeak-ng: tổng hợp thất bại (mã lỗi {status})", engine="espeak")
        samples = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
        # Text with nothing to pronounce (punctuation only) comes back as a few silent samples:
        # an engine must fail rather than hand silence to the chain as if it had spoken.
        if samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_LEVEL:
            raise SpeechError("espeak-ng không tạo ra âm thanh / no audio produced", engine="espeak")
        return Speech(samples=samples, sample_rate=sample_rate)


    def phoneme_clauses(self, *, text: str, voice: str, library_path: str, data_path: str) -> list[tuple[str, str, bool]]:
        """IPA phonemes of ``text`` clause by clause, as espeak-ng itself splits it (the Piper engine's input).

        Each item is (phonemes, the text the library consumed for that clause, whether the text
        ended there). The consumed text
        runs past the clause's end by the character espeak-ng reads ahead, so the caller can see
        the punctuation that ended the clause. Serialized with synthesis (one library, one lock).
        """
        data = text.encode("utf-8")
        with self.lock:
            lib = self._initialize(library_path, data_path)
            self._use_voice(lib, voice)
            buffer = ctypes.create_string_buffer(data)
            base = ctypes.addressof(buffer)
            pointer = ctypes.c_void_p(base)
            clauses: list[tuple[str, str, bool]] = []
            # Until the library sets the pointer to NULL: stopping when it reaches the end of the
            # text would leave the last clause inside espeak-ng, to come out before the next text.
            for _ in range(len(data) + 2):  # each call consumes at least one clause; never loop forever
                if pointer.value is None:
                    break
                start = pointer.value - base
                phonemes = lib.espeak_TextToPhonemes(ctypes.byref(pointer), ESPEAK_CHARS_AUTO, ESPEAK_PHONEMES_IPA)
                end = len(data) if pointer.value is None else pointer.value - base
                consumed = data[start:end].decode("utf-8", errors="replace")
                phoneme_text = (phonemes or b"").decode("utf-8", errors="replace")
                clauses.append((phoneme_text, consumed, pointer.value is None))
        return clauses


_LIBRARY = _EspeakLibrary()


class EspeakEngine:
    """espeak-ng adapter implementing the SpeechEngine protocol.

    Output is 16-bit audio at the rate espeak_Initialize reports (22050 Hz), as float32.
    """

    name = "espeak"

    def __init__(
        self,
        *,
        voice: str = "vi",
        rate: int = 140,
        pitch: int = 50,
        library_path: str | Path | None = None,
        data_path: str | Path | None = None,
    ) -> None:
        """Configure the engine; the library is loaded on the first ``synthesize``.

        rate is words per minute (espeak accepts 80-450), pitch 0-99. library_path and
        data_path default to the copies in the espeakng-loader wheel.
        """
        if not RATE_MIN <= int(rate) <= RATE_MAX:
            raise ValueError(f"espeak-ng rate must be {RATE_MIN}-{RATE_MAX} words per minute, not {rate}")
        if not 0 <= int(pitch) <= 99:
            raise ValueError(f"espeak-ng pitch must be 0-99, not {pitch}")
        self.voice = voice
        self.rate = int(rate)
        self._base_rate = self.rate  # the station's espeak_rate, which a per-voice rate multiplies
        self.pitch = int(pitch)
        self._library_path = str(library_path) if library_path else None
        self._data_path = str(data_path) if data_path else None

    @classmethod
    def from_settings(cls, settings: Settings) -> EspeakEngine:
        """The engine as configured by the station's settings (voice_rates scales espeak_rate)."""
        speed = settings.voice_rates.get(f"{cls.name}:{settings.espeak_voice}", 1.0)
        rate = min(RATE_MAX, max(RATE_MIN, round(settings.espeak_rate * speed)))
        engine = cls(voice=settings.espeak_voice, rate=rate, pitch=settings.espeak_pitch)
        engine._base_rate = settings.espeak_rate
        return engine

    def voices(self) -> dict[str, str]:
        """The voice this engine is set to speak: name → label shown to an editor."""
        return {self.voice: f"espeak-ng {self.voice} (ngoại tuyến, giọng máy)"}

    def with_voice(self, voice: str, *, rate: float = 1.0) -> EspeakEngine:
        """Another espeak-ng voice, at ``rate`` times the station's espeak_rate."""
        base = getattr(self, "_base_rate", self.rate)
        words = min(RATE_MAX, max(RATE_MIN, round(base * rate)))
        engine = EspeakEngine(voice=voice, rate=words, pitch=self.pitch,
                              library_path=self._library_path, data_path=self._data_path)
        engine._base_rate = base
        return engine

    def identity(self) -> dict[str, object]:
        """Voice, rate, pitch and the library build (a new espeak-ng release sounds different)."""
        return {
            "engine": self.name,
            "voice": self.voice,
            "rate": self.rate,
            "pitch": self.pitch,
            "library": self._library_path or f"espeakng-loader {_loader_version()}",
        }

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` offline; SpeechError if the library, its data or the voice cannot load."""
        if not text or not text.strip():
            raise SpeechError("espeak-ng: không có chữ để đọc / no text to speak", engine=self.name)
        library_path, data_path = self._library_path, self._data_path
        if library_path is None or data_path is None:
            try:
                default_library, default_data = _default_paths()
            except Exception as exc:  # the wheel is missing or its data directory was removed
                raise SpeechError(f"Không tìm thấy espeak-ng: {exc}", engine=self.name) from exc
            library_path = library_path or default_library
            data_path = data_path or default_data
        return _LIBRARY.synthesize(
            text=text, voice=self.voice, rate=self.rate, pitch=self.pitch,
            library_path=library_path, data_path=data_path,
        )

    def __repr__(self) -> str:
        return f"EspeakEngine(voice={self.voice!r}, rate={self.rate}, pitch={self.pitch})"


def phoneme_clauses(text: str, voice: str = "vi") -> list[tuple[str, str, bool]]:
    """espeak-ng's IPA phonemes of ``text`` per clause, with the text consumed (see _EspeakLibrary)."""
    try:
        library_path, data_path = _default_paths()
    except Exception as exc:  # the wheel is missing or its data directory was removed
        raise SpeechError(f"Không tìm thấy espeak-ng: {exc}", engine="espeak") from exc
    return _LIBRARY.phoneme_clauses(text=text, voice=voice, library_path=library_path, data_path=data_path)
