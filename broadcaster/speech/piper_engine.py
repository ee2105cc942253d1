"""Piper neural voices (offline, ONNX): espeak-ng phonemes → phoneme ids → onnxruntime → waveform.

A Piper voice is two files: ``X.onnx`` (a VITS model) and ``X.onnx.json`` (its config:
``phoneme_id_map``, ``audio.sample_rate``, ``espeak.voice``, ``inference`` scales). This module
does what piper-tts does with them, without depending on piper-tts (GPL, and it bundles a
second copy of espeak-ng):

1. Phonemize with the espeak-ng the station already ships (``espeak_engine.phoneme_clauses``,
   voice from the config, "vi" for the Vietnamese voices): IPA per clause; the clause's
   punctuation (. ? ! , : ;) is kept as a "phoneme", a comma/colon/semicolon clause gets a
   space after it, and the text is cut into sentences where espeak-ng ends one. Every code
   point of the NFD form is one phoneme (tone digits and combining marks are their own).
2. Each sentence becomes ids: ``^`` (BOS), ``_`` (pad), then every phoneme followed by ``_``,
   then ``$`` (EOS); a phoneme missing from the voice's map is skipped, as Piper does.
3. Each sentence runs through the model: inputs ``input`` int64 [1, T], ``input_lengths``
   int64 [1], ``scales`` float32 [noise, length, noise_w] (and ``sid`` for a multi-speaker
   voice); the output is the float waveform, peak-normalized like Piper's default.

tests/speech_engines/test_piper_engine.py checks the ids against piper-tts's own phonemizer.
onnxruntime is imported inside functions only (CLI start-up stays light).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import SpeechError
from .base import Speech

PAD, BOS, EOS = "_", "^", "$"
_LANG_FLAGS = re.compile(r"\([^)]+\)")  # espeak-ng's (en) … (vi) language-switch marks
_CLOSERS = "\"'”’»)]}"
_TERMINATORS = {".": (".", True), "?": ("?", True), "!": ("!", True), ",": (",", False), ":": (":", False),
                ";": (";", False)}
_PUNCTUATION = ".?!,:;…"
ENGINE_NAME = "piper"


# ----------------------------------------------------------------------------- phonemes
def _clause_end(consumed: str, at_end: bool) -> tuple[str, bool]:
    """The (terminator, ends a sentence) of one espeak-ng clause, from the text it consumed.

    espeak-ng reads one character past a clause (the first letter of the next word), so word
    characters at the end are that read-ahead; then come spaces and closing quotes, then the
    clause's punctuation. Only a plain . ? ! , : ; counts (the first of a run such as "?!");
    an ellipsis ends a clause but is no terminator, as in espeak-ng's clause table.
    """
    body = consumed
    if not at_end:
        while body and body[-1].isalnum():  # the read-ahead letter of the next clause
            body = body[:-1]
    stripped = body.rstrip(" \t\r\n\f\v" + _CLOSERS)
    tail = body[len(stripped):]
    body = stripped
    run = ""
    for ch in reversed(body):
        if ch not in _PUNCTUATION:
            break
        run = ch + run
    if run and not (run.startswith("..") or "…" in run):
        return _TERMINATORS.get(run[0], ("", at_end))
    if run:  # an ellipsis
        return "", at_end
    return "", at_end or "\n\n" in tail.replace("\r", "")


def merge_vowel_clusters(phones: Sequence[str], clusters: set[tuple[str, ...]]) -> list[str]:
    """Join adjacent phonemes that form one of the voice's vowel clusters (longest first), as Piper does."""
    longest = max(len(cluster) for cluster in clusters)
    out: list[str] = []
    i = 0
    while i < len(phones):
        for n in range(min(longest, len(phones) - i), 1, -1):
            candidate = tuple(phones[i:i + n])
            if candidate in clusters:
                out.append("".join(candidate))
                i += n
                break
        else:
            out.append(phones[i])
            i += 1
    return out


def phonemize(text: str, voice: str = "vi", vowel_clusters: set[tuple[str, ...]] | None = None) -> list[list[str]]:
    """Text → phonemes grouped by sentence, exactly as Piper's espeak phonemizer groups them."""
    from .espeak_engine import phoneme_clauses

    sentences: list[list[str]] = []
    current: list[str] = []
    for phonemes, consumed, at_end in phoneme_clauses(text, voice):
        terminator, end_of_sentence = _clause_end(consumed, at_end)
        phonemes = _LANG_FLAGS.sub("", phonemes) + terminator
        if terminator in (",", ":", ";"):
            phonemes += " "
        current.extend(unicodedata.normalize("NFD", phonemes))
        if end_of_sentence:
            sentences.append(merge_vowel_clusters(current, vowel_clusters) if vowel_clusters else current)
            current = []
    if current:
        sentences.append(merge_vowel_clusters(current, vowel_clusters) if vowel_clusters else current)
    if sentences and not sentences[-1]:
        sentences.pop()
    return sentences


def phonemes_to_ids(phonemes: Sequence[str], id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """``^ _ p1 _ p2 _ … $``; phonemes the voice does not know are skipped (Piper logs and skips them)."""
    ids: list[int] = [*id_map[BOS], *id_map[PAD]]
    for phoneme in phonemes:
        if phoneme in id_map:
            ids.extend(id_map[phoneme])
            ids.extend(id_map[PAD])
    ids.extend(id_map[EOS])
    return ids


# ------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class PiperConfig:
    """What this engine reads from a voice's ``.onnx.json``."""

    sample_rate: int
    espeak_voice: str
    phoneme_id_map: Mapping[str, Sequence[int]]
    num_speakers: int = 1
    noise_scale: float = 0.667
    length_scale: float = 1.0
    noise_w: float = 0.8
    default_speaker_id: int = 0
    vowel_clusters: frozenset[tuple[str, ...]] = field(default_factory=frozenset)

    @classmethod
    def from_dict(cls, raw: Any) -> PiperConfig:
        """Validate a parsed config; ValueError (Vietnamese) naming the first thing wrong."""
        if not isinstance(raw, dict):
            raise ValueError("tệp cấu hình không phải một đối tượng JSON")
        try:
            rate = int(raw["audio"]["sample_rate"])
            espeak_voice = str(raw["espeak"]["voice"])
            id_map = raw["phoneme_id_map"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("thiếu audio.sample_rate, espeak.voice hoặc phoneme_id_map") from None
        if raw.get("phoneme_type", "espeak") != "espeak":
            raise ValueError(f"chỉ hỗ trợ giọng dùng phiên âm espeak, không phải '{raw.get('phoneme_type')}'")
        if not 8000 <= rate <= 96000:
            raise ValueError(f"tần số lấy mẫu {rate} Hz không hợp lệ")
        if not isinstance(id_map, dict) or any(key not in id_map for key in (PAD, BOS, EOS)):
            raise ValueError("phoneme_id_map thiếu ký hiệu _ ^ $")
        if not all(isinstance(v, list) and all(isinstance(i, int) for i in v) for v in id_map.values()):
            raise ValueError("phoneme_id_map phải ánh xạ mỗi âm vị sang một danh sách số nguyên")
        inference = raw.get("inference") or {}
        clusters = frozenset(tuple(c) for c in raw.get("vowel_clusters") or ())
        return cls(
            sample_rate=rate, espeak_voice=espeak_voice, phoneme_id_map=id_map,
            num_speakers=int(raw.get("num_speakers", 1) or 1),
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
            default_speaker_id=int(raw.get("default_speaker_id", 0) or 0),
            vowel_clusters=clusters,
        )


def read_config(path: Path) -> PiperConfig:
    """Load and validate ``X.onnx.json``; SpeechError with one clear line when it is not usable."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return PiperConfig.from_dict(raw)
    except FileNotFoundError:
        raise SpeechError(f"Không có tệp cấu hình giọng {path}", engine=ENGINE_NAME) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpeechError(f"Tệp cấu hình giọng {Path(path).name} hỏng: {exc}", engine=ENGINE_NAME) from None


def open_session(model_path: Path):
    """An onnxruntime session for the model, after checking it has Piper's interface."""
    try:
        import onnxruntime
    except ImportError:
        raise SpeechError("Chưa cài onnxruntime (pip install onnxruntime)", engine=ENGINE_NAME) from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # no onnxruntime warnings on the station's console
    try:
        session = onnxruntime.InferenceSession(str(model_path), sess_options=options,
                                               providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own classes for a truncated or foreign file
        raise SpeechError(f"Tệp giọng {Path(model_path).name} không mở được (hỏng hoặc không phải ONNX)",
                          engine=ENGINE_NAME) from exc
    inputs = {i.name for i in session.get_inputs()}
    if not {"input", "input_lengths", "scales"} <= inputs:
        raise SpeechError(f"Tệp {Path(model_path).name} không phải giọng Piper (thiếu đầu vào input, "
                          "input_lengths, scales)", engine=ENGINE_NAME)
    return session


# ------------------------------------------------------------------------------- engine
class PiperEngine:
    """One installed Piper voice implementing the SpeechEngine protocol (loaded on first use)."""

    name = ENGINE_NAME

    def __init__(self, model_path: Path | str, *, config_path: Path | str | None = None,
                 voice: str | None = None, length_scale: float | None = None, speaker_id: int | None = None,
                 installed: Mapping[str, tuple[Path, Path]] | None = None,
                 licences: Mapping[str, str] | None = None) -> None:
        """length_scale overrides the voice's own (above 1 is slower); nothing is loaded here.

        installed: every installed voice (name → model, config), so ``voices()`` can offer them
        and ``with_voice`` switch to one (the "piper:<name>" voice ids); licences: name → its terms,
        shown in each voice's label (the console's voice picker shows it)."""
        self.model_path = Path(model_path)
        self.config_path = Path(config_path) if config_path else Path(f"{self.model_path}.json")
        self.voice = voice or self.model_path.name.removesuffix(".onnx")
        if length_scale is not None and not 0.1 <= float(length_scale) <= 5.0:
            raise ValueError(f"Piper length_scale must be 0.1-5, not {length_scale}")
        self.length_scale = None if length_scale is None else float(length_scale)
        self.speaker_id = speaker_id
        self._lock = threading.Lock()
        self._loaded: tuple[PiperConfig, Any] | None = None
        self._installed = dict(installed or {self.voice: (self.model_path, self.config_path)})
        self._licences = dict(licences or {})

    def voices(self) -> dict[str, str]:
        """The installed voices: name → label shown to an editor (with the voice's licence when known)."""
        return {name: f"Piper {name} (ngoại tuyến" + (f"; giấy phép: {self._licences[name]})"
                                                     if self._licences.get(name) else ")")
                for name in sorted(self._installed)}

    def with_voice(self, voice: str, *, rate: float = 1.0) -> PiperEngine:
        """Another installed voice at ``rate`` times its own speed (Piper's length_scale is 1 / rate)."""
        if voice not in self._installed:
            raise SpeechError(f"Chưa cài giọng Piper '{voice}'", engine=self.name)
        model, config = self._installed[voice]
        return PiperEngine(model, config_path=config, voice=voice, installed=self._installed,
                           licences=self._licences, length_scale=None if rate == 1.0 else 1.0 / float(rate))

    def identity(self) -> dict[str, object]:
        """Voice name, the model file (size and time, no hashing of 60 MB) and the config's digest."""
        try:
            stat = self.model_path.stat()
            model = f"{stat.st_size}:{stat.st_mtime_ns}"
            config = hashlib.sha256(self.config_path.read_bytes()).hexdigest()[:16]
        except OSError:
            model = config = "missing"
        return {"engine": self.name, "voice": self.voice, "model": model, "config": config,
                "length_scale": self.length_scale, "speaker": self.speaker_id}

    def load(self) -> tuple[PiperConfig, Any]:
        """The config and onnxruntime session, loaded once (SpeechError when the voice is broken)."""
        with self._lock:
            if self._loaded is None:
                if not self.model_path.is_file():
                    raise SpeechError(f"Không có tệp giọng {self.model_path}", engine=self.name)
                config = read_config(self.config_path)
                self._loaded = (config, open_session(self.model_path))
            return self._loaded

    def sentence_ids(self, text: str) -> list[list[int]]:
        """The phoneme ids fed to the model, one list per sentence."""
        config, _ = self.load()
        clusters = set(config.vowel_clusters) or None
        return [phonemes_to_ids(s, config.phoneme_id_map) for s in phonemize(text, config.espeak_voice, clusters) if s]

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` offline; SpeechError when the voice cannot load or produces nothing."""
        if not text or not text.strip():
            raise SpeechError("Piper: không có chữ để đọc / no text to speak", engine=self.name)
        config, session = self.load()
        scales = np.array([config.noise_scale, self.length_scale or config.length_scale, config.noise_w],
                          dtype=np.float32)
        parts: list[np.ndarray] = []
        for ids in self.sentence_ids(text):
            feed = {"input": np.array([ids], dtype=np.int64),
                    "input_lengths": np.array([len(ids)], dtype=np.int64), "scales": scales}
            if config.num_speakers > 1:
                sid = self.speaker_id if self.speaker_id is not None else config.default_speaker_id
                feed["sid"] = np.array([sid], dtype=np.int64)
            try:
                audio = np.asarray(session.run(None, feed)[0], dtype=np.float32).reshape(-1)
            except Exception as exc:  # a model that fails at run time is this engine's failure
                raise SpeechError(f"Piper: mô hình lỗi khi đọc: {type(exc).__name__}", engine=self.name) from exc
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1e-8:
                audio = audio / peak
            parts.append(np.clip(audio, -1.0, 1.0))
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if samples.size == 0 or not np.isfinite(samples).all() or float(np.max(np.abs(samples))) < 1e-3:
            raise SpeechError("Piper không tạo ra âm thanh / no audio produced", engine=self.name)
        return Speech(samples=samples.astype(np.float32, copy=False), sample_rate=config.sample_rate)

    def __repr__(self) -> str:
        return f"PiperEngine(voice={self.voice!r}, model={str(self.model_path)!r})"
