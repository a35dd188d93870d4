"""Auto mode's choice, frame by frame: does the music sound like one line or an ensemble?

A solo line is periodic (YIN periodicity ~0.98 on pitched frames); chords and bass under a
melody bring it to ~0.85. The decision follows a ~0.5 s average of pitched frames, with
hysteresis so that it does not flicker. Only frames whose pitch holds count: where one note
gives way to the next, a solo is aperiodic too, and a quick or low tune would pass for an
ensemble.

Some solos still pass for an ensemble a while (a low clarinet, a piano, an instrument that has
just changed, reverberation). The ensemble's reading then mostly repeats YIN's: its melody is
YIN's pitch in most frames where both hear one, which in a real ensemble it seldom is (YIN reads
the mixture's period, the bass or nothing). While that agreement holds, the frame is read as a
single line after all (`repeats_yin`), so that a solo is heard with melody mode's notes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ENSEMBLE_BELOW = 0.9          # below this average YIN periodicity, read an ensemble
SOLO_ABOVE = 0.95             # ... and above this, a single line again
STEADY_OCTAVES = 1 / 24       # ... counting only frames whose pitch holds to a quarter tone
LEVEL_DB = -45.0              # frames quieter than this do not move the average
AGREEMENT_SOLO = 0.8          # read one line where the ensemble's melody was YIN's pitch this often
AGREEMENT_RATE = 0.03         # ... on average over the last ~0.3 s (this weight per frame)
AGREE_SEMITONES = 0.5         # ... within this much
# The state: the periodicity average, 1.0 while an ensemble is read, YIN's previous period (0: none),
# and how often the ensemble's melody has been YIN's pitch (1.0 until it is read).
_AVERAGE, _ENSEMBLE_ON, _PERIOD, _AGREEMENT = range(4)


def new_auto_state() -> np.ndarray:
    """The state `choose_ensemble` starts from: a single line, heard as perfectly periodic."""
    state = np.zeros(4)
    state[_AVERAGE] = 1.0
    state[_AGREEMENT] = 1.0
    return state


@numba.njit(cache=True, nogil=True)
def choose_ensemble(state, yin_periodicity, level_db, period):
    """Is the music polyphonic, given this frame's YIN periodicity (1 - CMND), level (dBFS)
    and period (any unit)? Updates state (`new_auto_state`)."""
    previous_period = state[_PERIOD]
    steady = previous_period > 0.0 and abs(math.log2(period / previous_period)) < STEADY_OCTAVES
    state[_PERIOD] = period
    if level_db > LEVEL_DB and yin_periodicity > 0.5 and steady:
        state[_AVERAGE] = 0.98 * state[_AVERAGE] + 0.02 * yin_periodicity
    if state[_ENSEMBLE_ON] > 0.5 and state[_AVERAGE] > SOLO_ABOVE:
        state[_ENSEMBLE_ON] = 0.0
    elif state[_ENSEMBLE_ON] < 0.5 and state[_AVERAGE] < ENSEMBLE_BELOW:
        state[_ENSEMBLE_ON] = 1.0
    if state[_ENSEMBLE_ON] < 0.5:
        state[_AGREEMENT] = 1.0  # an ensemble's reading is trusted only once it says more than YIN
    return state[_ENSEMBLE_ON] > 0.5


@numba.njit(cache=True, nogil=True)
def repeats_yin(state, melody_hz, melody_voiced, yin_hz, yin_voiced):
    """In a frame `choose_ensemble` reads as an ensemble: has its melody (melody_hz) mostly
    been YIN's pitch (yin_hz) lately, counting the frames where both are voiced, so that the
    frame had better be read as a single line? Updates state (`new_auto_state`)."""
    if melody_voiced and yin_voiced:
        agrees = abs(12.0 * math.log2(melody_hz / yin_hz)) < AGREE_SEMITONES
        state[_AGREEMENT] += AGREEMENT_RATE * ((1.0 if agrees else 0.0) - state[_AGREEMENT])
    return state[_AGREEMENT] >= AGREEMENT_SOLO
