"""The notes heard in one frame, taken out of its salience one at a time (Klapuri 2006).

A plain salience maximum is often not a note of the music: the bass gathers the partials of
every chord tone above it, and a louder note's octave gathers its even partials. So notes are
taken out one by one, each the salience maximum that best explains the spectral peak energy the
notes before it left; the note an octave under one, if nearly as salient, is taken first (the
doubling of a bass, or a louder note's octave, would leave it only its odd partials), and a
partial another note left standing alone is never taken. The highest and lowest of them are
where the top line and the bass line are (salience.py); all of them are an output too, since
where a line has taken another voice's note, the theme's is often one of them.

Real-time contract: numba kernels on the preallocated scratch of `FrameNotes`.
"""

from __future__ import annotations

import numba
import numpy as np

from detector.harmonic_sum import (BINS_PER_SEMITONE, HARMONIC_BINS, HARMONIC_DECAY, N_BINS, N_HARMONICS,
                                   bin_to_hz, hz_to_bin)

N_CANDIDATES = 8              # salience maxima considered as notes, each frame
MAX_NOTES = 4                 # notes taken out of a frame, one by one, while each
OUTER_LINE = 0.4              # ... has this share of the first's: the outer lines' candidates
OCTAVE_SHARE = 0.5            # ... a note an octave under the one chosen, with this share of
                              # its salience, is taken out before it
LONE_PARTIAL = 0.7            # a maximum at a harmonic of a lower one, with this share of its
                              # salience in its first harmonic, is another note's partial
NEAR_BINS = 3                 # a peak, or an octave, within 30 cents is at the bin


class FrameNotes:
    """Scratch of `outer_line_bins` for a spectrum of n_fft points: `candidates` (rows: bin,
    salience, salience when taken out, bound of its note salience; the frames between two
    readings give their notes again), `residual` (the peaks' amplitude not yet taken),
    `harmonics` (each candidate's peak per harmonic) and `nearest` (the peak nearest each bin
    of the salience grid, up to its highest harmonic; `index_peaks`)."""

    def __init__(self, n_fft: int) -> None:
        self.candidates = np.zeros((4, N_CANDIDATES))
        self.residual = np.zeros(n_fft // 4)
        self.harmonics = np.zeros((N_CANDIDATES, N_HARMONICS + 2), dtype=np.int64)
        self.nearest = np.zeros(N_BINS + int(HARMONIC_BINS[-1]) + 2, dtype=np.int64)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _candidate_bins(salience, candidates):
    """The N_CANDIDATES most salient maxima of the salience (each the highest within half a
    semitone) into candidates[0] (bins) and [1] (salience; 0 in the slots after the last found),
    strongest first; returns how many were found."""
    half = BINS_PER_SEMITONE // 2
    n_found = 0
    for i in range(1, salience.shape[0] - 1):
        v = salience[i]
        if v <= 0.0 or v < salience[i - 1] or v < salience[i + 1]:
            continue
        if n_found == N_CANDIDATES and v <= candidates[1, n_found - 1]:
            continue
        is_peak = True
        for j in range(max(0, i - half), min(salience.shape[0], i + half + 1)):
            if salience[j] > v:
                is_peak = False
                break
        if not is_peak:
            continue
        slot = min(n_found, N_CANDIDATES - 1)
        while slot > 0 and candidates[1, slot - 1] < v:
            candidates[0, slot] = candidates[0, slot - 1]
            candidates[1, slot] = candidates[1, slot - 1]
            slot -= 1
        candidates[0, slot] = i
        candidates[1, slot] = v
        n_found = min(n_found + 1, N_CANDIDATES)
    for c in range(n_found, N_CANDIDATES):
        candidates[1, c] = 0.0  # no candidate in this slot
    return n_found


@numba.njit(cache=True, nogil=True, fastmath=True)
def index_peaks(peak_hz, peak_amp, n_peaks, nearest):
    """nearest[b] = the strongest peak within 30 cents of bin b of the salience grid (extended
    up to the highest harmonic; -1: none): where a note's harmonics are looked up."""
    for b in range(nearest.shape[0]):
        nearest[b] = -1
    for p in range(n_peaks):
        centre = int(hz_to_bin(peak_hz[p]) + 0.5)
        for b in range(max(0, centre - NEAR_BINS), min(nearest.shape[0], centre + NEAR_BINS + 1)):
            if nearest[b] < 0 or peak_amp[p] > peak_amp[nearest[b]]:
                nearest[b] = p


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def harmonic_peak(f0_bin, h, nearest):
    """The peak at harmonic h + 1 of the note at salience bin f0_bin (-1: none; `index_peaks`)."""
    b = int(f0_bin + HARMONIC_BINS[h] + 0.5)
    return nearest[b] if 0 <= b < nearest.shape[0] else -1


@numba.njit(cache=True, nogil=True, fastmath=True)
def _assign_harmonics(f0_bin, nearest, harmonics):
    """harmonics[h] = the peak at harmonic h of the note at salience bin f0_bin (-1: none), for
    h = 1..N_HARMONICS; harmonics[0] and harmonics[N_HARMONICS + 1] stay -1 (the edges)."""
    harmonics[0] = -1
    harmonics[N_HARMONICS + 1] = -1
    for h in range(1, N_HARMONICS + 1):
        harmonics[h] = harmonic_peak(f0_bin, h - 1, nearest)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _remaining(residual, peak):
    return residual[peak] if peak >= 0 else 0.0


@numba.njit(cache=True, nogil=True, fastmath=True)
def _note_salience(harmonics, residual, claim):
    """The salience of a note (its peaks per harmonic, `_assign_harmonics`) from the peak
    amplitude not yet taken by louder notes; with `claim`, take it.

    Each harmonic takes no more than the mean of it and its neighbours (a spectral envelope is
    smooth): where another note's partial falls on this one's, the excess stays for that note."""
    total = 0.0
    weight = 1.0
    for h in range(1, N_HARMONICS + 1):
        here = _remaining(residual, harmonics[h])
        if h > 1:
            here = min(here, (_remaining(residual, harmonics[h - 1]) + here
                              + _remaining(residual, harmonics[h + 1])) / 3.0)
        total += weight * here
        if claim and harmonics[h] >= 0:
            residual[harmonics[h]] -= here
        weight *= HARMONIC_DECAY
    return total


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _candidate_value(c, candidates, harmonics, residual, height_weight):
    """Candidate c's note salience from what the notes taken out so far left, height-weighted."""
    return height_weight[int(candidates[0, c])] * _note_salience(harmonics[c], residual, False)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _lone_partial(c, value, candidates, n_found, harmonics, residual, height_weight):
    """Is candidate c, of note salience `value` (`_candidate_value`), a partial another note
    left, not a note: at a harmonic of a lower candidate that has a peak at its own f0 (a
    note, not the echo of c's partials an octave or a twelfth down that the harmonic sum
    makes), with LONE_PARTIAL of its salience in its first harmonic?

    Taking a note out leaves no more than the mean of each partial's neighbours for it: where
    the spectrum is not smooth (a clarinet's strong odd partials, a bassoon's octave over a weak
    fundamental) a partial is left standing alone, and it would pass for the top note."""
    first_harmonic = height_weight[int(candidates[0, c])] * _remaining(residual, harmonics[c, 1])
    if first_harmonic < LONE_PARTIAL * value:
        return False
    for other in range(n_found):
        if other != c and candidates[0, other] < candidates[0, c] and harmonics[other, 1] >= 0:
            for h in range(1, N_HARMONICS):
                if abs(candidates[0, other] + HARMONIC_BINS[h] - candidates[0, c]) <= NEAR_BINS:
                    return True
    return False


@numba.njit(cache=True, nogil=True, fastmath=True)
def outer_line_bins(salience, peak_amp, n_peaks, candidates, residual, harmonics, nearest,
                     height_weight):
    """The bins of the highest and the lowest note taken out of this frame (-1: none), where the
    top line and the bass line are: see the module docstring.

    Notes are the salience's maxima (`_candidate_bins`); the strongest is taken out first, then
    whichever explains most of what is left, up to MAX_NOTES while each has OUTER_LINE of the
    first's salience; a note chosen with an untaken one an octave under it that has OCTAVE_SHARE
    of its salience gives way to that one (the octave above gathers the even partials of the
    note under it); a chosen one that is a lone partial (`_lone_partial`) is passed over. The
    top (bass) line is the highest (lowest) of them; candidates[2] holds each one's salience
    when taken out (0: not taken; -1: passed over).

    Taking a note out only lowers what is left for the others, so a note's last salience bounds
    its next: one whose bound is under the best found so far in a round is not evaluated again
    (lazy greedy), and the first note under OUTER_LINE ends the search, none after it can
    reach it either. nearest: the peak index of `index_peaks`; the rest is scratch."""
    n_found = _candidate_bins(salience, candidates)
    candidates[2, :] = 0.0  # none taken out yet (`chord_notes` reads every row)
    for p in range(n_peaks):
        residual[p] = peak_amp[p]
    for c in range(n_found):
        _assign_harmonics(candidates[0, c], nearest, harmonics[c])
        candidates[3, c] = np.inf  # bound of its note salience: none yet
    first = 0.0
    n_taken = 0
    for _ in range(n_found):
        if n_taken == MAX_NOTES:
            break
        best, best_value = -1, 0.0
        for c in range(n_found):
            if candidates[2, c] == 0.0 and candidates[3, c] > best_value:
                value = _candidate_value(c, candidates, harmonics, residual, height_weight)
                candidates[3, c] = value
                if value > best_value:
                    best, best_value = c, value
        if best < 0 or best_value < OUTER_LINE * first:
            break
        # The octave above a note, taken first, would leave that note only its odd partials.
        octave_under = candidates[0, best] - 12 * BINS_PER_SEMITONE
        for c in range(n_found):
            if candidates[2, c] == 0.0 and abs(candidates[0, c] - octave_under) <= NEAR_BINS:
                if candidates[3, c] >= OCTAVE_SHARE * best_value:  # its bound may reach the share
                    value = _candidate_value(c, candidates, harmonics, residual, height_weight)
                    candidates[3, c] = value
                    if value >= OCTAVE_SHARE * best_value:
                        best, best_value = c, value
                break
        if _lone_partial(best, best_value, candidates, n_found, harmonics, residual, height_weight):
            candidates[2, best] = -1.0  # not a note: neither taken nor considered again
            continue
        _note_salience(harmonics[best], residual, True)
        candidates[2, best] = best_value
        first = max(first, best_value)
        n_taken += 1
    top, bass = -1, -1
    for c in range(n_found):
        if candidates[2, c] > 0.0:
            note = int(candidates[0, c])
            top = max(top, note)
            bass = note if bass < 0 else min(bass, note)
    return top, bass


@numba.njit(cache=True, nogil=True, fastmath=True)
def explained(peak_amp, nearest, f0):
    """The energy of the voting peaks at harmonics of f0 (+-30 cents; `index_peaks`)."""
    f0_bin = hz_to_bin(f0)
    energy = 0.0
    for h in range(N_HARMONICS):
        peak = harmonic_peak(f0_bin, h, nearest)
        if peak >= 0:
            energy += peak_amp[peak] ** 2
    return energy


@numba.njit(cache=True, nogil=True, fastmath=True)
def chord_notes(candidates, out):
    """The f0s (Hz) of the notes `outer_line_bins` took out of the frame, into out (0: none)."""
    n = 0
    for c in range(N_CANDIDATES):
        if candidates[2, c] > 0.0 and n < out.shape[0]:
            out[n] = bin_to_hz(candidates[0, c])
            n += 1
    for j in range(n, out.shape[0]):
        out[j] = 0.0
