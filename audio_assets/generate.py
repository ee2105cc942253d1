"""Generate the station's default intro/outro jingles, attention tone and filler.

    python audio_assets/generate.py            # writes intro.wav, outro.wav, attention.wav, filler.wav here
    python audio_assets/generate.py --out DIR  # somewhere else (the tests compare the bytes)

Everything is synthesized from numpy arithmetic: no samples, no third-party music, no
randomness, so the output is the same bytes on every run. Format: 48 kHz, 16-bit, mono WAV.
A station replaces any of these with its own files through settings (intro_jingle,
outro_jingle, attention_tone, filler).

The notes stay between ~400 Hz and ~2 kHz on purpose: commune loudspeakers are horn
speakers that reproduce almost nothing below 300 Hz.
"""

from __future__ import annotations

import argparse
import sys
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 48000

# Equal-tempered note frequencies (A4 = 440 Hz).
G4, C5, D5, E5, G5, A5, C6, E6 = 392.00, 523.25, 587.33, 659.26, 783.99, 880.00, 1046.50, 1318.51

#: Intro: a rising C-major arpeggio, then the chord rings out. Its first note (C5) sounds
#: alone for the first 0.24 s, which the tests use to find the intro at the start of an item.
INTRO_NOTES = [(0.00, C5, 1.0), (0.24, E5, 0.9), (0.48, G5, 0.85), (0.72, C6, 0.8), (1.10, E6, 0.45)]
INTRO_CHORD = (1.10, (C5, G5, C6), 0.35)
INTRO_SECONDS = 3.0

#: Outro: the same colours falling back down, ending on C5 with a soft G4 underneath.
OUTRO_NOTES = [(0.00, C6, 0.8), (0.24, G5, 0.85), (0.48, E5, 0.9), (0.72, D5, 0.7), (0.96, C5, 1.0)]
OUTRO_CHORD = (0.96, (G4, E5), 0.3)
OUTRO_SECONDS = 2.5

#: Attention: the classic two-tone (hi-lo) alert, A5/E5 (880/660 Hz), four times.
ATTENTION_TONES = (A5, E5)
ATTENTION_TONE_SECONDS = 0.3
ATTENTION_REPEATS = 4

#: Filler: what airs after a fault (silence on air) before the programme goes on. A calm,
#: slow walk over the C-major pentatonic, one soft bell every FILLER_STEP_S, with a quiet
#: fifth underneath every bar; never silent for long (the silence detector must not fire on it).
FILLER_MELODY = (E5, G5, A5, G5, E5, D5, C5, D5, E5, G5, E5, D5, C5, D5, C5, G4)
FILLER_STEP_S = 1.5
FILLER_SECONDS = 24.0
FILLER_PEAK = 0.86

#: Partials of a soft bell: (frequency ratio, amplitude, decay-time factor). Slightly
#: inharmonic upper partials give the bell colour; they die away faster than the fundamental.
BELL_PARTIALS = [(1.0, 1.0, 1.0), (2.0, 0.32, 0.55), (3.01, 0.12, 0.35), (4.17, 0.06, 0.22), (5.43, 0.03, 0.15)]
BELL_DECAY_S = 0.7
ATTACK_S = 0.004
#: Peak levels chosen so each file measures about -16 LUFS (the station's target) with its
#: true peak under -1 dBTP, so the attention tone can be aired as it is.
JINGLE_PEAK = 0.6
ATTENTION_PEAK = 0.245
END_FADE_S = 0.35


def bell(freq: float, seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """One soft bell note: additive partials, a 4 ms attack, exponential decays."""
    t = np.arange(int(round(seconds * rate))) / rate
    note = np.zeros_like(t)
    for ratio, amp, decay in BELL_PARTIALS:
        note += amp * np.sin(2.0 * np.pi * freq * ratio * t) * np.exp(-t / (BELL_DECAY_S * decay))
    attack = min(len(t), int(ATTACK_S * rate))
    # Raised-cosine attack: a sine starting at full amplitude would click.
    note[:attack] *= np.sin(0.5 * np.pi * np.arange(attack) / attack) ** 2
    return note


def _place(track: np.ndarray, start_s: float, note: np.ndarray, gain: float, rate: int) -> None:
    start = int(round(start_s * rate))
    end = min(len(track), start + len(note))
    track[start:end] += gain * note[: end - start]


def _finish(track: np.ndarray, peak: float, rate: int) -> np.ndarray:
    """Fade the tail to exactly zero and scale to the given peak."""
    fade = int(END_FADE_S * rate)
    track[-fade:] *= np.cos(0.5 * np.pi * np.arange(fade) / fade) ** 2
    track[-1] = 0.0
    return track * (peak / np.max(np.abs(track)))


def _jingle(notes, chord, seconds: float, rate: int) -> np.ndarray:
    track = np.zeros(int(round(seconds * rate)))
    for start, freq, gain in notes:
        _place(track, start, bell(freq, seconds - start, rate), gain, rate)
    start, freqs, gain = chord
    for freq in freqs:
        _place(track, start, bell(freq, seconds - start, rate), gain, rate)
    return _finish(track, JINGLE_PEAK, rate)


def intro(rate: int = SAMPLE_RATE) -> np.ndarray:
    """The intro jingle (~3 s): rising arpeggio on bell tones."""
    return _jingle(INTRO_NOTES, INTRO_CHORD, INTRO_SECONDS, rate)


def outro(rate: int = SAMPLE_RATE) -> np.ndarray:
    """The outro jingle (~2.5 s): falling arpeggio on bell tones."""
    return _jingle(OUTRO_NOTES, OUTRO_CHORD, OUTRO_SECONDS, rate)


def attention(rate: int = SAMPLE_RATE) -> np.ndarray:
    """The attention tone (2.4 s): hi-lo two-tone alert, each tone ramped in and out."""
    n = int(round(ATTENTION_TONE_SECONDS * rate))
    t = np.arange(n) / rate
    ramp = int(0.008 * rate)
    window = np.ones(n)
    window[:ramp] = np.sin(0.5 * np.pi * np.arange(ramp) / ramp) ** 2
    window[n - ramp :] = window[:ramp][::-1]
    tones = []
    for freq in ATTENTION_TONES:
        # A little 2nd and 3rd harmonic makes the tone carry on horn speakers; a pure sine sounds thin.
        tone = np.sin(2 * np.pi * freq * t) + 0.25 * np.sin(4 * np.pi * freq * t) + 0.1 * np.sin(6 * np.pi * freq * t)
        tones.append(tone * window)
    track = np.concatenate(tones * ATTENTION_REPEATS)
    return track * (ATTENTION_PEAK / np.max(np.abs(track)))


def filler(rate: int = SAMPLE_RATE) -> np.ndarray:
    """The station filler (24 s): slow pentatonic bell melody with a soft fifth under each bar."""
    track = np.zeros(int(round(FILLER_SECONDS * rate)))
    for i, freq in enumerate(FILLER_MELODY):
        start = i * FILLER_STEP_S
        _place(track, start, bell(freq, min(3.0, FILLER_SECONDS - start), rate), 1.0, rate)
        if i % 4 == 0:
            for low in (G4, C5):  # not lower: horn speakers reproduce almost nothing below 300 Hz
                _place(track, start, bell(low, min(4.0, FILLER_SECONDS - start), rate), 0.3, rate)
    return _finish(track, FILLER_PEAK, rate)


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write 16-bit mono PCM, atomically, with nothing in the header that varies between runs."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    tmp.replace(path)
    return path


ASSETS = {"intro.wav": intro, "outro.wav": outro, "attention.wav": attention, "filler.wav": filler}


def generate(out_dir: Path) -> list[Path]:
    """Write every asset into ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_wav(out_dir / name, make()) for name, make in ASSETS.items()]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python audio_assets/generate.py [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output directory")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
