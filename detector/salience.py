"""Predominant melody for ensembles: harmonic-sum salience with continuity, streaming.

A monophonic tracker (YIN) reads a melody under chords and bass badly: the mixture has no
single period. This tracker follows the idea behind Melodia (Salamon & Gomez 2012) online:
every other 10 ms frame (64 ms Hann window on the shared 8-16 kHz front end), the strongest
spectral peaks vote for every f0 of which they could be a harmonic (weight alpha**(h - 1) for
harmonic h, spread over a semitone with a cos^2 kernel) on a 10-cent grid from 55 to 1760 Hz.
Three lines are read from it, because a theme may be the loudest line, the top one or the bass:

- the predominant line: the most salient f0 (a theme brought out by its instrument, in any
  voice), kept to that instrument's notes by a model of its timbre (below);
- the outer lines: notes are taken out of the frame one at a time, each the salience maximum
  that best explains the peak energy the notes before it left (Klapuri 2006), or the note an
  octave under it if that is nearly as salient (the doubling of a bass, or a louder note's
  octave, gathers its even partials and would leave it only the odd ones), and never a
  partial another note left standing alone; the top line is the highest note nearly as
  salient as the first, the bass line the lowest. A plain maximum is often the bass, which
  gathers the partials of every chord tone above it, or an octave of a louder note: the top
  line finds the soprano of a chorale, a tune over its accompaniment.
  The plain maximum also misses a bass its instrument brings out (the salience prefers
  height, and the voices above share its partials): the bass line finds that.

Each line is kept on the bin it was following while that stays nearly as salient (continuity
is what makes it a line rather than whichever note is loudest this instant); the bass line
gives way at once to a note below it. A line's confidence is the share of the spectral peak
energy its harmonics explain; an outer line is voiced at a smaller share than the predominant
one, since its voice is one of several and seldom the loudest (a violin's vibrato spreads its
partials thinner still).

Each outer line has a level of its own, the power at its harmonics: a note of the line
re-attacked at one pitch shows in it, as in a solo's level, where another voice's entry or a
drum hit, which move the mixture's level, mostly do not.

The melody itself is chosen among the notes taken out of the frame by a model of its timbre,
learnt online: the predominant line follows the voice an arrangement brings out most of the
time and jumps to another voice's note where that one is momentarily more salient. A logistic
regression, taught by the predominant line, learns what the notes it follows look like (their
harmonics' levels, level, register, place in the chord); where it says the line's note is
not that voice's, the note it scores highest is the melody's (`_timbre_choice`).

The notes taken out of each frame are an output too (`chord_f0_hz`): where a line has taken
another voice's note, the theme's is often one of them.

The salience is read every SALIENCE_HOPS hops (20 ms), not every hop: it is most of what an
ensemble costs over a single line (benchmarks/ensemble.py measures the two modes' cost). A frame
between two readings holds the lines of the one before, with the mixture's level of its own
hop. A 64 ms window moves little in 10 ms: in the benchmarks' runs before and after (commits
813a2e3 and ea3ad96, README Results), holding changed the themes found and the melody's pitch
accuracy only within their noise.

Real-time contract: numba kernels, preallocated buffers, no allocation per hop.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.fft import RealFft, magnitude_spectrum
from detector.framing import FMAX_HZ, FMIN_HZ, HOP_S, FramedTracker
from detector.pitch import (SILENCE_DB, write_yin_frame, yin_frame_len, yin_lag_range, yin_reading,
                            yin_scratch)

FRAME_S = 0.064
BINS_PER_SEMITONE = 10
N_HARMONICS = 10
HARMONIC_DECAY = 0.8          # alpha: the weight of harmonic h is alpha ** (h - 1)
PEAK_FLOOR_DB = -40.0         # spectral peaks this far under the frame's strongest are ignored
HEIGHT_PREFERENCE = 0.2      # salience gains 2**0.2 (+15 %) per octave up
CONTINUITY = 0.75             # keep following the line while it has this share of the best
N_CANDIDATES = 8              # salience maxima considered as notes, each frame
MAX_NOTES = 4                 # notes taken out of a frame, one by one (Klapuri 2006), while each
OUTER_LINE = 0.4              # ... has this share of the first's: the outer lines' candidates
OCTAVE_SHARE = 0.5            # ... a note an octave under the one chosen, with this share of
                              # its salience, is taken out before it
LONE_PARTIAL = 0.7            # a maximum at a harmonic of a lower one, with this share of its
                              # salience in its first harmonic, is another note's partial
NEAR_BINS = 3                 # a peak, or an octave, within 30 cents is at the bin
LINE_NAMES = ("top line", "bass line")   # the outer lines, in the order of their rows
BASS_LINE = LINE_NAMES.index("bass line")
N_OUTER_LINES = len(LINE_NAMES)
EXPLAINED_VOICED = 0.3        # the predominant line is voiced when its harmonics explain this
                              # share of the peaks' energy; an outer line, one voice of several
OUTER_LINE_VOICED = 0.25      # and seldom the loudest, when they explain this share
AUTO_ENSEMBLE = 0.9           # auto mode: below this average YIN periodicity, use salience
AUTO_SOLO = 0.95              # ... and above this, YIN again
AUTO_STEADY_OCTAVES = 1 / 24   # ... counting only frames whose pitch holds to a quarter tone
AUTO_LEVEL_DB = -45.0         # frames quieter than this do not move the average
SALIENCE_HOPS = 2             # the salience is read every this many hops; the frames between hold it
TIMBRE_RATE = 0.02            # the melody's timbre model: its learning rate per salience reading,
TIMBRE_DECAY = 1e-3           # ... its weights' decay towards 0 (L2), relative to the rate,
TIMBRE_WARMUP = 25            # ... and the readings it learns from before it chooses the note
TIMBRE_FLOOR_DB = -60.0       # a harmonic this far under a note's strongest (or none) counts as this
_N_BINS = int(round(12 * BINS_PER_SEMITONE * math.log2(FMAX_HZ / FMIN_HZ))) + 1
_MAX_PEAKS = 64               # the strongest peaks vote; all count in a confidence's whole
#: Harmonic h + 1's f0 lies this many salience bins under the peak ...
HARMONIC_BINS = 12 * BINS_PER_SEMITONE * np.log2(np.arange(1, N_HARMONICS + 1))
#: ... which turns the kernel's phase (pi / BINS_PER_SEMITONE per bin) by these.
HARMONIC_COS = np.cos(np.pi / BINS_PER_SEMITONE * HARMONIC_BINS)
HARMONIC_SIN = np.sin(np.pi / BINS_PER_SEMITONE * HARMONIC_BINS)
_PAD = 2 * BINS_PER_SEMITONE           # vote bins kept either side of the grid
# MelodyTracker's state: the salience bin the predominant line followed in the previous frame
# (-1: none), auto mode's YIN periodicity average, 1.0 while auto mode reads an ensemble, the
# bins the outer lines followed (from _LINE_BINS on), and YIN's previous period (0: none).
_MELODY_BIN, _YIN_AVERAGE, _ENSEMBLE_ON, _LINE_BINS = range(4)
_YIN_PERIOD = _LINE_BINS + N_OUTER_LINES
# ... and what the salience read last, which the frames after it hold: the predominant line's
# f0, confidence and the peaks' energy, and how many more frames may hold them.
_HELD_F0, _HELD_CONFIDENCE, _HELD_ENERGY, _HOLDS_LEFT = range(_YIN_PERIOD + 1, _YIN_PERIOD + 5)
_N_STATE = _HOLDS_LEFT + 1
# The timbre model's features of a note (`_timbre_features`): its harmonics' levels under its
# strongest, its level under the frame's loudest note, its pitch, whether it is the highest or
# the lowest note, and a constant. The model holds their weights, then how many readings it
# learnt from.
_N_TIMBRE = N_HARMONICS + 5
_HALF_SEMITONE = BINS_PER_SEMITONE // 2  # a taken note this near the predominant line's bin is its note
_TIMBRE_SEEN = _N_TIMBRE


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _hz_to_bin(hz):
    """The salience grid's (fractional) bin of a frequency."""
    return 12.0 * BINS_PER_SEMITONE * math.log2(hz / FMIN_HZ)


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _bin_to_hz(salience_bin):
    """The frequency of a (fractional) bin of the salience grid: `_hz_to_bin`'s inverse."""
    return FMIN_HZ * 2.0 ** (salience_bin / (12.0 * BINS_PER_SEMITONE))


@numba.njit(cache=True, nogil=True, fastmath=True)
def _spectral_peaks(magnitude, bin_hz, peak_hz, peak_amp):
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
def _keep_strongest(peak_hz, peak_amp, n_peaks, keep):
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
def _harmonic_sum(peak_hz, peak_amp, n_peaks, kernel, height_weight, votes, salience):
    """Every peak votes for the f0s of which it could be harmonic h, with weight
    alpha**(h - 1) spread over +-1 semitone by the cos^2 kernel; salience (height-weighted)
    is their sum on the 10-cent grid from FMIN_HZ.

    The sum is exact but costs O(votes + bins), not O(votes x kernel width): the kernel at bin
    i of a vote at c is cos^2(pi/2 (i - c) / B) = (1 + cos(pi i / B) cos(pi c / B) +
    sin(pi i / B) sin(pi c / B)) / 2 for |i - c| < B (B = BINS_PER_SEMITONE), so the salience is
    three sliding-window sums over the votes binned by floor(c): of w, w cos(pi c / B) and
    w sin(pi c / B). votes (3 x _N_BINS + 2 _PAD) is scratch; kernel holds cos(pi i / B) and
    sin(pi i / B) by bin.
    """
    for i in range(votes.shape[1]):
        votes[0, i] = 0.0
        votes[1, i] = 0.0
        votes[2, i] = 0.0
    bins_per_octave = 12.0 * BINS_PER_SEMITONE
    lowest = bins_per_octave * math.log2(0.97)
    top = float(_N_BINS - 1)
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
    for i in range(_N_BINS):
        enter = i + _PAD + BINS_PER_SEMITONE - 1
        leave = i + _PAD - BINS_PER_SEMITONE - 1
        w_sum += votes[0, enter] - votes[0, leave]
        cos_sum += votes[1, enter] - votes[1, leave]
        sin_sum += votes[2, enter] - votes[2, leave]
        spread = w_sum + kernel[0, i] * cos_sum + kernel[1, i] * sin_sum
        salience[i] = 0.5 * height_weight[i] * spread


@numba.njit(cache=True, nogil=True, fastmath=True)
def _candidate_bins(salience, candidates):
    """The N_CANDIDATES most salient maxima of the salience (each the highest within half a
    semitone) into candidates[0] (bins), strongest first; returns how many were found."""
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
    return n_found


@numba.njit(cache=True, nogil=True, fastmath=True)
def _index_peaks(peak_hz, peak_amp, n_peaks, nearest):
    """nearest[b] = the strongest peak within 30 cents of bin b of the salience grid (extended
    up to the highest harmonic; -1: none): where a note's harmonics are looked up."""
    for b in range(nearest.shape[0]):
        nearest[b] = -1
    for p in range(n_peaks):
        centre = int(_hz_to_bin(peak_hz[p]) + 0.5)
        for b in range(max(0, centre - NEAR_BINS), min(nearest.shape[0], centre + NEAR_BINS + 1)):
            if nearest[b] < 0 or peak_amp[p] > peak_amp[nearest[b]]:
                nearest[b] = p


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _harmonic_peak(f0_bin, h, nearest):
    """The peak at harmonic h + 1 of the note at salience bin f0_bin (-1: none; `_index_peaks`)."""
    b = int(f0_bin + HARMONIC_BINS[h] + 0.5)
    return nearest[b] if 0 <= b < nearest.shape[0] else -1


@numba.njit(cache=True, nogil=True, fastmath=True)
def _assign_harmonics(f0_bin, nearest, harmonics):
    """harmonics[h] = the peak at harmonic h of the note at salience bin f0_bin (-1: none), for
    h = 1..N_HARMONICS; harmonics[0] and harmonics[N_HARMONICS + 1] stay -1 (the edges)."""
    harmonics[0] = -1
    harmonics[N_HARMONICS + 1] = -1
    for h in range(1, N_HARMONICS + 1):
        harmonics[h] = _harmonic_peak(f0_bin, h - 1, nearest)


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
def _outer_line_bins(salience, peak_amp, n_peaks, candidates, residual, harmonics, nearest,
                     height_weight):
    """The bins of the top line and the bass line in this frame (-1: none): see the module
    docstring.

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
    reach it either. nearest: the peak index of `_index_peaks`; the rest is scratch."""
    n_found = _candidate_bins(salience, candidates)
    candidates[2, :] = 0.0  # none taken out yet (`_chord_notes` reads every row)
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
    return top, bass  # in the order of LINE_NAMES


@numba.njit(cache=True, nogil=True, fastmath=True)
def _strongest_bin(salience):
    """The bin of the salience's maximum."""
    best = 0
    highest = salience[0]
    for i in range(1, salience.shape[0]):
        v = salience[i]
        best = i if v > highest else best
        highest = max(v, highest)
    return best


@numba.njit(cache=True, nogil=True, fastmath=True)
def _line_f0(salience, best, state, slot, yields_to_lower):
    """A line's f0 (Hz) from the salience and the bin chosen for it in this frame; state[slot]
    is the bin the line followed in the previous frame (-1: none) and becomes this frame's.

    yields_to_lower: for the bass line, which keeps to the line it follows only while no note
    sounds under it: a new bass note takes over at once. The top line keeps to its line against
    a new note above too, since there the partials of the notes below often pass for one."""
    # Continuity: stay on the line being followed while it remains nearly as salient.
    followed = int(state[slot])
    lower = best <= followed - BINS_PER_SEMITONE
    if followed >= 0 and salience[best] > 0.0 and not (yields_to_lower and lower):
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
    state[slot] = best
    return _bin_to_hz(best + shift)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _explained(peak_amp, nearest, f0):
    """The energy of the voting peaks at harmonics of f0 (+-30 cents; `_index_peaks`)."""
    f0_bin = _hz_to_bin(f0)
    explained = 0.0
    for h in range(N_HARMONICS):
        peak = _harmonic_peak(f0_bin, h, nearest)
        if peak >= 0:
            explained += peak_amp[peak] ** 2
    return explained


@numba.njit(cache=True, nogil=True, fastmath=True)
def _timbre_features(candidates, harmonics, peak_amp, features):
    """features[c] = the timbre model's features of each note taken out of the frame
    (candidates[2, c] > 0; see _N_TIMBRE), scaled to about unit range."""
    loudest = TIMBRE_FLOOR_DB * 4.0
    highest, lowest = -1.0, np.inf
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        level = TIMBRE_FLOOR_DB * 4.0
        for h in range(1, N_HARMONICS + 1):
            peak = harmonics[c, h]
            db = 20.0 * math.log10(peak_amp[peak] + 1e-12) if peak >= 0 else TIMBRE_FLOOR_DB * 4.0
            features[c, h - 1] = db
            level = max(level, db)
        for h in range(N_HARMONICS):
            features[c, h] = max(features[c, h] - level, TIMBRE_FLOOR_DB) / 20.0
        features[c, N_HARMONICS] = level
        loudest = max(loudest, level)
        highest = max(highest, candidates[0, c])
        lowest = min(lowest, candidates[0, c])
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        features[c, N_HARMONICS] = max(features[c, N_HARMONICS] - loudest, TIMBRE_FLOOR_DB) / 10.0
        features[c, N_HARMONICS + 1] = candidates[0, c] / (12.0 * BINS_PER_SEMITONE) - 2.0
        features[c, N_HARMONICS + 2] = 1.0 if candidates[0, c] == highest else 0.0
        features[c, N_HARMONICS + 3] = 1.0 if candidates[0, c] == lowest else 0.0
        features[c, N_HARMONICS + 4] = 1.0


@numba.njit(cache=True, nogil=True, fastmath=True)
def _timbre_choice(candidates, features, model, teacher_bin):
    """The bin of the note taken out of the frame that the timbre model scores highest (-1:
    none, or the model has not yet learnt enough); then the model learns from the frame.

    The predominant line follows the voice brought out most of the time, and jumps to another
    voice's note where that one is momentarily more salient. The model (a logistic regression,
    learnt online by gradient steps) learns what the notes the predominant line follows look
    like (teacher_bin, -1 where it is unvoiced): their instrument's spectral shape, level,
    register and place in the chord. Choosing by it keeps to that voice where the line jumps.
    """
    chosen, best_score = -1, -np.inf
    teacher_score = -np.inf
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        score = 0.0
        for j in range(_N_TIMBRE):
            score += model[j] * features[c, j]
        candidates[3, c] = score  # the bound is spent: the notes are taken
        if score > best_score:
            chosen, best_score = c, score
        if teacher_bin >= 0 and abs(candidates[0, c] - teacher_bin) <= _HALF_SEMITONE:
            teacher_score = max(teacher_score, score)
    if teacher_bin >= 0:
        taught = False
        for c in range(N_CANDIDATES):
            taught |= candidates[2, c] > 0.0 and abs(candidates[0, c] - teacher_bin) <= _HALF_SEMITONE
        if taught:
            for j in range(_N_TIMBRE):
                model[j] -= TIMBRE_RATE * TIMBRE_DECAY * model[j]
            for c in range(N_CANDIDATES):
                if candidates[2, c] <= 0.0:
                    continue
                target = 1.0 if abs(candidates[0, c] - teacher_bin) <= _HALF_SEMITONE else 0.0
                error = target - 1.0 / (1.0 + math.exp(-candidates[3, c]))
                for j in range(_N_TIMBRE):
                    model[j] += TIMBRE_RATE * error * features[c, j]
            model[_TIMBRE_SEEN] += 1.0
    if model[_TIMBRE_SEEN] <= TIMBRE_WARMUP or chosen < 0 or teacher_score >= 0.0:
        return -1
    return int(candidates[0, chosen])


@numba.njit(cache=True, nogil=True, fastmath=True)
def _salience_frame(signal, start, frame_len, internal_rate, window, frame, fft_tables, magnitude, peak_hz, peak_amp,
                    votes, salience, kernel, height_weight, choice, timbre_model, state, line_f0,
                    line_confidence):
    """The lines of signal[start : start + frame_len]: returns the f0 of the melody, its
    confidence 0-1 and the energy of the frame's spectral peaks, of which a confidence is
    the share; the outer lines' (top, bass) f0 and confidence go into line_f0 / line_confidence.

    The melody is the note the timbre model chooses (`_timbre_choice`), or the predominant
    line's until the model has learnt; its confidence is the predominant line's, which says
    whether a melody sounds at all.
    state[_MELODY_BIN] and state[_LINE_BINS + line] are the salience bins the lines followed in
    the previous frame (-1: none); the caller resets them when the frame is unvoiced.
    """
    n_fft = frame.shape[0]
    for j in range(frame_len):
        frame[j] = signal[start + j] * window[j]
    magnitude_spectrum(frame, fft_tables, magnitude)
    n_peaks, total = _spectral_peaks(magnitude, internal_rate / n_fft, peak_hz, peak_amp)
    n_voters = _keep_strongest(peak_hz, peak_amp, n_peaks, _MAX_PEAKS)
    # The melody is usually the top line: the salience favours height a little, against the bass.
    _harmonic_sum(peak_hz, peak_amp, n_voters, kernel, height_weight, votes, salience)
    f0 = _line_f0(salience, _strongest_bin(salience), state, _MELODY_BIN, False)
    candidates, residual, harmonics, nearest, features = choice
    _index_peaks(peak_hz, peak_amp, n_voters, nearest)  # for the note extraction and _explained
    outer = _outer_line_bins(salience, peak_amp, n_voters, candidates, residual, harmonics, nearest,
                             height_weight)
    for line in range(N_OUTER_LINES):
        yields = line == BASS_LINE
        line_f0[line] = (_line_f0(salience, outer[line], state, _LINE_BINS + line, yields)
                         if outer[line] >= 0 else f0)
    # Confidence: the share of the peaks' energy at the line's harmonics.
    if total <= 0.0:
        line_confidence[:] = 0.0
        return f0, 0.0, 0.0
    for line in range(N_OUTER_LINES):
        line_confidence[line] = _explained(peak_amp, nearest, line_f0[line]) / total
    confidence = _explained(peak_amp, nearest, f0) / total
    _timbre_features(candidates, harmonics, peak_amp, features)
    teacher_bin = int(state[_MELODY_BIN]) if confidence >= EXPLAINED_VOICED else -1
    chosen = _timbre_choice(candidates, features, timbre_model, teacher_bin)
    return (_bin_to_hz(chosen) if chosen >= 0 else f0), confidence, total


@numba.njit(cache=True, nogil=True, fastmath=True)
def salience_frames_kernel(signal, first_end, n_frames, hop, frame_len, internal_rate,
                           window, frame, fft_tables, magnitude,
                           peak_hz, peak_amp, votes, salience, kernel, height_weight, choice, timbre_model,
                           state, auto,
                           tau_min, tau_max,
                           yin_energy, yin_corr, yin_diff, yin_cmnd, yin_register,
                           out_f0, out_periodicity, out_level_db, out_voiced, out_ensemble,
                           out_line_f0, out_line_voiced, out_line_level_db, out_chord_f0, line_f0,
                           line_confidence, power_scale):
    """Predominant f0 and outer lines (out_line_*[line, k]: top, bass) of n_frames frames of
    signal, frame k ending at first_end + k * hop, and the notes taken out of each frame
    (out_chord_f0[:, k], `_chord_notes`; none where YIN's estimate is used).

    An outer line's level (out_line_level_db, dBFS) is its own: the power at its harmonics, the
    spectral peaks' energy (scaled to power by power_scale) times its confidence.
    The salience is read every SALIENCE_HOPS frames; the frames between hold what it read last
    (in state, line_f0, line_confidence and choice), with a level of their own.
    state: see _MELODY_BIN and the slots after it. line_f0 and line_confidence hold the outer
    lines' last reading, one value per line.
    With `auto`, YIN runs on the frame's tail first and its estimate is used while the music
    sounds monophonic (`_choose_ensemble`); the salience is then not computed at all, and there
    are no outer lines apart from the melody (their level is then the frame's).
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
            period, cmnd, yin_level_db = yin_reading(signal, end, tau_min, tau_max, hop, yin_energy,
                                                     yin_corr, yin_diff, yin_cmnd, yin_register)
            if not _choose_ensemble(state, 1.0 - cmnd, level_db, period):
                # PitchTracker's row (its frames are these, see MelodyTracker).
                write_yin_frame(k, period, cmnd, yin_level_db, internal_rate, out_f0,
                                out_periodicity, out_level_db, out_voiced)
                out_ensemble[k] = False
                state[_MELODY_BIN] = -1.0
                for line in range(N_OUTER_LINES):
                    out_line_voiced[line, k] = False
                    state[_LINE_BINS + line] = -1.0
                out_chord_f0[:, k] = 0.0
                out_line_level_db[:, k] = out_level_db[k]
                state[_HOLDS_LEFT] = 0.0  # the salience read before YIN's frames is stale
                continue
        if state[_HOLDS_LEFT] > 0.0:
            state[_HOLDS_LEFT] -= 1.0
        else:
            state[_HELD_F0], state[_HELD_CONFIDENCE], state[_HELD_ENERGY] = _salience_frame(
                signal, end - frame_len, frame_len, internal_rate, window, frame, fft_tables,
                magnitude, peak_hz, peak_amp, votes, salience, kernel, height_weight, choice,
                timbre_model, state, line_f0, line_confidence)
            state[_HOLDS_LEFT] = SALIENCE_HOPS - 1
        f0, confidence, peak_energy = state[_HELD_F0], state[_HELD_CONFIDENCE], state[_HELD_ENERGY]
        voiced = confidence >= EXPLAINED_VOICED and level_db > SILENCE_DB
        if not voiced:
            state[_MELODY_BIN] = -1.0
        out_f0[k] = f0
        out_periodicity[k] = confidence
        out_voiced[k] = voiced
        out_ensemble[k] = True
        for line in range(N_OUTER_LINES):
            line_voiced = line_confidence[line] >= OUTER_LINE_VOICED and level_db > SILENCE_DB
            if not line_voiced:
                state[_LINE_BINS + line] = -1.0
            out_line_f0[line, k] = line_f0[line]
            out_line_voiced[line, k] = line_voiced
            out_line_level_db[line, k] = 10.0 * math.log10(
                power_scale * line_confidence[line] * peak_energy + 1e-20)
        _chord_notes(choice[0], out_chord_f0[:, k])


@numba.njit(cache=True, nogil=True, fastmath=True)
def _chord_notes(candidates, out):
    """The f0s (Hz) of the notes `_outer_line_bins` took out of the frame, into out (0: none)."""
    n = 0
    for c in range(N_CANDIDATES):
        if candidates[2, c] > 0.0 and n < out.shape[0]:
            out[n] = _bin_to_hz(candidates[0, c])
            n += 1
    for j in range(n, out.shape[0]):
        out[j] = 0.0


@numba.njit(cache=True, nogil=True)
def _choose_ensemble(state, yin_periodicity, level_db, period):
    """Auto mode: is the music polyphonic? A solo line is periodic (YIN periodicity ~0.98 on
    pitched frames); chords and bass under a melody bring it to ~0.85. The decision follows a
    ~0.5 s average of pitched frames, with hysteresis so it does not flicker. Only frames whose
    pitch holds count: where one note gives way to the next, a solo is aperiodic too, and a
    quick or low tune would pass for an ensemble."""
    previous_period = state[_YIN_PERIOD]
    steady = previous_period > 0.0 and abs(math.log2(period / previous_period)) < AUTO_STEADY_OCTAVES
    state[_YIN_PERIOD] = period
    if level_db > AUTO_LEVEL_DB and yin_periodicity > 0.5 and steady:
        state[_YIN_AVERAGE] = 0.98 * state[_YIN_AVERAGE] + 0.02 * yin_periodicity
    if state[_ENSEMBLE_ON] > 0.5 and state[_YIN_AVERAGE] > AUTO_SOLO:
        state[_ENSEMBLE_ON] = 0.0
    elif state[_ENSEMBLE_ON] < 0.5 and state[_YIN_AVERAGE] < AUTO_ENSEMBLE:
        state[_ENSEMBLE_ON] = 1.0
    return state[_ENSEMBLE_ON] > 0.5


class MelodyTracker(FramedTracker):
    """Streaming predominant-melody f0 of polyphonic audio (see FramedTracker for outputs), the
    outer lines, top and bass, in `line_f0_hz` / `line_voiced` / `line_level_db` (never voiced
    where YIN's estimate was used), and the notes taken out of each frame in `chord_f0_hz`.

    auto: also run YIN and use it while the music sounds like a single line (it is cheaper
    and exact there); `ensemble` then tells, per frame, which estimate was used. The frames
    are then PitchTracker's (same ends, same f0, voicing and level where YIN's estimate is
    used), so a solo is heard in auto mode as in melody mode: the same notes announced at the
    same samples, the same events. Only the timestamps differ: they are taken at this frame's
    centre (`frame_delay_s`), 5 ms before YIN's at any input rate.
    """

    line_names = LINE_NAMES
    max_chord_notes = MAX_NOTES

    def __init__(self, sample_rate: int, hop_s: float = HOP_S, auto: bool = False) -> None:
        super().__init__(sample_rate, FRAME_S, hop_s)
        self.auto = auto
        self._tau_min, self._tau_max = yin_lag_range(self.settings.internal_rate_hz)
        if auto:  # YIN's frames are PitchTracker's, so that a solo reads as in melody mode
            self._share_grid(yin_frame_len(self._tau_max))
        (self._yin_energy, self._yin_corr, self._yin_diff, self._yin_cmnd,
         self._yin_register) = yin_scratch(self._tau_max)
        self._window = np.hanning(self.settings.frame_len)
        # A sine of amplitude a peaks at a * sum(window) / 2 in the spectrum; its power is a**2 / 2.
        self._power_scale = 2.0 / self._window.sum() ** 2
        self._fft = RealFft.for_frame(self.settings.frame_len)
        n_fft = self._fft.n_fft
        self._peak_hz = np.zeros(n_fft // 4)   # room for every local maximum
        self._peak_amp = np.zeros(n_fft // 4)
        self._votes = np.zeros((3, _N_BINS + 2 * _PAD))
        self._salience = np.zeros(_N_BINS)
        bins = np.arange(_N_BINS)
        self._kernel = np.stack([np.cos(np.pi * bins / BINS_PER_SEMITONE),
                                 np.sin(np.pi * bins / BINS_PER_SEMITONE)])
        self._height_weight = 2.0 ** (HEIGHT_PREFERENCE * bins / (12 * BINS_PER_SEMITONE))
        self._state = np.full(_N_STATE, -1.0)  # no bins followed yet
        self._state[_YIN_AVERAGE], self._state[_ENSEMBLE_ON], self._state[_YIN_PERIOD] = 1.0, 0.0, 0.0
        self._state[_HOLDS_LEFT] = 0.0  # nothing read yet to hold
        self._line_f0 = np.zeros(N_OUTER_LINES)
        self._line_confidence = np.zeros(N_OUTER_LINES)
        # Scratch of _outer_line_bins: candidates (bin, salience, salience when taken out, bound
        # of its note salience; the frames between two readings give their notes again), the
        # peaks' amplitude not yet taken, each candidate's peak per harmonic, and the peak
        # nearest each bin of the salience grid, up to its highest harmonic, and the timbre
        # features of each candidate (`_timbre_features`).
        self._choice = (np.zeros((4, N_CANDIDATES)), np.zeros(n_fft // 4),
                        np.zeros((N_CANDIDATES, N_HARMONICS + 2), dtype=np.int64),
                        np.zeros(_N_BINS + int(HARMONIC_BINS[-1]) + 2, dtype=np.int64),
                        np.zeros((N_CANDIDATES, _N_TIMBRE)))
        # The timbre model's weights and how many readings it learnt from (`_timbre_choice`).
        self._timbre_model = np.zeros(_N_TIMBRE + 1)

    @property
    def line_level_hops(self) -> int:
        """A further line's level is read from a whole frame, and held between the salience's
        readings: it goes on rising for SALIENCE_HOPS - 1 hops more than a frame spans."""
        return super().line_level_hops + SALIENCE_HOPS - 1

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        s = self.settings
        salience_frames_kernel(
            signal, first_end, n_frames, s.hop, s.frame_len, s.internal_rate_hz, self._window,
            self._fft.frame, self._fft.tables, self._fft.magnitude,
            self._peak_hz, self._peak_amp, self._votes, self._salience, self._kernel,
            self._height_weight, self._choice, self._timbre_model,
            self._state, self.auto, self._tau_min, self._tau_max, self._yin_energy,
            self._yin_corr, self._yin_diff, self._yin_cmnd, self._yin_register, self.f0_hz,
            self.periodicity, self.level_db, self.voiced, self.ensemble, self.line_f0_hz,
            self.line_voiced, self.line_level_db, self.chord_f0_hz, self._line_f0,
            self._line_confidence, self._power_scale)
