"""Harmonic-sum salience: how strongly each f0 is heard in one spectrum (Salamon & Gomez 2012).

A frame's strongest spectral peaks vote for every f0 of which they could be a harmonic
(weight alpha**(h - 1) for harmonic h, spread over a semitone with a cos^2 kernel) on a 10-cent
grid from 55 to 1760 Hz. A note is heard where its harmonics' votes meet, whether or not its
fundamental sounds; the salience favours height a little (HEIGHT_PREFERENCE), since a melody
is usually above the bass, which gathers the partials of every chord tone above it.

Real-time contract: numba kernels on preallocated buffers (`SalienceGrid`), no allocation.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.framing import FMAX_HZ, FMIN_HZ

BINS_PER_SEMITONE = 10
N_HARMONICS = 10
HARMONIC_DECAY = 0.8          # alpha: the weight of harmonic h is alpha ** (h - 1)
PEAK_FLOOR_DB = -40.0         # spectral peaks this far under the frame's strongest are ignored
HEIGHT_PREFERENCE = 0.2       # salience gains 2**0.2 (+15 %) per octave up
MAX_VOTERS = 64               # the strongest peaks vote; all count in a confidence's whole
N_BINS = int(round(12 * BINS_PER_SEMITONE * math.log2(FMAX_HZ / FMIN_HZ))) + 1
#: Harmonic h + 1's f0 lies this many salience bins under the peak ...
HARMONIC_BINS = 12 * BINS_PER_SEMITONE * np.log2(np.arange(1, N_HARMONICS + 1))
#: ... which turns the kernel's phase (pi / BINS_PER_SEMITONE per bin) by these.
HARMONIC_COS = np.cos(np.pi / BINS_PER_SEMITONE * HARMONIC_BINS)
HARMONIC_SIN = np.sin(np.pi / BINS_PER_SEMITONE * HARMONIC_BINS)
_PAD = 2 * BINS_PER_SEMITONE  # vote bins kept either side of the grid


class SalienceGrid:
    """The tables and buffers of the salience of one tracker: for a spectrum of n_fft points,
    its peaks (`peak_hz`, `peak_amp`), the votes (scratch), the salience itself, the kernel's
    cos and sin by bin and the height weight by bin (`harmonic_sum`)."""

    def __init__(self, n_fft: int) -> None:
        self.peak_hz = np.zeros(n_fft // 4)   # room for every local maximum
        self.peak_amp = np.zeros(n_fft // 4)
        self.votes = np.zeros((3, N_BINS + 2 * _PAD))
        self.salience = np.zeros(N_BINS)
        bins = np.arange(N_BINS)
        self.kernel = np.stack([np.cos(np.pi * bins / BINS_PER_SEMITONE),
                                np.sin(np.pi * bins / BINS_PER_SEMITONE)])
        self.height_weight = 2.0 ** (HEIGHT_PREFERENCE * bins / (12 * BINS_PER_SEMITONE))


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def hz_to_bin(hz):
    """The salience grid's (fractional) bin of a frequency."""
    return 12.0 * BINS_PER_SEMITONE * math.log2(hz / FMIN_HZ)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def bin_to_hz(salience_bin):
    """The frequency of a (fractional) bin of the salience grid: `hz_to_bin`'s inverse."""
    return FMIN_HZ * 2.0 ** (salience_bin / (12.0 * BINS_PER_SEMITONE))


@numba.njit(cache=True, nogil=True, fastmath=True)
def spectral_peaks(magnitude, bin_hz, peak_hz, peak_amp):
    """The local maxima of magnitude within PEAK_FLOOR_DB of the strongest, refined by a
    parabola through the log magnitudes, into peak_hz / peak_amp (len >= magnitude's / 2), in
    frequency order. Returns (count, their total energy)."""
    n = magnitude.shape[0]
    strongest = 0.0
    for j in range(n):
        strongest = max(strongest, magnitude[j])
    floor = strongest * 10.0 ** (PEAK_FLOOR_DB / 20.0)
    # Which bins are peaks, without a branch per bin (they are unpredictable): every bin is
    # written, the count only moves on past a peak. peak_hz holds the bin until it is refined.
    n_peaks = 0
    for j in range(2, n - 1):
        m = magnitude[j]
        peak_hz[n_peaks] = j
        n_peaks += (m > floor) & (m >= magnitude[j - 1]) & (m > magnitude[j + 1])
    total = 0.0
    for p in range(n_peaks):
        j = int(peak_hz[p])
        a = math.log(magnitude[j - 1] + 1e-12)
        b = math.log(magnitude[j] + 1e-12)
        c = math.log(magnitude[j + 1] + 1e-12)
        curvature = a - 2.0 * b + c
        shift = 0.5 * (a - c) / curvature if curvature < 0.0 else 0.0
        peak_hz[p] = (j + shift) * bin_hz
        amp = math.exp(b - 0.25 * (a - c) * shift)
        peak_amp[p] = amp
        total += amp * amp
    return n_peaks, total


@numba.njit(cache=True, nogil=True, fastmath=True)
def keep_strongest(peak_hz, peak_amp, n_peaks, keep):
    """Reorder the peaks so that the `keep` strongest come first (quickselect, in place);
    return how many voters that leaves."""
    if n_peaks <= keep:
        return n_peaks
    lo, hi = 0, n_peaks - 1
    while lo < hi:
        pivot = peak_amp[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while peak_amp[i] > pivot:
                i += 1
            while peak_amp[j] < pivot:
                j -= 1
            if i <= j:
                peak_amp[i], peak_amp[j] = peak_amp[j], peak_amp[i]
                peak_hz[i], peak_hz[j] = peak_hz[j], peak_hz[i]
                i += 1
                j -= 1
        if keep - 1 <= j:
            hi = j
        elif keep - 1 >= i:
            lo = i
        else:
            break
    return keep


@numba.njit(cache=True, nogil=True, fastmath=True)
def harmonic_sum(peak_hz, peak_amp, n_peaks, kernel, height_weight, votes, salience):
    """Every peak votes for the f0s of which it could be harmonic h, with weight
    alpha**(h - 1) spread over +-1 semitone by the cos^2 kernel; salience (height-weighted)
    is their sum on the 10-cent grid from FMIN_HZ.

    The sum is exact but costs O(votes + bins), not O(votes x kernel width): the kernel at bin
    i of a vote at c is cos^2(pi/2 (i - c) / B) = (1 + cos(pi i / B) cos(pi c / B) +
    sin(pi i / B) sin(pi c / B)) / 2 for |i - c| < B (B = BINS_PER_SEMITONE), so the salience is
    three sliding-window sums over the votes binned by floor(c): of w, w cos(pi c / B) and
    w sin(pi c / B). votes (3 x N_BINS + 2 _PAD) is scratch; kernel holds cos(pi i / B) and
    sin(pi i / B) by bin.
    """
    for i in range(votes.shape[1]):
        votes[0, i] = 0.0
        votes[1, i] = 0.0
        votes[2, i] = 0.0
    bins_per_octave = 12.0 * BINS_PER_SEMITONE
    lowest = bins_per_octave * math.log2(0.97)
    top = float(N_BINS - 1)
    for p in range(n_peaks):
        weight = peak_amp[p]
        peak_bin = bins_per_octave * math.log2(peak_hz[p] / FMIN_HZ)
        # cos and sin of pi * peak_bin / B: of the whole bins from the table (period 2 B),
        # of the fraction (under pi / B) from its Taylor series (error < 1e-10).
        whole = math.floor(peak_bin)
        y = math.pi / BINS_PER_SEMITONE * (peak_bin - whole)
        y2 = y * y
        cos_y = 1.0 - y2 * (1.0 / 2 - y2 * (1.0 / 24 - y2 * (1.0 / 720 - y2 * (1.0 / 40320))))
        sin_y = y * (1.0 - y2 * (1.0 / 6 - y2 * (1.0 / 120 - y2 * (1.0 / 5040))))
        r = int(whole) % (2 * BINS_PER_SEMITONE)
        peak_cos = kernel[0, r] * cos_y - kernel[1, r] * sin_y
        peak_sin = kernel[1, r] * cos_y + kernel[0, r] * sin_y
        for h in range(N_HARMONICS):
            centre = peak_bin - HARMONIC_BINS[h]
            if centre < lowest:
                break
            if centre <= top:
                j = int(centre + _PAD)    # floor: positive
                votes[0, j] += weight
                votes[1, j] += weight * (peak_cos * HARMONIC_COS[h] + peak_sin * HARMONIC_SIN[h])
                votes[2, j] += weight * (peak_sin * HARMONIC_COS[h] - peak_cos * HARMONIC_SIN[h])
            weight *= HARMONIC_DECAY
    # Bin i sums the votes binned at [i - B, i + B - 1] (+ _PAD).
    w_sum = 0.0
    cos_sum = 0.0
    sin_sum = 0.0
    for j in range(_PAD - BINS_PER_SEMITONE - 1, _PAD + BINS_PER_SEMITONE - 1):
        w_sum += votes[0, j]
        cos_sum += votes[1, j]
        sin_sum += votes[2, j]
    for i in range(N_BINS):
        enter = i + _PAD + BINS_PER_SEMITONE - 1
        leave = i + _PAD - BINS_PER_SEMITONE - 1
        w_sum += votes[0, enter] - votes[0, leave]
        cos_sum += votes[1, enter] - votes[1, leave]
        sin_sum += votes[2, enter] - votes[2, leave]
        spread = w_sum + kernel[0, i] * cos_sum + kernel[1, i] * sin_sum
        salience[i] = 0.5 * height_weight[i] * spread


@numba.njit(cache=True, nogil=True, fastmath=True)
def strongest_bin(salience):
    """The bin of the salience's maximum."""
    best = 0
    highest = salience[0]
    for i in range(1, salience.shape[0]):
        v = salience[i]
        best = i if v > highest else best
        highest = max(v, highest)
    return best
