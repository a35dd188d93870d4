"""Streaming pitch tracking of a monophonic line: YIN, numba-compiled, causal.

On the shared front end (framing.py: DC blocker, decimation to 8-16 kHz, one frame per 10 ms
hop), each frame gets the YIN analysis (de Cheveigne & Kawahara 2002): the difference function
from autocorrelation and running energies, the cumulative-mean normalised difference (CMND),
the first dip under a threshold, parabolic refinement, and a voicing decision from the CMND
depth and the frame level. f0 from 55 to 1760 Hz.

Real-time contract: `PitchTracker.process` allocates nothing once its outputs have grown to
the largest block it has seen; the kernels are `nogil` and cached.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.framing import FMAX_HZ, FMIN_HZ, HOP_S, FramedTracker, FrameSettings

#: YIN's absolute threshold on the CMND: the first dip under it is taken as the period.
YIN_THRESHOLD = 0.15
#: Without a dip under YIN_THRESHOLD, take the first dip within this of the deepest one.
FALLBACK_MARGIN = 0.1
#: A frame is voiced when its best CMND dip is under this and its level is over SILENCE_DB.
VOICING_CMND = 0.3
SILENCE_DB = -55.0
#: A deeper dip at a period up to this many semitones longer than the first dip under
#: YIN_THRESHOLD is the period: a sampled piano's low notes show a dip a semitone short of it.
NEAR_DIP_SEMITONES = 1.5
#: A period this many semitones below the line's recent register is suspected subharmonic ...
REGISTER_SEMITONES = 14.0
#: ... and replaced by a sub-multiple whose own CMND dip is under this.
SUBMULTIPLE_DIP = 0.5
#: Per-frame decay of the register average (0.99: about a second).
REGISTER_DECAY = 0.99


def yin_lag_range(internal_rate_hz: float) -> tuple[int, int]:
    """The lags (samples) YIN searches: the periods of FMAX_HZ down to FMIN_HZ."""
    return max(2, math.floor(internal_rate_hz / FMAX_HZ)), math.ceil(internal_rate_hz / FMIN_HZ)


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


@numba.njit(cache=True, nogil=True)
def yin_frame_len(tau_max: int) -> int:
    """Samples in a YIN frame: a window spanning the longest period, plus the longest lag."""
    return 2 * tau_max + 1


@numba.njit(cache=True, nogil=True, fastmath=True)
def yin_frame(buf, start, tau_min, tau_max, hop, energy, corr, diff, cmnd):
    """One YIN analysis of buf[start : start + yin_frame_len(tau_max)]: a window of tau_max
    samples (the longest period), and the longest lag.

    Returns (period in samples, refined; best CMND value; power of the latest hop, per
    sample: a short window, so that the dip between re-attacked notes shows).
    `energy` (len >= yin_frame_len(tau_max) + 1), `corr` (float32), `diff` and `cmnd`
    (len >= tau_max + 2) are scratch.
    """
    window = tau_max
    length = yin_frame_len(tau_max)
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
    # The YIN rule: the first dip under the threshold, followed to its local minimum, or the
    # deepest dip within NEAR_DIP_SEMITONES beyond it (a low piano note's shallower dip a
    # semitone short of its period is under the threshold too).
    # Failing that (a weak, perhaps unvoiced frame), the first dip nearly as deep as the
    # deepest: the deepest alone is often a subharmonic when a reverberant tail overlaps.
    best = -1
    for tau in range(tau_min, tau_max + 1):
        if cmnd[tau] < YIN_THRESHOLD:
            while tau + 1 <= tau_max and cmnd[tau + 1] < cmnd[tau]:
                tau += 1
            best = tau
            break
    if best >= 0:  # a deeper dip just beyond it (no octave error lies that near)
        reach = min(tau_max, int(best * 2.0 ** (NEAR_DIP_SEMITONES / 12.0)) + 1)
        for tau in range(best + 1, reach + 1):
            if cmnd[tau] < cmnd[best] and cmnd[tau] <= cmnd[tau - 1] and cmnd[tau] <= cmnd[tau + 1]:
                best = tau
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


@numba.njit(cache=True, nogil=True)
def in_register(period, best_cmnd, tau_min, diff, cmnd, register):
    """Undo YIN's subharmonic errors under overlapping notes, using where the line has been.

    When a reverberant tail overlaps the next note, the mixture's only clean period is the
    two notes' common one, two or three octaves down, and YIN takes it. register[0] follows
    log2 of the period YIN read in clearly periodic frames (~1 s average); a period more than
    REGISTER_SEMITONES longer than that is replaced by the sub-multiple period / k that has a
    dip of its own (CMND under SUBMULTIPLE_DIP) nearest the register, if one lies within an
    octave of it. Returns the period to use.

    The register follows what YIN read, not the replacement: a line that has moved down for
    good (a bassoon's low notes after high ones, which a weak fundamental had read an octave
    up) is then replaced for about half a second at most. Following the replacements, the
    register held itself up, and every low note was read as a partial near it for as long as
    the line stayed low.
    """
    read = math.log2(period)
    if best_cmnd < YIN_THRESHOLD and register[0] == 0.0:
        register[0] = read
    reference = register[0]
    if reference != 0.0 and read - reference > REGISTER_SEMITONES / 12.0:
        best, best_distance = 0, 1.0
        for k in range(2, 9):
            tau = int(round(period / k))
            if tau - 1 < tau_min:
                break
            for t in (tau - 1, tau + 1):
                if cmnd[t] < cmnd[tau]:
                    tau = t
            distance = abs(math.log2(tau) - reference)
            if cmnd[tau] < SUBMULTIPLE_DIP and distance < best_distance:
                best, best_distance = tau, distance
        if best > 0:
            a, b, c = diff[best - 1], diff[best], diff[best + 1]
            curvature = a - 2.0 * b + c
            shift = 0.5 * (a - c) / curvature if curvature > 0.0 else 0.0
            period = best + min(0.5, max(-0.5, shift))
    if best_cmnd < YIN_THRESHOLD:
        register[0] = REGISTER_DECAY * register[0] + (1.0 - REGISTER_DECAY) * read
    return period


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def yin_reading(signal, end, tau_min, tau_max, hop, energy, corr, diff, cmnd, register):
    """PitchTracker's reading of the frame of signal ending at `end`: (period in samples, its
    CMND, level in dBFS of the frame's latest hop)."""
    period, best_cmnd, power = yin_frame(signal, end - yin_frame_len(tau_max), tau_min, tau_max,
                                          hop, energy, corr, diff, cmnd)
    period = in_register(period, best_cmnd, tau_min, diff, cmnd, register)
    return period, best_cmnd, 10.0 * math.log10(power + 1e-20)


@numba.njit(cache=True, nogil=True, inline="always")
def yin_voiced(best_cmnd, level_db):
    """Does a `yin_reading` hear a pitch: a deep enough dip in a frame that is not silent?"""
    return best_cmnd < VOICING_CMND and level_db > SILENCE_DB


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def write_yin_frame(k, period, best_cmnd, level_db, internal_rate, out_f0, out_periodicity,
                    out_level_db, out_voiced):
    """Row k of a tracker's outputs from a `yin_reading`."""
    out_f0[k] = internal_rate / period
    out_periodicity[k] = max(0.0, 1.0 - best_cmnd)
    out_level_db[k] = level_db
    out_voiced[k] = yin_voiced(best_cmnd, level_db)


@numba.njit(cache=True, nogil=True, fastmath=True)
def yin_frames_kernel(signal, first_end, n_frames, hop, tau_min, tau_max, internal_rate,
                      energy, corr, diff, cmnd, register, out_f0, out_periodicity, out_level_db,
                      out_voiced):
    """YIN on n_frames frames of signal, frame k ending at first_end + k * hop."""
    for k in range(n_frames):
        period, best_cmnd, level_db = yin_reading(signal, first_end + k * hop, tau_min, tau_max,
                                                  hop, energy, corr, diff, cmnd, register)
        write_yin_frame(k, period, best_cmnd, level_db, internal_rate, out_f0, out_periodicity,
                        out_level_db, out_voiced)


def yin_scratch(tau_max: int) -> tuple[np.ndarray, ...]:
    """The buffers of `yin_frame` and `in_register` for lags up to tau_max: running energy (over
    the frame, `yin_frame_len`), correlation, difference, normalised difference, and the
    register (log2 of the recent period; 0: none yet)."""
    return (np.zeros(yin_frame_len(tau_max) + 2), np.zeros(tau_max + 3, dtype=np.float32),
            np.zeros(tau_max + 3), np.zeros(tau_max + 3), np.zeros(1))


class PitchTracker(FramedTracker):
    """Streaming f0 of a monophonic line, one frame per hop (see FramedTracker for outputs)."""

    def __init__(self, sample_rate: int, hop_s: float = HOP_S) -> None:
        internal = FrameSettings.for_rate(sample_rate, 0.0, hop_s).internal_rate_hz
        self.tau_min, self.tau_max = yin_lag_range(internal)
        super().__init__(sample_rate, yin_frame_len(self.tau_max) / internal, hop_s)
        self._energy, self._corr, self._diff, self._cmnd, self._register = yin_scratch(self.tau_max)

    @property
    def frame_delay_s(self) -> float:
        """From a reading's timestamp to the sample that completes its frame. YIN compares the
        frame's first tau_max samples with the same span one period later, so what it reads is
        centred half that window (and half a period, short next to it) after the frame's
        start: before the frame's middle, by a quarter of the frame (9 ms)."""
        return (self.settings.frame_len - 0.5 * self.tau_max) / self.settings.internal_rate_hz

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        s = self.settings
        yin_frames_kernel(signal, first_end, n_frames, s.hop, self.tau_min, self.tau_max,
                          s.internal_rate_hz, self._energy, self._corr, self._diff, self._cmnd,
                          self._register, self.f0_hz, self.periodicity, self.level_db, self.voiced)


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
