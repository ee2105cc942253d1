"""Signals and helpers for the audio tests (imported by the test modules).

Everything is synthesized here, deterministically; nothing depends on a TTS engine.
Measurements go through pyloudnorm and scipy directly rather than broadcaster.audio,
so a bug in our meter cannot hide a bug in our normalizer.
"""

from __future__ import annotations

import importlib.util
import subprocess
import wave
from pathlib import Path

import numpy as np

from broadcaster import media

RATE = 48000
REPO = Path(__file__).resolve().parents[2]


def speech_like(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Speech-shaped test signal, ~19 dB true peak above its loudness, like espeak-ng output.

    A gliding 120 Hz sawtooth-like voice through three formant resonators, chopped into
    random syllables with short gaps and the odd phrase pause.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.6 * t) + 8 * np.sin(2 * np.pi * 2.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    source = sum(np.sin(k * phase) / k for k in range(1, 40))
    voice = np.zeros(n)
    for fc, bw, amp in [(650, 120, 1.0), (1100, 150, 0.5), (2500, 250, 0.25)]:
        r = np.exp(-np.pi * bw / rate)
        voice += amp * lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / rate), r * r], source)
    env = np.zeros(n)
    pos = int(0.1 * rate)
    while pos < n:
        length = int(rng.uniform(0.12, 0.3) * rate)
        gap = int(rng.uniform(0.04, 0.2) * rate) + (int(0.4 * rate) if rng.random() < 0.15 else 0)
        syllable = np.hanning(length) ** 0.5 * rng.uniform(0.15, 1.0)
        m = min(length, n - pos)
        env[pos : pos + m] = syllable[:m]
        pos += length + gap
    voice *= env
    return (voice / np.max(np.abs(voice)) * 0.9).astype(np.float32)


def peaky_speech(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Impulse-excited 'speech' whose every pitch period has a sharp peak (~21 dB crest).

    A limiter alone cannot bring this to -16 LUFS under -1 dBTP; it exercises the clipper stage.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 110 + 25 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 2.3 * t)
    cycles = np.cumsum(f0) / rate
    pulses = np.zeros(n)
    pulses[np.nonzero(np.diff(np.floor(cycles)) > 0)[0]] = 1.0
    voice = np.zeros(n)
    for fc, bw, amp in [(700, 90, 1.0), (1200, 110, 0.6), (2600, 160, 0.3)]:
        r = np.exp(-np.pi * bw / rate)
        voice += amp * lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / rate), r * r], pulses)
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.12, 0.3) * rate)
        gap = int(rng.uniform(0.03, 0.25) * rate)
        syllable = np.hanning(length) * rng.uniform(0.3, 1.0)
        m = min(length, n - pos)
        env[pos : pos + m] = syllable[:m]
        pos += length + gap
    voice *= env
    return (voice / np.max(np.abs(voice)) * 0.9).astype(np.float32)


def tone(freq: float, seconds: float, amplitude: float = 0.5, rate: int = RATE) -> np.ndarray:
    """A plain sine."""
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def lufs(samples: np.ndarray, rate: int = RATE) -> float:
    """Integrated loudness straight from pyloudnorm."""
    import pyloudnorm

    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(samples, dtype=np.float64)))


def true_peak(samples: np.ndarray) -> float:
    """True peak in dBTP by 4x oversampling (float64, independent of the code under test)."""
    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float64)
    return float(20 * np.log10(max(np.max(np.abs(x)), np.max(np.abs(resample_poly(x, 4, 1))))))


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    """Frequency of the strongest FFT bin (Hann window, zero-padded to 1 Hz resolution)."""
    x = np.asarray(samples, dtype=np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x, n=rate))
    return float(np.argmax(spectrum))


def read_back(path: Path) -> tuple[np.ndarray, int]:
    """Read a rendered file, asserting the fixed output format: 48 kHz, 16-bit, mono PCM."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (48000, 2, 1)
        assert wav.getcomptype() == "NONE"
    samples, rate = media.read_wav(path)
    return samples, rate


def encode(samples: np.ndarray, path: Path, *, rate: int = RATE, codec_args: list[str] | None = None) -> Path:
    """Encode float samples into any container/codec with our ffmpeg (MP3, 44.1 kHz WAV …)."""
    raw = np.asarray(samples, dtype="<f4").tobytes()
    cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", *(codec_args or []), str(path)]
    subprocess.run(cmd, input=raw, check=True, capture_output=True, timeout=60)
    return path


def load_generator():
    """The audio_assets/generate.py module, imported from its path (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("audio_assets_generate", REPO / "audio_assets" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

