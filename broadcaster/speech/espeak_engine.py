"""espeak-ng through ctypes: robotic but offline, fast and always there.

The only module that loads libespeak-ng (the copy shipped by the ``espeakng-loader``
wheel, with its own ``espeak-ng-data``). The C library keeps all of its state in process
globals (current voice, parameters, the synth callback, the wave generator's phase) and is
not thread-safe, so every call into one loaded library goes through that library's lock.

To speak on two cores the process loads the library more than once: the dynamic linker gives
a second ``dlopen`` of the same file the same handle (the same globals), but a private copy of
the .so under another file name, loaded RTLD_LOCAL, is a separate instance with globals of its
own. ``_POOL`` below holds those instances (two on a machine with two cores or more, else one)
and hands each synthesis a free one. It is the single module-level object in the speech
package, justified because what it guards is itself process-global; it loads nothing until
the first synthesis, and makes the copy only when two syntheses first meet. The copies live in
a per-user cache folder under a hash of the library's bytes, made once (written aside, synced,
renamed into place), checked against the wheel's library before use and reused by later
processes. If a copy cannot
be made, loaded or initialized, the pool speaks on one instance, as before, and says so once
in the log.

What the .so needs besides itself (``readelf -d``): libc, libm, libstdc++ and libgcc_s, none of
them holding synthesis state. The process-wide state it does touch is the C locale
(espeak_Initialize sets LC_CTYPE to C.UTF-8, the same value every time; serialized here by
``_INITIALIZE_LOCK``) and libc's rand(), called only by the speechPlayer wave generator of
voices that ask for it (espeak-ng's own generator and its Klatt one use a random state of the
library's own).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import tempfile
import threading
import weakref
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import SpeechError
from .base import Speech

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

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
#: Audio handed to the callback at a time. espeak-ng's default (0) is 60 ms: some 16 calls into
#: Python per second of speech, each waiting for the GIL while another thread holds it.
BUFFER_MS = 1000

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# espeak_Initialize sets the process's LC_CTYPE: one instance at a time.
_INITIALIZE_LOCK = threading.Lock()
# The dlopen handle of every library loaded here → the instance object it belongs to (one object
# per handle). A copy that came back as one of these handles would share its globals with another
# instance.
_OWNERS: dict[int, weakref.ref] = {}


def _default_paths() -> tuple[str, str]:
    """The library and data directory shipped in the espeakng-loader wheel."""
    import espeakng_loader

    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def _loader_version() -> str:
    try:
        return metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout without metadata
        return "unknown"


def _pool_size() -> int:
    """Library instances to load: one per core, at most two (the render has one other busy thread)."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def _copy_folder() -> Path:
    """Where the private copies of the library go: the user's cache folder (XDG), else the temp folder."""
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:  # no home directory
        owner = os.getuid() if hasattr(os, "getuid") else _user_name()  # Windows has no user ids
        root = Path(tempfile.gettempdir()) / f"broadcaster-{owner}"
    return root / "broadcaster" / "espeak-ng"


def _user_name() -> str:
    import getpass

    try:
        return "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
    except Exception:  # no user name in the environment either
        return "user"


#: A copy of another wheel's library unused for this long is removed (another install may still use it before).
_STALE_COPY_S = 30 * 24 * 3600.0


def _remove_stale_copies(folder: Path, source: Path, index: int, keep: Path) -> None:
    """Copy ``index`` of other versions of ``source`` (another hash in the name), unused for
    _STALE_COPY_S: removed, quietly (a loaded one on Windows cannot be, and stays)."""
    import time

    cutoff = time.time() - _STALE_COPY_S
    for path in folder.glob(f"{source.stem}-*-{index}{source.suffix}"):
        if path == keep:
            continue
        try:
            if max(path.stat().st_mtime, path.stat().st_atime) < cutoff:
                path.unlink()
        except OSError:
            pass


def _private_copy(source: str | Path, index: int, folder: Path) -> Path:
    """The library ``source`` copied into ``folder`` as copy ``index``; made once, checked every time.

    The name carries a hash of the source's bytes, so a new wheel gets new copies and every
    install of the same wheel shares them. The copy is written aside, synced and renamed into
    place (a crash never leaves half a library under the final name, and a process that has the
    old file loaded keeps its mapping). Only a folder of this user's that no one else may write
    to is used (a library found there is run). Copies of other wheels' libraries unused for 30
    days are removed on the way. OSError when the folder or the copy cannot be made or the copy
    does not hold the source's bytes.
    """
    source = Path(source)
    data = source.read_bytes()
    target = folder / f"{source.stem}-{hashlib.sha256(data).hexdigest()[:16]}-{index}{source.suffix}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mine = folder.stat()
    if hasattr(os, "getuid") and (mine.st_uid != os.getuid() or mine.st_mode & 0o022):
        raise OSError(f"{folder} is not this user's own folder")
    if _holds(target, data):
        _touch(target)
        _remove_stale_copies(folder, source, index, target)
        return target
    part = folder / f"{target.name}.{os.getpid()}.{threading.get_ident()}.part"
    try:
        with open(part, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    if not _holds(target, data):
        raise OSError(f"the copy {target} does not match {source}")
    _remove_stale_copies(folder, source, index, target)
    return target


def _touch(path: Path) -> None:
    """Mark a copy as in use (its age is what _remove_stale_copies goes by), at most once a day."""
    import time

    try:
        if time.time() - path.stat().st_mtime > 24 * 3600:
            os.utime(path)
    except OSError:
        pass


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


class _EspeakLibrary:
    """One instance of libespeak-ng: its lock, its loaded handles and what is currently set.

    Instance 0 loads the library file it is given; instance k > 0 loads its own private copy
    (copy k in ``copy_dir``, default: the user's cache folder). All state below is touched only
    while holding ``lock``; ``trouble`` is why this instance could not be set up, if it could not.
    """

    def __init__(self, index: int = 0, *, copy_dir: Path | None = None, buffer_ms: int = BUFFER_MS) -> None:
        self.index = index
        self.lock = threading.Lock()
        self.trouble: SpeechError | None = None
        self._copy_dir = copy_dir
        self._buffer_ms = buffer_ms
        self._handles: dict[str, ctypes.CDLL] = {}  # the library path asked for → the instance's handle
        self._active: tuple[str, str] | None = None  # (library path, data path) initialized
        self.sample_rate = 0
        self._voice: str | None = None
        self._params: tuple[int, int] | None = None
        self._chunks: list[bytes] = []
        # ctypes only keeps the C trampoline alive while this Python object lives.
        self._callback = _SYNTH_CALLBACK(self._on_audio)

    def _on_audio(self, wav, numsamples, events) -> int:
        # Runs inside espeak_Synth on the calling thread (synchronous mode), under the lock.
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = continue synthesis

    def _open(self, library_path: str) -> ctypes.CDLL:
        if self.index == 0:
            return ctypes.CDLL(library_path)
        folder = self._copy_dir if self._copy_dir is not None else _copy_folder()
        copy = _private_copy(library_path, self.index, folder)
        lib = ctypes.CDLL(str(copy), mode=getattr(os, "RTLD_LOCAL", 0))
        if lib._handle in _OWNERS:
            raise OSError(f"{copy} is not a separate instance")
        return lib

    def _load(self, library_path: str) -> ctypes.CDLL:
        lib = self._handles.get(library_path)
        if lib is not None:
            return lib
        try:
            lib = self._open(library_path)
        except OSError as exc:
            message = f"Không nạp được thư viện espeak-ng ({library_path}): {exc}"
            raise SpeechError(message, engine="espeak") from exc
        owner = _OWNERS.get(lib._handle)
        if owner is not None and owner() not in (None, self):
            # a second object on one loaded library would set its own callback and state under the
            # first one's feet (and leave the callback dangling once it is gone: a crash)
            raise SpeechError(f"Thư viện espeak-ng {library_path} đã được nạp bởi một phiên khác", engine="espeak")
        _OWNERS[lib._handle] = weakref.ref(self)
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

    def prepare(self, library_path: str, data_path: str) -> ctypes.CDLL:
        """The library loaded and initialized with ``data_path`` (under self.lock); SpeechError if not."""
        lib = self._load(library_path)
        if self._active == (library_path, data_path):
            return lib
        # Checked here because after one good initialization the library accepts a bad path
        # without complaint and then speaks garbage; phontab is the first file it needs.
        if not any((Path(data_path) / sub / "phontab").is_file() for sub in ("", "espeak-ng-data")):
            raise SpeechError(f"Không tìm thấy dữ liệu espeak-ng ở {data_path}", engine="espeak")
        self._active, self._voice, self._params = None, None, None
        with _INITIALIZE_LOCK:
            # Without DONT_EXIT a missing data directory makes the C library call exit(1) and
            # take the whole station down with it; with it we get a bad sample rate back instead.
            rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, self._buffer_ms, data_path.encode(),
                                         ESPEAK_INITIALIZE_DONT_EXIT)
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

    def speak(self, lib: ctypes.CDLL, *, text: str, voice: str, rate: int, pitch: int) -> Speech:
        """Speak text on this prepared instance (the caller holds self.lock)."""
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
        if status != EE_OK:
            raise SpeechError(f"espeak-ng: tổng hợp thất bại (mã lỗi {status})", engine="espeak")
        pcm = np.frombuffer(b"".join(chunks), dtype=np.int16)
        samples = pcm.astype(np.float32) / np.float32(32768.0)
        # Text with nothing to pronounce (punctuation only) comes back as a few silent samples:
        # an engine must fail rather than hand silence to the chain as if it had spoken.
        if samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_LEVEL:
            raise SpeechError("espeak-ng không tạo ra âm thanh / no audio produced", engine="espeak")
        return Speech(samples=samples, sample_rate=self.sample_rate)

    def synthesize(self, *, text: str, voice: str, rate: int, pitch: int, library_path: str, data_path: str) -> Speech:
        """Speak text with the given voice and parameters on this instance (serialized by its lock)."""
        with self.lock:
            lib = self.prepare(library_path, data_path)
            return self.speak(lib, text=text, voice=voice, rate=rate, pitch=pitch)

    def phoneme_clauses(self, *, text: str, voice: str, library_path: str, data_path: str) -> list[tuple[str, str, bool]]:
        """IPA phonemes of ``text`` clause by clause, as espeak-ng itself splits it (the Piper engine's input).

        Each item is (phonemes, the text the library consumed for that clause, whether the text
        ended there). The consumed text
        runs past the clause's end by the character espeak-ng reads ahead, so the caller can see
        the punctuation that ended the clause. Serialized with synthesis (the instance's lock).
        """
        data = text.encode("utf-8")
        with self.lock:
            lib = self.prepare(library_path, data_path)
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


class _EspeakPool:
    """The process's libespeak-ng instances; each synthesis takes a free one (the first if it is free).

    An instance past the first that cannot be set up (no copy, no load, no initialization) while
    the first one can is set aside for the life of the process, said once in the log, and its
    synthesis is spoken on the first instance instead.
    """

    def __init__(self, size: int, *, copy_dir: Path | None = None) -> None:
        # the first instance is the process's one: another object loading the wheel's library would
        # get the same handle (the same globals) and take its callback over
        self.instances = [_FIRST] + [_EspeakLibrary(index, copy_dir=copy_dir) for index in range(1, max(1, size))]
        self._usable = list(self.instances)
        self._freed = threading.Condition()

    @property
    def concurrency(self) -> int:
        """How many syntheses can run at once."""
        return len(self._usable)

    def _take(self) -> _EspeakLibrary:
        with self._freed:
            while True:
                usable = list(self._usable)
                for instance in usable:
                    if instance.lock.acquire(blocking=False):
                        return instance
                if len(usable) == 1:
                    break
                # Woken when one of ours is given back; the timeout only covers a lock held elsewhere.
                self._freed.wait(timeout=0.05)
        usable[0].lock.acquire()
        return usable[0]

    def _give_back(self, instance: _EspeakLibrary) -> None:
        instance.lock.release()
        with self._freed:
            self._freed.notify()

    def synthesize(self, *, text: str, voice: str, rate: int, pitch: int, library_path: str, data_path: str) -> Speech:
        """Speak text on a free instance; SpeechError as _EspeakLibrary.synthesize."""
        instance = self._take()
        try:
            try:
                lib = instance.prepare(library_path, data_path)
            except SpeechError as exc:
                if instance.index == 0:
                    raise
                instance.trouble = exc
            else:
                return instance.speak(lib, text=text, voice=voice, rate=rate, pitch=pitch)
        finally:
            self._give_back(instance)
        # The copy could not be set up: the first instance speaks, and if it can, the copy is dropped.
        first = self.instances[0]
        with first.lock:
            lib = first.prepare(library_path, data_path)
            self._set_aside(instance)
            speech = first.speak(lib, text=text, voice=voice, rate=rate, pitch=pitch)
        with self._freed:
            self._freed.notify()
        return speech

    def _set_aside(self, instance: _EspeakLibrary) -> None:
        with self._freed:
            if instance not in self._usable:
                return
            self._usable.remove(instance)
            left = len(self._usable)
        log.warning("espeak-ng: library instance %d is not available (%s); speaking on %s",
                    instance.index, instance.trouble, "one instance" if left == 1 else f"{left} instances")

    def phoneme_clauses(self, **kwargs) -> list[tuple[str, str, bool]]:
        """See _EspeakLibrary.phoneme_clauses; always on the first instance."""
        return self.instances[0].phoneme_clauses(**kwargs)


_FIRST = _EspeakLibrary(0)
_POOL = _EspeakPool(_pool_size())


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

    @property
    def concurrency(self) -> int:
        """Syntheses that can run at once: the library instances of the process (the pipeline's threads)."""
        return _POOL.concurrency

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
        return _POOL.synthesize(
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
    return _POOL.phoneme_clauses(text=text, voice=voice, library_path=library_path, data_path=data_path)
