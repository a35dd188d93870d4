"""The melody's instrument, learnt as it plays: which note of a frame is the melody's.

The predominant line (salience.py) follows the voice an arrangement brings out most of the
time, and jumps to another voice's note where that one is momentarily more salient. A logistic
regression, learnt online by gradient steps and taught by that line, learns what the notes it
follows look like: their harmonics' levels under their strongest, their level under the frame's
loudest note, their register and place in the chord. Where it says the line's note is not that
voice's, the note it scores highest among those taken out of the frame (frame_notes.py) is the
melody's.

Real-time contract: numba kernels on the preallocated arrays of `TimbreModel`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.frame_notes import N_CANDIDATES
from detector.harmonic_sum import BINS_PER_SEMITONE, N_HARMONICS

LEARNING_RATE = 0.02          # per salience reading,
WEIGHT_DECAY = 1e-3           # ... the weights' decay towards 0 (L2), relative to the rate,
WARMUP_READINGS = 25          # ... and the readings it learns from before it chooses the note
FLOOR_DB = -60.0              # a harmonic this far under a note's strongest (or none) counts as this
#: A note's features (`timbre_features`): its harmonics' levels under its strongest, its level
#: under the frame's loudest note, its pitch, whether it is the highest or the lowest note, and
#: a constant.
N_FEATURES = N_HARMONICS + 5
_SEEN = N_FEATURES            # the model holds the weights, then how many readings it learnt from
_SAME_NOTE_BINS = BINS_PER_SEMITONE // 2  # a taken note this near the teacher's bin is its note


class TimbreModel:
    """The model's `weights` (and the count of readings learnt from, after them), and the
    `features` of each candidate note of the frame being read (scratch)."""

    def __init__(self) -> None:
        self.weights = np.zeros(N_FEATURES + 1)
        self.features = np.zeros((N_CANDIDATES, N_FEATURES))


@numba.njit(cache=True, nogil=True, fastmath=True)
def timbre_features(candidates, harmonics, peak_amp, features):
    """features[c] = the timbre model's features of each note taken out of the frame
    (candidates[2, c] > 0; see N_FEATURES), scaled to about unit range."""
    loudest = FLOOR_DB * 4.0
    highest, lowest = -1.0, np.inf
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        level = FLOOR_DB * 4.0
        for h in range(1, N_HARMONICS + 1):
            peak = harmonics[c, h]
            db = 20.0 * math.log10(peak_amp[peak] + 1e-12) if peak >= 0 else FLOOR_DB * 4.0
            features[c, h - 1] = db
            level = max(level, db)
        for h in range(N_HARMONICS):
            features[c, h] = max(features[c, h] - level, FLOOR_DB) / 20.0
        features[c, N_HARMONICS] = level
        loudest = max(loudest, level)
        highest = max(highest, candidates[0, c])
        lowest = min(lowest, candidates[0, c])
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        features[c, N_HARMONICS] = max(features[c, N_HARMONICS] - loudest, FLOOR_DB) / 10.0
        features[c, N_HARMONICS + 1] = candidates[0, c] / (12.0 * BINS_PER_SEMITONE) - 2.0
        features[c, N_HARMONICS + 2] = 1.0 if candidates[0, c] == highest else 0.0
        features[c, N_HARMONICS + 3] = 1.0 if candidates[0, c] == lowest else 0.0
        features[c, N_HARMONICS + 4] = 1.0


@numba.njit(cache=True, nogil=True, fastmath=True)
def timbre_choice(candidates, features, model, teacher_bin):
    """The bin of the note taken out of the frame that the model scores highest, where it is
    not the teacher's (-1: the teacher's note, none, or the model has not yet learnt enough);
    then the model learns from the frame. teacher_bin: the predominant line's bin, -1 where it
    is unvoiced; candidates and features: the frame's notes (`timbre_features`)."""
    chosen, best_score = -1, -np.inf
    teacher_score, taught = -np.inf, False  # taught: the teacher's note is among those taken
    for c in range(N_CANDIDATES):
        if candidates[2, c] <= 0.0:
            continue
        score = 0.0
        for j in range(N_FEATURES):
            score += model[j] * features[c, j]
        candidates[3, c] = score  # the bound is spent: the notes are taken
        if score > best_score:
            chosen, best_score = c, score
        if teacher_bin >= 0 and abs(candidates[0, c] - teacher_bin) <= _SAME_NOTE_BINS:
            teacher_score = max(teacher_score, score)
            taught = True
    if taught:
        for j in range(N_FEATURES):
            model[j] -= LEARNING_RATE * WEIGHT_DECAY * model[j]
        for c in range(N_CANDIDATES):
            if candidates[2, c] <= 0.0:
                continue
            target = 1.0 if abs(candidates[0, c] - teacher_bin) <= _SAME_NOTE_BINS else 0.0
            error = target - 1.0 / (1.0 + math.exp(-candidates[3, c]))
            for j in range(N_FEATURES):
                model[j] += LEARNING_RATE * error * features[c, j]
        model[_SEEN] += 1.0
    if model[_SEEN] <= WARMUP_READINGS or chosen < 0 or teacher_score >= 0.0:
        return -1
    return int(candidates[0, chosen])
