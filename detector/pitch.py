"""Streaming pitch tracking: YIN on a decimated signal, numba-compiled, causal.

The chain, per input sample: DC blocker -> anti-alias FIR and integer decimation to an internal
rate of 8-16 kHz -> a sliding analysis buffer. Every hop (10 ms) one YIN frame is computed from
the buffer: the difference function from autocorrelation and running energies, the
cumulative-mean normalised difference (CMND), the first dip under a threshold (the YIN rule,
de Cheveigne & Kawahara 2002), parabolic refinement, and a voicing decision from the CMND depth
and the frame level.

Real-time contract: `PitchTracker.process` allocates nothing once its output arrays have grown
to the largest block it has seen; the kernels are `nogil` and cached, and `warm_up()` compiles
or loads them before the first block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

HOP_S = 0.01
FMIN_HZ = 55.0
FMAX_HZ = 1760.0
MAX_INTERNAL_RATE_HZ = 16000.0
#: YIN's absolute threshold on the CMND: the first dip under it is taken as the period.
YIN_THRESHOLD = 0.15
#: Without a dip under YIN_THRESHOLD, take the first dip within this of the deepest one.
FALLBACK_MARGIN = 0.1
#: A frame is voiced when its best CMND dip is under this and its level is over SILENCE_DB.
VOICING_CMND = 0.3
SILENCE_DB = -55.0

# Indices into the tracker's integer state vector.
_HIST_POS, _PHASE, _BUF_POS, _SINCE_HOP, _FILLED, _N_IN = range(6)
# Indices into the float state vector.
_DC_X, _DC_Y = range(2)


@dataclass(frozen=True)
class PitchSettings:
    """Sizes derived from the input rate; all lengths in internal samples unless named _s."""

    input_rate_hz: int
    decimation: int
    internal_rate_hz: float
    hop: int
    tau_min: int
    tau_max: int
    window: int

    @classmethod
    def for_rate(cls, sample_rate: int, hop_s: float = HOP_S) -> "PitchSettings":
        if not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample rate {sample_rate} Hz is outside 8000-192000 Hz")
        decimation = max(1, math.ceil(sample_rate / MAX_INTERNAL_RATE_HZ))
        internal = sample_rate / decimation
        tau_max = math.ceil(internal / FMIN_HZ)
        return cls(
            input_rate_hz=sample_rate,
            decimation=decimation,
            internal_rate_hz=internal,
            hop=max(1, round(hop_s * internal)),
            tau_min=max(2, math.floor(internal / FMAX_HZ)),
            tau_max=tau_max,
            window=tau_max,
        )

    @property
    def hop_s(self) -> float:
        return self.hop / self.internal_rate_hz

    @property
    def buffer_len(self) -> int:
        return self.window + self.tau_max + 1

    @property
    def frame_delay_s(self) -> float:
        """From a frame's centre (its timestamp) to the sample that completes it."""
        return 0.5 * self.buffer_len / self.internal_rate_hz


def lowpass_taps(decimation: int, taps_per_phase: int = 16) -> np.ndarray:
    """Windowed-sinc anti-alias filter for decimating by `decimation` (unity DC gain)."""
    if decimation == 1:
        return np.ones(1, dtype=np.float32)
    n = taps_per_phase * decimation + 1
    cutoff = 0.45 / decimation  # in cycles per input sample; leaves a guard band under Nyquist
    k = np.arange(n) - (n - 1) / 2
    taps = 2 * cutoff * np.sinc(2 * cutoff * k) * np.kaiser(n, 8.0)
    return (taps / taps.sum()).astype(np.float32)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _autocorrelation(buf, start, window, tau_max, out):
    """out[tau] = sum_j buf[start + j] * buf[start + j + tau], j < window, tau <= tau_max + 1.

    This loop is most of the tracker's cost. It indexes slices (not buf[start + j], whose
    negative-index check stops vectorisation) and stays in float32: each cut the time ~20x.
    """
    head = buf[start:start + window]
    for tau in range(tau_max + 2):
        lagged = buf[start + tau:start + tau + window]
        acc = np.float32(0.0)
        for j in range(window):
            acc += head[j] * lagged[j]
        out[tau] = acc


@numba.njit(cache=True, nogil=True, fastmath=True)
def _yin_frame(buf, start, window, tau_min, tau_max, hop, energy, corr, diff, cmnd):
    """One YIN analysis of buf[start : start + window + tau_max + 1].

    Returns (period in samples, refined; best CMND value; power of the latest hop, per
    sample: a short window, so that the dip between re-attacked notes shows).
    `energy` (len >= window + tau_max + 2), `corr` (float32), `diff` and `cmnd`
    (len >= tau_max + 2) are scratch.
    """
    length = window + tau_max + 1
    energy[0] = 0.0
    for j in range(length):
        v = buf[start + j]
        energy[j + 1] = energy[j] + v * v
    e0 = energy[window] - energy[0]
    _autocorrelation(buf, start, window, tau_max, corr)
    running = 0.0
    cmnd[0] = 1.0
    diff[0] = 0.0
    for tau in range(1, tau_max + 2):
        d = e0 + (energy[tau + window] - energy[tau]) - 2.0 * corr[tau]
        if d < 0.0:
            d = 0.0
        diff[tau] = d
        running += d
        cmnd[tau] = d * tau / running if running > 0.0 else 1.0
    # The YIN rule: the first dip under the threshold, followed to its local minimum.
    # Failing that (a weak, perhaps unvoiced frame), the first dip nearly as deep as the
    # deepest: the deepest alone is often a subharmonic when a reverberant tail overlaps.
    best = -1
    for tau in range(tau_min, tau_max + 1):
        if cmnd[tau] < YIN_THRESHOLD:
            while tau + 1 <= tau_max and cmnd[tau + 1] < cmnd[tau]:
                tau += 1
            best = tau
            break
    if best < 0:
        deepest = tau_min
        for tau in range(tau_min + 1, tau_max + 1):
            if cmnd[tau] < cmnd[deepest]:
                deepest = tau
        best = deepest
        for tau in range(tau_min, deepest):
            if cmnd[tau] <= cmnd[tau - 1] and cmnd[tau] <= cmnd[tau + 1] and \
                    cmnd[tau] < cmnd[deepest] + FALLBACK_MARGIN:
                best = tau
                break
    # Parabolic refinement on the raw difference function, as in YIN's step 5. A short period
    # is refined at a multiple of it instead (the dip near k * period), which divides the
    # interpolation error by k: high notes would otherwise be off by 10+ cents.
    # The search stays within half a period of k * best, so it cannot land on a neighbour dip.
    multiple = max(1, min(8, best - 1, (tau_max - 1) // best))
    centre = best
    if multiple > 1:
        centre = multiple * best
        reach = (multiple + 1) // 2
        for tau in range(max(1, centre - reach), min(tau_max, centre + reach) + 1):
            if diff[tau] < diff[centre]:
                centre = tau
    a, b, c = diff[centre - 1], diff[centre], diff[centre + 1]
    curvature = a - 2.0 * b + c
    shift = 0.5 * (a - c) / curvature if curvature > 0.0 else 0.0
    if shift > 0.5:
        shift = 0.5
    elif shift < -0.5:
        shift = -0.5
    period = (centre + shift) / multiple
    return period, cmnd[best], (energy[length] - energy[length - hop]) / hop


@numba.njit(cache=True, nogil=True, fastmath=True)
def track_kernel(x, taps, decimation, hop, window, tau_min, tau_max, internal_rate,
                 istate, fstate, history, buf, energy, corr, diff, cmnd,
                 out_f0, out_periodicity, out_level_db, out_voiced, out_end_sample):
    """Run the whole chain over input block x (mono float32); write one row per finished frame.

    istate/fstate carry the stream between calls; history (2 * len(taps)) and buf
    (2 * buffer length) are circular buffers written twice so the latest samples are contiguous.
    Returns the number of frames written. out_end_sample gets, for each frame, the count of
    input samples consumed when it was complete: the detector's clock for that frame.
    """
    n_taps = taps.shape[0]
    length = window + tau_max + 1
    n_frames = 0
    for i in range(x.shape[0]):
        # DC blocker (a one-pole high-pass near 10 Hz) so offsets and rumble do not bias YIN.
        v = x[i]
        y = v - fstate[_DC_X] + 0.9985 * fstate[_DC_Y]
        fstate[_DC_X] = v
        fstate[_DC_Y] = y
        pos = istate[_HIST_POS]
        history[pos] = y
        history[pos + n_taps] = y
        pos += 1
        if pos == n_taps:
            pos = 0
        istate[_HIST_POS] = pos
        istate[_N_IN] += 1
        istate[_PHASE] += 1
        if istate[_PHASE] < decimation:
            continue
        istate[_PHASE] = 0
        latest = history[pos:pos + n_taps]
        acc = np.float32(0.0)
        for k in range(n_taps):
            acc += taps[k] * latest[k]
        bpos = istate[_BUF_POS]
        buf[bpos] = acc
        buf[bpos + length] = acc
        bpos += 1
        if bpos == length:
            bpos = 0
        istate[_BUF_POS] = bpos
        if istate[_FILLED] < length:
            istate[_FILLED] += 1
        istate[_SINCE_HOP] += 1
        if istate[_SINCE_HOP] < hop:
            continue
        istate[_SINCE_HOP] = 0
        if istate[_FILLED] < length:
            continue
        period, best_cmnd, power = _yin_frame(buf, bpos, window, tau_min, tau_max, hop, energy, corr, diff, cmnd)
        level_db = 10.0 * math.log10(power + 1e-20)
        out_f0[n_frames] = internal_rate / period
        out_periodicity[n_frames] = max(0.0, 1.0 - best_cmnd)
        out_level_db[n_frames] = level_db
        out_voiced[n_frames] = best_cmnd < VOICING_CMND and level_db > SILENCE_DB
        out_end_sample[n_frames] = istate[_N_IN]
        n_frames += 1
    return n_frames


class PitchTracker:
    """Streaming f0 estimates, one frame per hop, from mono audio blocks of any size.

    After `process(block)` returns n, the first n rows of `f0_hz`, `periodicity` (0-1, the
    voicing confidence), `level_db` (power of the frame's latest hop, dBFS), `voiced` and `end_sample` hold the
    frames finished during that block. A frame's timestamp (its window's centre) is
    end_sample / sample_rate - settings.frame_delay_s.
    """

    def __init__(self, sample_rate: int, hop_s: float = HOP_S) -> None:
        self.settings = PitchSettings.for_rate(sample_rate, hop_s)
        self.sample_rate = sample_rate
        self._taps = lowpass_taps(self.settings.decimation)
        self._istate = np.zeros(6, dtype=np.int64)
        self._fstate = np.zeros(2, dtype=np.float64)
        self._history = np.zeros(2 * len(self._taps), dtype=np.float32)
        length = self.settings.buffer_len
        self._buf = np.zeros(2 * length, dtype=np.float32)
        self._energy = np.zeros(length + 2, dtype=np.float64)
        self._corr = np.zeros(self.settings.tau_max + 3, dtype=np.float32)
        self._diff = np.zeros(self.settings.tau_max + 3, dtype=np.float64)
        self._cmnd = np.zeros(self.settings.tau_max + 3, dtype=np.float64)
        self._grow(64)

    @property
    def hop_s(self) -> float:
        return self.settings.hop_s

    def _grow(self, n_frames: int) -> None:
        self.f0_hz = np.zeros(n_frames, dtype=np.float64)
        self.periodicity = np.zeros(n_frames, dtype=np.float64)
        self.level_db = np.zeros(n_frames, dtype=np.float64)
        self.voiced = np.zeros(n_frames, dtype=np.bool_)
        self.end_sample = np.zeros(n_frames, dtype=np.int64)

    def max_frames(self, n_samples: int) -> int:
        """The most frames a block of n_samples can finish."""
        s = self.settings
        return n_samples // (s.decimation * s.hop) + 2

    def process(self, block: np.ndarray) -> int:
        """Consume a mono float32 block; return the number of frames finished."""
        # Real-time path: no allocation once the outputs fit the largest block seen.
        needed = self.max_frames(block.shape[0])
        if needed > self.f0_hz.shape[0]:
            self._grow(needed)
        s = self.settings
        return track_kernel(
            block, self._taps, s.decimation, s.hop, s.window, s.tau_min, s.tau_max,
            s.internal_rate_hz, self._istate, self._fstate, self._history, self._buf,
            self._energy, self._corr, self._diff, self._cmnd, self.f0_hz, self.periodicity, self.level_db,
            self.voiced, self.end_sample,
        )

    def frame_times_s(self, n_frames: int) -> np.ndarray:
        """Timestamps (window centres, seconds) of the first n_frames rows."""
        return self.end_sample[:n_frames] / self.sample_rate - self.settings.frame_delay_s


def track_pitch(audio: np.ndarray, sample_rate: int, block_size: int = 4096
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pitch-track a whole mono signal with the streaming tracker (offline convenience).

    Returns (times_s, f0_hz, periodicity, voiced), one entry per 10 ms frame.
    """
    tracker = PitchTracker(sample_rate)
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    parts: list[tuple[np.ndarray, ...]] = []
    for start in range(0, audio.shape[0], block_size):
        n = tracker.process(audio[start:start + block_size])
        parts.append((tracker.frame_times_s(n), tracker.f0_hz[:n].copy(),
                      tracker.periodicity[:n].copy(), tracker.voiced[:n].copy()))
    if not parts:
        empty = np.zeros(0)
        return empty, empty, empty, np.zeros(0, dtype=bool)
    times, f0, periodicity, voiced = (np.concatenate(column) for column in zip(*parts))
    return times, f0, periodicity, voiced
