"""Rendering a program item file: level the jingles, assemble, normalize, write — as a stream.

The item (intro, gap, speech, gap, outro) is never held whole: it is produced chunk by chunk
from the speech file on disk and the two (short) jingles, each chunk faded where a piece starts
or ends. Each piece stays at its own rate until the very end: the speech at the engine's (22.05
kHz for espeak-ng), the jingles at the station's. Gain, limiter and meters work on a piece at its
rate; a piece at another rate than the station's is resampled once, by libsoxr on another core, as
its samples are written (audio/resample.py); the loudness is gated over the blocks of every rate
together. Loudness normalization runs in passes over that stream:

1. a probe: one read keeps the item's block figures (audio/probe.py: each 32-sample block's
   peak and K-weighted energy; the whole item when it is short, one second in four of a long
   speech, kept by the speech stage as it made the speech when it can: then not read at all)
   and the loudness the limiter would leave at each gain tried is predicted from them;
2. the write: gain and the brick-wall limiter chunk by chunk (its state carried across
   chunks), 16-bit samples written as they come, loudness and true peak measured on those
   samples (a resampled piece's before its resampling, the true peak at 8 points per sample:
   audio/item_sink.py); repeated with a corrected gain (secant) only when it lands more than
   ``_TOLERANCE_LU`` off, and driven into a clipper first when the limiter alone cannot make
   peaky speech loud enough (as loudness.normalize_loudness does);
3. only if an inter-sample peak slipped past the limiter: one static trim pass over the file.

The best write is renamed over ``out_path`` (fsync, rename): never a half-written item.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from ..exceptions import AudioError
from .assets import builtin_asset
from .files import _is_plain_wav, load_audio
from .loudness import _CLIP_ENGAGE_LU, _MAX_EXTRA_GAIN_DB, _TRUE_PEAK_MARGIN_DB, FLOOR_DB, LIMITER_HEADROOM_DB
from .loudness import _as_mono, _from_db, _integrated_lufs
from .item_sink import ItemSink, Written
from .probe import SAMPLE_BLOCK_S, WHOLE_S, BlockProfile, Sample, combined_lufs, sample_every
from .stream import CHUNK_FRAMES, BlockMeter, Lane, StreamLimiter

Progress = Callable[[float], None]

#: A write landing this close to the target is kept (as loudness.normalize_loudness; the station promises ±0.5 LU).
_TOLERANCE_LU = 0.1
#: Write passes at most (each one reads and writes the whole item once).
_MAX_WRITES = 4
#: When the first predicted gain is on target, a second point this far below gives the slope.
_PROBE_STEP_DB = 1.0
#: Predictions (a few milliseconds each, no read) until one lands this close to the target.
_PROBE_STEPS = 8
_PROBE_TOLERANCE_LU = 0.01


@dataclass(frozen=True)
class ItemInfo:
    """What was written: the file, its length and its measured loudness and true peak."""

    path: Path
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float


def render_item(
    speech_path: Path, out_path: Path, *, settings, jingles: bool = True, speech_lufs: float | None = None,
    speech_sample: Sample | None = None, copy_to: Path | None = None,
    progress: Progress | None = None, chunk_frames: int = CHUNK_FRAMES,
) -> ItemInfo:
    """Render speech (any format, any rate) into a program item WAV at ``out_path``.

    Intro/outro come from ``settings.intro_jingle``/``outro_jingle`` or the built-in ones;
    each jingle is first brought to the speech's loudness (``speech_lufs`` when the caller
    knows it, e.g. from the speech cache's sidecar, else measured), so a station's own
    (often much louder) jingle does not push the speech down. The whole item is then
    normalized to ``settings.target_lufs`` / ``settings.true_peak_dbtp`` and written
    atomically as 16-bit mono at ``settings.sample_rate``. The figures returned are those
    of the samples written (what reading the file back gives). ``speech_sample``: the probe's
    sample of the speech when the caller kept it as the speech was made (probe.SampleCollector):
    the probe then does not read the speech. ``copy_to``: a second file the item is installed
    at too (fsync, rename), written alongside it, not copied after. Memory stays flat whatever
    the length: the item is processed ``chunk_frames`` at a time. ``progress`` is called
    with the fraction done, 0..1, never decreasing. Raises AudioError when an input cannot
    be read.
    """
    rate = settings.sample_rate
    out_path = Path(out_path)
    reporter = _Reporter(progress)
    with tempfile.TemporaryDirectory(prefix="render-", dir=_scratch_dir(out_path)) as scratch:
        speech_file = _as_plain_wav(Path(speech_path), rate, Path(scratch))
        speech = _WavPiece(speech_file, fade_ms=settings.fade_ms)
        if speech.frames == 0:
            path = str(speech_path)
            raise AudioError(f"Tệp âm thanh không có dữ liệu: {path} / no audio in file", path=path)
        pieces: list[_Piece] = []
        if jingles:
            if speech_lufs is None:
                speech_lufs = _measure_piece(speech, chunk_frames)
            intro = load_audio(settings.intro_jingle or builtin_asset("intro"), sample_rate=rate)
            outro = load_audio(settings.outro_jingle or builtin_asset("outro"), sample_rate=rate)
            if speech_lufs is not None and speech_lufs > FLOOR_DB:
                intro = _match_loudness(intro, rate, speech_lufs)
                outro = _match_loudness(outro, rate, speech_lufs)
            gap = _frames(settings.jingle_gap_ms, rate)
            fade = _frames(settings.fade_ms, rate)
            if intro.size:
                pieces += [_ArrayPiece(intro, fade, rate), _Silence(gap, rate)]
            pieces.append(speech)
            if outro.size:
                pieces += [_Silence(gap, rate), _ArrayPiece(outro, fade, rate)]
        else:
            pieces.append(speech)
        item = _Item(pieces, chunk_frames)
        kept = speech_sample if speech_sample is not None and _sample_fits(speech_sample, speech) else None
        normalizer = _StreamNormalizer(item, settings, Path(scratch), reporter, speech_lufs, {speech: kept} if kept else {},
                                       copy_to=None if copy_to is None else Path(copy_to))
        best = normalizer.run()
        try:
            _install(best.path, out_path)
            if best.copy is not None:
                _install(best.copy, Path(copy_to))
        finally:
            if best.copy is not None:
                best.copy.unlink(missing_ok=True)  # left only when its install failed
    reporter(1.0)
    return ItemInfo(path=out_path, duration_s=best.frames / rate, integrated_lufs=best.lufs,
                    true_peak_dbtp=best.true_peak)


# ------------------------------------------------------------------ the item as a stream
class _Piece:
    frames: int
    rate: int  # its samples per second (the speech keeps the engine's)

    def read(self, start: int, count: int) -> np.ndarray:  # pragma: no cover - interface
        """Frames start .. start+count (clipped to the piece), float32, faded as the piece is."""
        raise NotImplementedError

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        for start in range(0, self.frames, size):
            yield self.read(start, size)


class _Silence(_Piece):
    def __init__(self, frames: int, rate: int) -> None:
        self.frames = frames
        self.rate = rate

    def read(self, start: int, count: int) -> np.ndarray:
        return np.zeros(max(0, min(count, self.frames - start)), np.float32)


class _ArrayPiece(_Piece):
    """A short piece held in memory (a jingle), faded like assemble.apply_fades."""

    def __init__(self, samples: np.ndarray, fade_frames: int, rate: int) -> None:
        from .assemble import apply_fades

        self.samples = apply_fades(np.nan_to_num(np.asarray(samples, np.float32)), fade_frames)
        self.frames = len(self.samples)
        self.rate = rate

    def read(self, start: int, count: int) -> np.ndarray:
        return self.samples[start : start + count]


class _WavPiece(_Piece):
    """The speech, read from its 16-bit WAV a chunk at a time at the file's own rate, faded in
    and out over ``fade_ms`` at its ends."""

    def __init__(self, path: Path, *, fade_ms: float = 0.0) -> None:
        self.path = path
        with wave.open(str(path), "rb") as wav:
            self.frames = wav.getnframes()
            self.channels = wav.getnchannels()
            self.rate = wav.getframerate()
        n = min(_frames(fade_ms, self.rate), self.frames // 2)
        self._ramp = (np.sin(0.5 * np.pi * np.arange(n) / n).astype(np.float32) ** 2) if n > 0 else None
        self._wav: wave.Wave_read | None = None

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        with wave.open(str(self.path), "rb") as wav:
            self._wav = wav
            try:
                yield from super().chunks(size)
            finally:
                self._wav = None

    def read(self, start: int, count: int) -> np.ndarray:
        count = max(0, min(count, self.frames - start))
        if count == 0:
            return np.zeros(0, np.float32)
        if self._wav is None:
            with wave.open(str(self.path), "rb") as wav:
                return self._read_from(wav, start, count)
        return self._read_from(self._wav, start, count)

    def _read_from(self, wav: wave.Wave_read, start: int, count: int) -> np.ndarray:
        if wav.tell() != start:
            wav.setpos(start)
        x = np.frombuffer(wav.readframes(count), dtype="<i2").astype(np.float32) / np.float32(32768.0)
        if self.channels > 1:
            x = x[: len(x) - len(x) % self.channels].reshape(-1, self.channels).mean(axis=1)
        ramp = self._ramp
        if ramp is not None:
            n, end = len(ramp), start + len(x)
            if start < n:  # fade in
                k = min(end, n)
                x[: k - start] *= ramp[start:k]
            if end > self.frames - n:  # fade out
                lo = max(start, self.frames - n)
                x[lo - start :] *= ramp[::-1][lo - (self.frames - n) : end - (self.frames - n)]
        return x


class _Item:
    """The pieces one after another, each re-readable in chunks of about ``size`` frames."""

    def __init__(self, pieces: list[_Piece], size: int) -> None:
        self.pieces = pieces
        self.size = max(1, int(size))
        self.seconds = sum(p.frames / p.rate for p in pieces)


def _slope(g0: float, l0: float, g1: float, l1: float) -> float:
    """LU gained per dB of gain between two (gain, loudness) points, kept in 0.1 … 1 (under the
    limiter more gain buys less loudness, never more)."""
    return min(1.0, max(0.1, (l1 - l0) / (g1 - g0)))


def _sampled_chunks(piece: _Piece, block: int, every: int, size: int) -> Iterator[np.ndarray]:
    """Only blocks 0, every, 2·every … of ``block`` frames of the piece (a probe's sample), in chunks."""
    for first in range(0, piece.frames, block * every):
        for start in range(first, min(first + block, piece.frames), size):
            yield piece.read(start, min(size, first + block - start))


# --------------------------------------------------------------------- normalization
class _StreamNormalizer:
    def __init__(self, item: _Item, settings, scratch: Path, reporter: _Reporter, estimate: float | None,
                 kept: dict | None = None, *, copy_to: Path | None = None) -> None:
        self.item = item
        self.copy_to = copy_to  # every write makes its copy beside this path (ItemSink's copy_path)
        self.kept = kept or {}  # piece → its probe sample, kept as it was made (not read again)
        self.rate = settings.sample_rate
        self.target = settings.target_lufs
        self.ceiling = settings.true_peak_dbtp
        self.limiter_ceiling = settings.true_peak_dbtp - LIMITER_HEADROOM_DB
        self.scratch = scratch
        self.report = reporter
        self.estimate = estimate
        # progress (in seconds of audio): the probe's read (about a quarter of a long item), one write
        self._work = max(1e-3, item.seconds) * (1.25 if item.seconds > WHOLE_S else 2.0)
        self._done = 0.0

    def _advance(self, frames: int, rate: int) -> None:
        self._done += frames / rate
        self.report(min(0.99, self._done / self._work))

    def run(self) -> Written:
        """The best write (the others removed: their files and copies, also when one fails)."""
        writes: list[Written] = []
        try:
            return self._run(writes)
        except BaseException:
            for written in writes:
                _remove(written)
            raise

    def _run(self, writes: list[Written]) -> Written:
        unity, probes = self._probe()
        if unity is None:  # silence (below the gate): only make stray peaks respect the ceiling
            writes.append(self._write(0.0, clip=False, limit=False))
            return writes[-1]
        plain = self.target - unity
        cap = plain + _MAX_EXTRA_GAIN_DB
        # the secant through the two probe points: the gain the limiter lets reach the target. Its
        # slope also corrects the first write (a predicted point and a measured one at nearly the
        # same gain would give a slope of noise)
        next_gain, previous, probe_slope = plain, None, 1.0
        if len(probes) == 2 and all(level is not None for _, level in probes):
            (g0, l0), (g1, l1) = probes
            probe_slope = _slope(g0, l0, g1, l1)
            next_gain = g1 + (self.target - l1) / probe_slope
        for clip in (False, True):
            for _ in range(_MAX_WRITES // 2 if clip else _MAX_WRITES):
                next_gain = min(next_gain, cap)
                done = self._write(next_gain, clip=clip)
                writes.append(done)
                if abs(done.error) <= _TOLERANCE_LU:
                    break
                achieved = self.target - done.error
                slope = probe_slope
                if previous is not None and done.gain_db != previous[0]:
                    slope = _slope(previous[0], previous[1], done.gain_db, achieved)
                previous = (done.gain_db, achieved)
                stepped = min(done.gain_db + done.error / slope, cap)
                if stepped == done.gain_db:
                    break  # at the gain cap
                next_gain = stepped
            best = min(writes, key=lambda w: abs(w.error))
            if best.error <= _CLIP_ENGAGE_LU or self._done_clipping(writes):
                break
            next_gain, previous = best.gain_db, None  # drive the clipper from the best limiter-only gain
        best = min(writes, key=lambda w: abs(w.error))
        for other in writes:
            if other is not best:
                _remove(other)
        return best

    @staticmethod
    def _done_clipping(writes: list[Written]) -> bool:
        return any(w.clip for w in writes)

    def _probe(self) -> tuple[float | None, list[tuple[float, float | None]]]:
        """The item's loudness at unity gain, and two (gain, loudness after the limiter) points,
        the second at the gain predicted to reach the target.

        One read keeps the block figures the limiter and the meter need (probe.BlockProfile);
        every gain tried after that is a prediction from them, not another pass. In an item longer
        than a minute, a piece over a minute long (the speech) is read on one second in four,
        each of its blocks counted four times (and, when the speech's loudness is known, brought
        to it), or that sample is taken as the speech stage kept it; the jingles and gaps are read
        whole."""

        size = self.item.size
        wholes: dict[int, BlockProfile] = {}  # the pieces read whole, one profile per rate
        samples: dict[int, tuple[BlockProfile, list[int]]] = {}  # the long pieces' samples: profile, [frames]
        if self.item.seconds > WHOLE_S:
            long_pieces = [p for p in self.item.pieces if p.frames > WHOLE_S * p.rate]
            long_seconds = sum(p.frames / p.rate for p in long_pieces)
            # one second in four, fewer on a very long item: the sample's figures (and the
            # predictions' arrays) stay under MAX_SAMPLE_S of audio, so memory stays flat
            every = sample_every(long_seconds)
        else:
            long_pieces = []
        rates = [p.rate for p in long_pieces]
        for piece in self.item.pieces:
            kept = self.kept.get(piece)
            if piece in long_pieces and kept is not None and kept.every == every and rates.count(piece.rate) == 1:
                samples[piece.rate] = (kept.profile, [kept.frames, kept.sampled])  # sampled as it was made
                self._advance(kept.sampled, piece.rate)
            elif piece in long_pieces:
                sample, counts = samples.setdefault(piece.rate, (BlockProfile(piece.rate), [0, 0]))
                counts[0] += piece.frames
                for chunk in _sampled_chunks(piece, int(SAMPLE_BLOCK_S * piece.rate), every, size):
                    sample.add(chunk)
                    counts[1] += len(chunk)
                    self._advance(len(chunk), piece.rate)
            else:
                whole = wholes.setdefault(piece.rate, BlockProfile(piece.rate))
                for chunk in piece.chunks(size):
                    whole.add(chunk)
                    self._advance(len(chunk), piece.rate)
        parts = [(whole, 1.0, 0.0) for whole in wholes.values()]
        for sample, (frames, sampled) in samples.values():
            offset = 0.0
            sample_unity = sample.integrated_lufs()
            if self.estimate is not None and self.estimate > FLOOR_DB and sample_unity is not None:
                # the long piece is the speech, whose loudness over its whole length is known (its
                # sidecar): the sample is brought to it, so only the limiter's share of the loss
                # comes from the sample (it varies less from stretch to stretch than the level)
                offset = self.estimate - sample_unity
            parts.append((sample, frames / max(1, sampled), offset))
        unity = combined_lufs(parts, None, ceiling_db=self.limiter_ceiling)
        if unity is None:
            return None, []

        def predict(gain_db: float) -> float | None:
            return combined_lufs(parts, gain_db, ceiling_db=self.limiter_ceiling)

        cap = self.target - unity + _MAX_EXTRA_GAIN_DB
        gain = self.target - unity
        points = [(gain, predict(gain))]
        slope = 1.0
        for _ in range(_PROBE_STEPS):
            g1, l1 = points[-1]
            if l1 is None or abs(self.target - l1) <= _PROBE_TOLERANCE_LU:
                break
            if len(points) > 1 and points[-2][1] is not None and points[-2][0] != g1:
                g0, l0 = points[-2]
                slope = _slope(g0, l0, g1, l1)
            step = min(g1 + (self.target - l1) / slope, cap)
            if step == g1:
                break  # at the gain cap
            points.append((step, predict(step)))
        if len(points) == 1:  # on target at once: a second point one step below gives the slope
            points.insert(0, (gain - _PROBE_STEP_DB, predict(gain - _PROBE_STEP_DB)))
        return unity, points[-2:]

    def _copy_part(self) -> Path | None:
        if self.copy_to is None:
            return None
        return self.copy_to.with_name(f"{self.copy_to.name}.{secrets.token_hex(4)}.part")

    def _write(self, gain_db: float, *, clip: bool, limit: bool = True) -> Written:
        path = self.scratch / f"pass-{secrets.token_hex(4)}.wav.part"
        ceiling_lin = np.float32(_from_db(self.ceiling - _TRUE_PEAK_MARGIN_DB))
        gain = np.float32(_from_db(gain_db))
        # the clipper (hard, at the limiter's ceiling, as pedalboard.Clipping was) only when engaged
        clip_lin = np.float32(_from_db(self.limiter_ceiling)) if clip else None
        sink = ItemSink(path, self.rate, self.ceiling, copy_path=self._copy_part())
        limiter: StreamLimiter | None = None
        segment_rate = None
        with sink, Lane() as lane:  # gain and limiter here; quantize, meter and write on the lane
            for piece in self.item.pieces:
                if piece.rate != segment_rate:  # a stretch at another rate: a limiter of its own
                    if limiter is not None:
                        lane.submit(sink.add, limiter.flush())
                    segment_rate = piece.rate
                    lane.submit(sink.segment, segment_rate)
                    if limit:
                        limiter = StreamLimiter(sample_rate=segment_rate, ceiling_db=self.limiter_ceiling)
                for chunk in piece.chunks(self.item.size):
                    y = chunk * gain
                    if clip_lin is not None:
                        y = np.clip(y, -clip_lin, clip_lin)
                    if limiter is not None:
                        y = limiter.process(y)
                    else:
                        y = np.clip(y, -ceiling_lin, ceiling_lin)
                    lane.submit(sink.add, y)
                    self._advance(len(chunk), piece.rate)
            if limiter is not None:
                lane.submit(sink.add, limiter.flush())
        written = sink.result(gain_db, clip, self.target)
        limit_db = self.ceiling - _TRUE_PEAK_MARGIN_DB
        if written.true_peak > limit_db:  # an inter-sample peak got past the limiter: trim statically
            written = self._trim(written, limit_db - written.true_peak)
        return written

    def _trim(self, written: Written, trim_db: float) -> Written:
        path = self.scratch / f"trim-{secrets.token_hex(4)}.wav.part"
        scale = np.float32(_from_db(trim_db))
        sink = ItemSink(path, self.rate, self.ceiling, copy_path=self._copy_part())
        try:
            with sink, Lane() as lane:
                for chunk in _WavPiece(written.path).chunks(self.item.size):
                    lane.submit(sink.add, chunk * scale)
        finally:
            _remove(written)
        return sink.result(written.gain_db + trim_db, written.clip, self.target)


# ------------------------------------------------------------------------- helpers
class _Reporter:
    """Calls ``progress`` with a fraction that never goes down, and only when it moved."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if self._progress is None:
            return
        fraction = min(1.0, max(self._last, float(fraction), 0.0))
        if fraction > self._last + 0.005 or (fraction == 1.0 and self._last < 1.0):
            self._last = fraction
            self._progress(fraction)


def _scratch_dir(out_path: Path) -> Path:
    # next to the output: the final rename stays on one file system
    out_path.parent.mkdir(parents=True, exist_ok=True)
    return out_path.parent


def _as_plain_wav(source: Path, rate: int, scratch: Path) -> Path:
    """The speech as a 16-bit WAV: the file itself when it is one, at whatever rate (our speech
    renders, at the engine's), else converted by ffmpeg to ``rate`` straight to a scratch file
    (nothing decoded into memory)."""
    if not source.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {source} / audio file not found", path=str(source))
    if _is_plain_wav(source, None):
        return source
    out = scratch / "speech.wav.part"  # .part: a crash leaves nothing remove_stale_parts would keep
    cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source), "-vn",
           "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-f", "wav", str(out)]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"Không chạy được ffmpeg để giải mã {source}: {exc}") from exc
    if run.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
        reason = run.stderr.decode("utf-8", "replace").strip().splitlines()
        why = reason[-1] if reason else "không có dữ liệu âm thanh"
        raise AudioError(f"Không giải mã được {source}: {why}", path=str(source))
    return out


def _sample_fits(sample: Sample, speech: _Piece) -> bool:
    """The kept sample is this speech's: the same rate and length (else the probe reads it)."""
    return sample.profile.sample_rate == speech.rate and sample.frames == speech.frames


def _measure_piece(piece: _Piece, size: int) -> float | None:
    meter = BlockMeter(piece.rate)
    for chunk in piece.chunks(size):
        meter.add(chunk)
    return meter.integrated_lufs()


def _remove(written: Written) -> None:
    """A write that is not kept: its file and its copy."""
    written.path.unlink(missing_ok=True)
    if written.copy is not None:
        written.copy.unlink(missing_ok=True)


def _install(part: Path, out_path: Path) -> None:
    """Flush the finished file, rename it over ``out_path`` and flush the rename."""
    try:
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, out_path)
        dir_fd = os.open(out_path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp âm thanh {out_path}: {exc.strerror or exc}", path=str(out_path)) from exc


def _frames(ms: int | float, sample_rate: int) -> int:
    return int(round(ms * sample_rate / 1000.0))


def _match_loudness(jingle: np.ndarray, sample_rate: int, reference_lufs: float) -> np.ndarray:
    """Plain gain so the jingle is as loud as the speech; its peaks are left to the final limiter."""
    lufs = _integrated_lufs(_as_mono(jingle), sample_rate)  # its loudness only: peaks are the limiter's
    if lufs is None:
        return jingle
    return (jingle * 10.0 ** ((reference_lufs - lufs) / 20.0)).astype(np.float32)
