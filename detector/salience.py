"""Predominant melody for ensembles: harmonic-sum salience with continuity, streaming.

A monophonic tracker (YIN) reads a melody under chords and bass badly: the mixture has no
single period. This tracker follows the idea behind Melodia (Salamon & Gomez 2012) online:
per 10 ms frame (64 ms Hann window on the shared 8-16 kHz front end), the spectral peaks vote
for every f0 of which they could be a harmonic (weight alpha**(h - 1) for harmonic h, spread
over a semitone with a cos^2 kernel) on a 10-cent grid from 55 to 1760 Hz. The melody is the
most salient f0, kept on the line it was following while that line stays nearly as salient
(continuity is what makes it a melody rather than whichever note is loudest this instant).
Its confidence is the share of the spectral peak energy its harmonics explain.

Real-time contract: numba kernels, preallocated buffers, no allocation per hop.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.fft import RealFft, magnitude_spectrum
from detector.framing import FMAX_HZ, FMIN_HZ, FramedTracker
from detector.pitch import VOICING_CMND, yin_frame, in_register, yin_lag_range

FRAME_S = 0.064
BINS_PER_SEMITONE = 10
N_HARMONICS = 10
HARMONIC_DECAY = 0.8          # alpha: the weight of harmonic h is alpha ** (h - 1)
PEAK_FLOOR_DB = -40.0         # spectral peaks this far under the frame's strongest are ignored
HEIGHT_PREFERENCE = 0.2      # salience gains 2**0.2 (+15 %) per octave up
CONTINUITY = 0.6              # keep following the line while it has this share of the best
EXPLAINED_VOICED = 0.3        # voiced when the melody's harmonics explain this share of peaks
SILENCE_DB = -55.0
AUTO_ENSEMBLE = 0.9           # auto mode: below this average YIN periodicity, use salience
AUTO_SOLO = 0.95              # ... and above this, YIN again
AUTO_LEVEL_DB = -45.0         # frames quieter than this do not move the average
_N_BINS = int(round(12 * BINS_PER_SEMITONE * math.log2(FMAX_HZ / FMIN_HZ))) + 1
_MAX_PEAKS = 64
LOG2_HARMONIC = np.log2(np.arange(N_HARMONICS + 1).clip(1))  # log2(h), looked up per harmonic
_KERNEL_STEPS = 10  # kernel table entries per salience bin


@numba.njit(cache=True, nogil=True, fastmath=True)
def _salience_frame(signal, start, frame_len, internal_rate, window, frame, fft_tables, magnitude, peak_hz, peak_amp,
                    salience, kernel, height_weight, state):
    """The predominant f0 of signal[start : start + frame_len]: (f0_hz, confidence 0-1).

    state[0] is the salience bin followed in the previous frame (-1: none); the caller
    updates it.
    """
    n_fft = frame.shape[0]
    bin_hz = internal_rate / n_fft
    for j in range(frame_len):
        frame[j] = signal[start + j] * window[j]
    magnitude_spectrum(frame, fft_tables, magnitude)
    strongest = 0.0
    for j in range(n_fft // 2):
        strongest = max(strongest, magnitude[j])
    # Spectral peaks, refined by a parabola through the log magnitudes.
    floor = strongest * 10.0 ** (PEAK_FLOOR_DB / 20.0)
    n_peaks = 0
    total = 0.0
    for j in range(2, n_fft // 2 - 1):
        m = magnitude[j]
        if m <= floor or m < magnitude[j - 1] or m <= magnitude[j + 1]:
            continue
        a = math.log(magnitude[j - 1] + 1e-12)
        b = math.log(m + 1e-12)
        c = math.log(magnitude[j + 1] + 1e-12)
        curvature = a - 2.0 * b + c
        shift = 0.5 * (a - c) / curvature if curvature < 0.0 else 0.0
        if n_peaks < peak_hz.shape[0]:
            peak_hz[n_peaks] = (j + shift) * bin_hz
            peak_amp[n_peaks] = math.exp(b - 0.25 * (a - c) * shift)
            total += peak_amp[n_peaks] ** 2
            n_peaks += 1
    # Harmonic summation onto the 10-cent f0 grid.
    for i in range(salience.shape[0]):
        salience[i] = 0.0
    bins_per_octave = 12.0 * BINS_PER_SEMITONE
    lowest = bins_per_octave * math.log2(0.97)
    for p in range(n_peaks):
        weight = peak_amp[p]
        peak_bin = bins_per_octave * math.log2(peak_hz[p] / FMIN_HZ)
        for h in range(1, N_HARMONICS + 1):
            centre = peak_bin - bins_per_octave * LOG2_HARMONIC[h]
            if centre < lowest:
                break
            if centre <= salience.shape[0] - 1:
                lo = max(0, int(centre) - BINS_PER_SEMITONE + 1)
                hi = min(salience.shape[0] - 1, int(centre) + BINS_PER_SEMITONE)
                for i in range(lo, hi + 1):
                    d = int(abs(i - centre) * _KERNEL_STEPS)
                    if d < kernel.shape[0]:
                        salience[i] += weight * kernel[d]
            weight *= HARMONIC_DECAY
    # The melody is usually the top line: favour height a little, against the bass.
    for i in range(salience.shape[0]):
        salience[i] *= height_weight[i]
    best = 0
    for i in range(1, salience.shape[0]):
        if salience[i] > salience[best]:
            best = i
    # Continuity: stay on the line being followed while it remains nearly as salient.
    followed = int(state[0])
    if followed >= 0 and salience[best] > 0.0:
        lo = max(0, followed - BINS_PER_SEMITONE)
        hi = min(salience.shape[0] - 1, followed + BINS_PER_SEMITONE)
        near = lo
        for i in range(lo, hi + 1):
            if salience[i] > salience[near]:
                near = i
        if salience[near] >= CONTINUITY * salience[best] and 0 < near < salience.shape[0] - 1:
            best = near
    shift = 0.0
    if 0 < best < salience.shape[0] - 1:
        a, b, c = salience[best - 1], salience[best], salience[best + 1]
        curvature = a - 2.0 * b + c
        if curvature < 0.0:
            shift = 0.5 * (a - c) / curvature
    f0 = FMIN_HZ * 2.0 ** ((best + shift) / (12.0 * BINS_PER_SEMITONE))
    # Confidence: the share of the peaks' energy at the melody's harmonics (+-30 cents).
    explained = 0.0
    for p in range(n_peaks):
        ratio = peak_hz[p] / f0
        h = round(ratio)
        if 1 <= h <= N_HARMONICS and abs(1200.0 * math.log2(ratio / h)) < 30.0:
            explained += peak_amp[p] ** 2
    state[0] = best
    return f0, (explained / total if total > 0.0 else 0.0)


@numba.njit(cache=True, nogil=True, fastmath=True)
def salience_frames_kernel(signal, first_end, n_frames, hop, frame_len, internal_rate,
                           window, frame, fft_tables, magnitude,
                           peak_hz, peak_amp, salience, kernel, height_weight, state, auto,
                           tau_min, tau_max,
                           yin_energy, yin_corr, yin_diff, yin_cmnd, yin_register,
                           out_f0, out_periodicity, out_level_db, out_voiced, out_ensemble):
    """Predominant f0 of n_frames frames of signal, frame k ending at first_end + k * hop.

    state: [salience bin followed in the previous frame (-1: none), YIN periodicity average,
    1.0 while the ensemble estimate is in use]. With `auto`, YIN runs on the frame's tail
    first and its estimate is used while the music sounds monophonic (`_choose_ensemble`);
    the salience is then not computed at all.
    """
    for k in range(n_frames):
        end = first_end + k * hop
        power = 0.0
        for j in range(hop):
            v = signal[end - hop + j]
            power += v * v
        level_db = 10.0 * math.log10(power / hop + 1e-20)
        out_level_db[k] = level_db
        if auto:
            length = 2 * tau_max + 1
            period, cmnd, _ = yin_frame(signal, end - length, tau_max, tau_min, tau_max, hop,
                                         yin_energy, yin_corr, yin_diff, yin_cmnd)
            period = in_register(period, cmnd, tau_min, yin_diff, yin_cmnd, yin_register)
            if not _choose_ensemble(state, 1.0 - cmnd, level_db):
                out_f0[k] = internal_rate / period
                out_periodicity[k] = max(0.0, 1.0 - cmnd)
                out_voiced[k] = cmnd < VOICING_CMND and level_db > SILENCE_DB
                out_ensemble[k] = False
                state[0] = -1.0
                continue
        f0, confidence = _salience_frame(signal, end - frame_len, frame_len, internal_rate,
                                         window, frame, fft_tables, magnitude, peak_hz, peak_amp,
                                         salience, kernel, height_weight, state)
        voiced = confidence >= EXPLAINED_VOICED and level_db > SILENCE_DB
        if not voiced:
            state[0] = -1.0
        out_f0[k] = f0
        out_periodicity[k] = confidence
        out_voiced[k] = voiced
        out_ensemble[k] = True


@numba.njit(cache=True, nogil=True)
def _choose_ensemble(state, yin_periodicity, level_db):
    """Auto mode: is the music polyphonic? A solo line is periodic (YIN periodicity ~0.98 on
    pitched frames); chords and bass under a melody bring it to ~0.85. The decision follows a
    ~0.5 s average of pitched frames, with hysteresis so it does not flicker."""
    if level_db > AUTO_LEVEL_DB and yin_periodicity > 0.5:
        state[1] = 0.98 * state[1] + 0.02 * yin_periodicity
    if state[2] > 0.5 and state[1] > AUTO_SOLO:
        state[2] = 0.0
    elif state[2] < 0.5 and state[1] < AUTO_ENSEMBLE:
        state[2] = 1.0
    return state[2] > 0.5


class MelodyTracker(FramedTracker):
    """Streaming predominant-melody f0 of polyphonic audio (see FramedTracker for outputs).

    auto: also run YIN and use it while the music sounds like a single line (it is cheaper
    and exact there); `ensemble` then tells, per frame, which estimate was used.
    """

    def __init__(self, sample_rate: int, hop_s: float = 0.01, auto: bool = False) -> None:
        super().__init__(sample_rate, FRAME_S, hop_s)
        self.auto = auto
        self._tau_min, self._tau_max = yin_lag_range(self.settings.internal_rate_hz)
        self._yin_energy = np.zeros(2 * self._tau_max + 3)
        self._yin_corr = np.zeros(self._tau_max + 3, dtype=np.float32)
        self._yin_diff = np.zeros(self._tau_max + 3)
        self._yin_cmnd = np.zeros(self._tau_max + 3)
        self._yin_register = np.zeros(1)
        frame_len = self.settings.frame_len
        n_fft = 1 << (frame_len - 1).bit_length()  # the frame, zero-padded to a power of two
        self._window = np.hanning(frame_len).astype(np.float64)
        self._frame = np.zeros(n_fft)  # the windowed frame, zero-padded
        self._fft = RealFft(n_fft)
        self._magnitude = np.zeros(n_fft // 2)
        self._peak_hz = np.zeros(_MAX_PEAKS)
        self._peak_amp = np.zeros(_MAX_PEAKS)
        self._salience = np.zeros(_N_BINS)
        # cos^2 spreading kernel over one semitone, tabulated (it is the inner loop).
        offsets = np.arange(BINS_PER_SEMITONE * _KERNEL_STEPS) / (BINS_PER_SEMITONE * _KERNEL_STEPS)
        self._kernel = np.cos(0.5 * np.pi * offsets) ** 2
        octaves = np.arange(_N_BINS) / (12 * BINS_PER_SEMITONE)
        self._height_weight = 2.0 ** (HEIGHT_PREFERENCE * octaves)
        self._state = np.array([-1.0, 1.0, 0.0])

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        s = self.settings
        salience_frames_kernel(
            signal, first_end, n_frames, s.hop, s.frame_len, s.internal_rate_hz, self._window,
            self._frame, self._fft.tables, self._magnitude,
            self._peak_hz, self._peak_amp, self._salience, self._kernel, self._height_weight,
            self._state, self.auto, self._tau_min, self._tau_max, self._yin_energy,
            self._yin_corr, self._yin_diff, self._yin_cmnd, self._yin_register, self.f0_hz,
            self.periodicity, self.level_db, self.voiced, self.ensemble)
