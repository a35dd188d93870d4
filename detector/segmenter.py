"""Online note segmentation: from 10 ms pitch frames to note onsets, as they happen.

A note is announced once its pitch has been stable for MIN_NOTE_FRAMES voiced frames, so the
matcher hears about it ~40 ms after its onset (plus the tracker's window), long before it ends.
A note ends on silence, on a new stable pitch, or on a re-attack at the same pitch (a level jump
after a dip), which is how repeated notes are told apart. Short excursions (an octave slip of
the tracker, a vibrato swing, a glide between notes) neither end a note nor start one.

Real-time contract: `NoteSegmenter.process` allocates nothing once its outputs fit the block.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Voiced frames of stable pitch that make a note (40 ms at a 10 ms hop).
MIN_NOTE_FRAMES = 4
#: How far (semitones) a frame may stray from the note's pitch and still belong to it.
PITCH_TOLERANCE = 0.75
#: Unvoiced frames that end a note (30 ms).
GAP_FRAMES = 3
#: A level rise (dB) over the note's recent minimum that counts as a re-attack.
REATTACK_DB = 4.5
#: How fast (dB per frame) the remembered minimum forgets an old dip.
VALLEY_LEAK_DB = 0.5

# Integer state.
_IN_NOTE, _CAND_N, _UNVOICED_RUN, _SINCE_ONSET = range(4)
# Float state.
_NOTE_PITCH, _VALLEY_DB, _PREV_DB, _CAND_START_S = range(4)


@numba.njit(cache=True, nogil=True)
def _median(values, n, scratch):
    for k in range(n):
        scratch[k] = values[k]
    scratch[:n].sort()
    if n % 2:
        return scratch[n // 2]
    return 0.5 * (scratch[n // 2 - 1] + scratch[n // 2])


@numba.njit(cache=True, nogil=True)
def segment_kernel(f0_hz, voiced, level_db, end_sample, n_frames, sample_rate, frame_delay_s,
                   istate, fstate, cand_pitch, scratch,
                   out_pitch, out_onset_s, out_end_sample):
    """Advance the segmenter over n_frames pitch frames; write each note announced.

    A frame's time (its window's centre) is end_sample / sample_rate - frame_delay_s.

    cand_pitch and scratch hold MIN_NOTE_FRAMES candidate pitches (MIDI). Returns the number of
    notes written; out_end_sample is the detector clock (input samples) at each announcement.
    """
    n_notes = 0
    for f in range(n_frames):
        if not voiced[f]:
            istate[_UNVOICED_RUN] += 1
            istate[_CAND_N] = 0
            if istate[_UNVOICED_RUN] >= GAP_FRAMES:
                istate[_IN_NOTE] = 0
            fstate[_PREV_DB] = level_db[f]
            continue
        istate[_UNVOICED_RUN] = 0
        pitch = 69.0 + 12.0 * math.log2(f0_hz[f] / 440.0)
        level = level_db[f]
        if istate[_IN_NOTE]:
            istate[_SINCE_ONSET] += 1
            fits = abs(pitch - fstate[_NOTE_PITCH]) <= PITCH_TOLERANCE
            reattack = (level > fstate[_VALLEY_DB] + REATTACK_DB and level > fstate[_PREV_DB] + 1.5
                        and istate[_SINCE_ONSET] > MIN_NOTE_FRAMES)
            fstate[_PREV_DB] = level
            if fits and not reattack:
                istate[_CAND_N] = 0
                fstate[_VALLEY_DB] = min(fstate[_VALLEY_DB] + VALLEY_LEAK_DB, level)
                continue
            if reattack:
                istate[_IN_NOTE] = 0
                istate[_CAND_N] = 0
        else:
            fstate[_PREV_DB] = level
        # Outside a note, or straying from it: gather a candidate of stable pitch.
        n = istate[_CAND_N]
        if n > 0 and abs(pitch - _median(cand_pitch, n, scratch)) > PITCH_TOLERANCE:
            n = 0
        if n == 0:
            fstate[_CAND_START_S] = end_sample[f] / sample_rate - frame_delay_s
        cand_pitch[n] = pitch
        n += 1
        istate[_CAND_N] = n
        if n < MIN_NOTE_FRAMES:
            continue
        note_pitch = _median(cand_pitch, n, scratch)
        istate[_IN_NOTE] = 1
        istate[_CAND_N] = 0
        istate[_SINCE_ONSET] = n
        fstate[_NOTE_PITCH] = note_pitch
        fstate[_VALLEY_DB] = level
        out_pitch[n_notes] = note_pitch
        out_onset_s[n_notes] = fstate[_CAND_START_S]
        out_end_sample[n_notes] = end_sample[f]
        n_notes += 1
    return n_notes


class NoteSegmenter:
    """Turns PitchTracker frames into note announcements (pitch, onset, when announced).

    After `process(...)` returns n, the first n rows of `pitch` (MIDI, fractional),
    `onset_s` (stream seconds) and `end_sample` (detector clock at announcement) hold the notes.
    """

    def __init__(self, sample_rate: int, frame_delay_s: float) -> None:
        self.sample_rate = sample_rate
        self.frame_delay_s = frame_delay_s
        self._istate = np.zeros(4, dtype=np.int64)
        self._fstate = np.zeros(4, dtype=np.float64)
        self._cand = np.zeros(MIN_NOTE_FRAMES, dtype=np.float64)
        self._scratch = np.zeros(MIN_NOTE_FRAMES, dtype=np.float64)
        self._grow(64)

    def _grow(self, n: int) -> None:
        self.pitch = np.zeros(n, dtype=np.float64)
        self.onset_s = np.zeros(n, dtype=np.float64)
        self.end_sample = np.zeros(n, dtype=np.int64)

    def process(self, f0_hz: np.ndarray, voiced: np.ndarray, level_db: np.ndarray,
                end_sample: np.ndarray, n_frames: int) -> int:
        """Consume the first n_frames rows of the frame arrays; return the notes announced."""
        if n_frames > self.pitch.shape[0]:
            self._grow(n_frames)
        return segment_kernel(f0_hz, voiced, level_db, end_sample, n_frames, self.sample_rate,
                              self.frame_delay_s, self._istate, self._fstate, self._cand, self._scratch,
                              self.pitch, self.onset_s, self.end_sample)
