"""Online note segmentation: from 10 ms pitch frames to notes, announced as they sound.

A note begins when MIN_NOTE_FRAMES voiced frames hold one pitch (a glide between notes moves
too far to qualify). It is announced to the matcher ANNOUNCE_FRAMES after its onset, or when it
ends if sooner, with the median pitch of its frames after the attack: late enough that a sung
note's scoop or a vibrato swing does not bias it, early enough (~100 ms) to announce a theme
long before it ends. A note ends on silence, on a new stable pitch, or on a re-attack at the
same pitch (a level jump after a dip), which is how repeated notes are told apart, so the
level should be the line's own: an ensemble's top and bass lines are given the power at their
harmonics, not the mixture's level, where every voice's entry and every drum hit is a jump.
A held note's level need not be steady, though: on an outer line of a unison choir, the power at
its harmonics swings by as much as a re-attack several times a second (the voices' partials beat
one by one). On such a line a re-attack must also rise JITTER_FACTOR times the level's recent
jitter, its mean change from frame to frame while a pitch holds: a steady line's re-attacks are
heard as before, and a beating one's swings are not taken for repeated notes.
Short excursions (an octave slip of the tracker, a vibrato swing) neither end a note nor start
one. On a line read out of a mixture, neither does a note too short to have been announced that
returns to the pitch before it: the line took another voice's note for a moment, and the held
note goes on.

A leap of more than LEAP_SEMITONES straight after a note must hold for LEAP_FRAMES before it
counts: where a reverberant tail overlaps the next note, YIN locks for a while onto the two
notes' common subharmonic, two or three octaves down, and that is not a melody note.

Real-time contract: `NoteSegmenter.process` allocates nothing once its outputs fit the block.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Voiced frames of stable pitch that make a note (50 ms at a 10 ms hop).
MIN_NOTE_FRAMES = 5
#: Frames after its onset at which a still-sounding note is announced.
ANNOUNCE_FRAMES = 16
#: Frames at the start of a note left out of its pitch (the attack, a scoop).
ATTACK_FRAMES = 2
#: How far (semitones) a frame may stray from the note's pitch and still belong to it.
PITCH_TOLERANCE = 0.75
#: Until a note is announced, its frames are compared with the median of this many latest.
DRIFT_FRAMES = 8
#: How far (semitones) the frames of a new note may stray from their median.
ONSET_TOLERANCE = 0.5
#: Unvoiced frames that end a note (30 ms).
GAP_FRAMES = 3
#: A level rise (dB) over the note's recent minimum that counts as a re-attack.
REATTACK_DB = 4.5
#: How fast (dB per frame) the remembered minimum forgets an old dip.
VALLEY_LEAK_DB = 0.5
#: On a line whose level jitters, a re-attack must also rise this many times the jitter ...
JITTER_FACTOR = 7.0
#: ... the mean absolute level change per frame while a pitch holds, each frame weighing this much.
JITTER_RATE = 0.05
#: A note that began within this many seconds of the previous note's end is straight after it.
EXCURSION_GAP_S = 0.05
#: A jump this large (semitones) right after a note needs LEAP_FRAMES to count.
LEAP_SEMITONES = 15.0
LEAP_FRAMES = 15
#: "Right after": within this many seconds of the previous note's last frame.
LEAP_WINDOW_S = 0.3
_BUFFER = 16  # frames of pitch kept per note and per candidate

# Integer state.
_IN_NOTE, _ANNOUNCED, _NOTE_N, _CAND_N, _UNVOICED_RUN, _N_ISTATE = range(6)
# Float state.
(_NOTE_REF, _VALLEY_DB, _PREV_DB, _CAND_START_S, _NOTE_START_S, _LAST_PITCH, _LAST_END_S,
 _PREV_END_S, _JITTER_DB, _N_FSTATE) = range(10)


@numba.njit(cache=True, nogil=True)
def _median(values, start, n, scratch):
    """Median of values[start:n] (n - start >= 1), sorting in scratch."""
    m = n - start
    for k in range(m):
        scratch[k] = values[start + k]
    scratch[:m].sort()
    if m % 2:
        return scratch[m // 2]
    return 0.5 * (scratch[m // 2 - 1] + scratch[m // 2])


@numba.njit(cache=True, nogil=True)
def _announce(istate, fstate, note_pitch, scratch, clock, out_pitch, out_onset_s,
              out_end_sample, n_notes):
    """Write the current note as announced at detector clock `clock`; return n_notes + 1."""
    n = istate[_NOTE_N]
    skip = ATTACK_FRAMES if n - ATTACK_FRAMES >= MIN_NOTE_FRAMES - ATTACK_FRAMES else 0
    pitch = _median(note_pitch, skip, n, scratch)
    out_pitch[n_notes] = pitch
    out_onset_s[n_notes] = fstate[_NOTE_START_S]
    out_end_sample[n_notes] = clock
    istate[_ANNOUNCED] = 1
    fstate[_LAST_PITCH] = pitch
    return n_notes + 1


@numba.njit(cache=True, nogil=True)
def _end_note(istate, fstate, note_pitch, scratch, clock, out_pitch, out_onset_s,
              out_end_sample, n_notes):
    """Close the current note, announcing it now if it was not yet; return n_notes."""
    if not istate[_ANNOUNCED]:
        n_notes = _announce(istate, fstate, note_pitch, scratch, clock, out_pitch, out_onset_s,
                            out_end_sample, n_notes)
    istate[_IN_NOTE] = 0
    fstate[_PREV_END_S] = fstate[_LAST_END_S]
    return n_notes


@numba.njit(cache=True, nogil=True)
def _is_excursion(istate, fstate, candidate):
    """Is the current note, now that `candidate` has settled, an excursion: a note not yet
    announced, straight after the one before it (no gap), and the pitch returns to that one's?"""
    return (not istate[_ANNOUNCED]
            and fstate[_NOTE_START_S] - fstate[_PREV_END_S] < EXCURSION_GAP_S
            and abs(candidate - fstate[_LAST_PITCH]) <= PITCH_TOLERANCE)


@numba.njit(cache=True, nogil=True)
def _take_candidate(istate, fstate, cand_pitch, note_pitch, n, reference, announced, level, time_s):
    """The candidate's n frames become the current note's, around pitch `reference`: a new note
    (announced = 0), or the announced one before an excursion going on (announced = 1)."""
    for k in range(n):
        note_pitch[k] = cand_pitch[k]
    istate[_IN_NOTE] = 1
    istate[_ANNOUNCED] = announced
    istate[_NOTE_N] = n
    istate[_CAND_N] = 0
    fstate[_NOTE_REF] = reference
    fstate[_VALLEY_DB] = level
    fstate[_LAST_END_S] = time_s


@numba.njit(cache=True, nogil=True)
def segment_kernel(f0_hz, voiced, level_db, end_sample, n_frames, sample_rate, frame_delay_s,
                   excursions, reattack_after, jitter_factor, istate, fstate, cand_pitch, note_pitch,
                   scratch, out_pitch, out_onset_s, out_end_sample):
    """Advance the segmenter over n_frames pitch frames; write each note announced.

    A frame's time (its window's centre) is end_sample / sample_rate - frame_delay_s.
    A re-attack is looked for once a note has more than reattack_after frames, and must rise
    jitter_factor times the level's jitter too (0: REATTACK_DB is enough). cand_pitch,
    note_pitch and scratch hold _BUFFER pitches (MIDI) each. Returns the number of notes
    written; out_end_sample is the detector clock (input samples) at each announcement.
    """
    n_notes = 0
    for f in range(n_frames):
        time_s = end_sample[f] / sample_rate - frame_delay_s
        level = level_db[f]
        if not voiced[f]:
            istate[_UNVOICED_RUN] += 1
            istate[_CAND_N] = 0
            if istate[_IN_NOTE] and istate[_UNVOICED_RUN] >= GAP_FRAMES:
                n_notes = _end_note(istate, fstate, note_pitch, scratch, end_sample[f],
                                    out_pitch, out_onset_s, out_end_sample, n_notes)
            fstate[_PREV_DB] = level
            continue
        istate[_UNVOICED_RUN] = 0
        pitch = 69.0 + 12.0 * math.log2(f0_hz[f] / 440.0)
        if istate[_IN_NOTE]:
            fits = abs(pitch - fstate[_NOTE_REF]) <= PITCH_TOLERANCE
            rise = max(REATTACK_DB, jitter_factor * fstate[_JITTER_DB])
            reattack = (level > fstate[_VALLEY_DB] + rise and level > fstate[_PREV_DB] + 1.5
                        and istate[_NOTE_N] > reattack_after)
            if fits and jitter_factor > 0.0:  # the jitter, while a pitch holds (re-attacks too)
                change = abs(level - fstate[_PREV_DB])
                fstate[_JITTER_DB] += JITTER_RATE * (change - fstate[_JITTER_DB])
            fstate[_PREV_DB] = level
            if fits and not reattack:
                istate[_CAND_N] = 0
                fstate[_VALLEY_DB] = min(fstate[_VALLEY_DB] + VALLEY_LEAK_DB, level)
                fstate[_LAST_END_S] = time_s
                n = istate[_NOTE_N]
                if n == _BUFFER:  # keep the latest frames
                    note_pitch[:-1] = note_pitch[1:]
                    n -= 1
                note_pitch[n] = pitch
                istate[_NOTE_N] = n + 1
                # Until it is announced, the reference follows a note that scoops into place.
                if not istate[_ANNOUNCED]:
                    fstate[_NOTE_REF] = _median(note_pitch, max(0, n + 1 - DRIFT_FRAMES), n + 1,
                                                scratch)
                if not istate[_ANNOUNCED] and istate[_NOTE_N] >= ANNOUNCE_FRAMES:
                    n_notes = _announce(istate, fstate, note_pitch, scratch, end_sample[f],
                                        out_pitch, out_onset_s, out_end_sample, n_notes)
                continue
            if reattack:
                n_notes = _end_note(istate, fstate, note_pitch, scratch, end_sample[f],
                                    out_pitch, out_onset_s, out_end_sample, n_notes)
                istate[_CAND_N] = 0
        else:
            fstate[_PREV_DB] = level
        # Gather a candidate of stable pitch (outside a note, or straying from it).
        n = istate[_CAND_N]
        if n > 0 and abs(pitch - _median(cand_pitch, 0, n, scratch)) > ONSET_TOLERANCE:
            n = 0
        if n == 0:
            fstate[_CAND_START_S] = time_s
        if n == _BUFFER:  # a held leap candidate: keep the latest frames
            cand_pitch[:-1] = cand_pitch[1:]
            n -= 1
        cand_pitch[n] = pitch
        n += 1
        istate[_CAND_N] = n
        if n < MIN_NOTE_FRAMES:
            continue
        candidate = _median(cand_pitch, 0, n, scratch)
        if istate[_IN_NOTE]:  # a new pitch has settled: the note before it is over
            if not excursions and _is_excursion(istate, fstate, candidate):
                # Drop the excursion: the announced note before it goes on.
                _take_candidate(istate, fstate, cand_pitch, note_pitch, n, fstate[_LAST_PITCH], 1,
                                level, time_s)
                continue
            n_notes = _end_note(istate, fstate, note_pitch, scratch, end_sample[f],
                                out_pitch, out_onset_s, out_end_sample, n_notes)
        leap = (abs(candidate - fstate[_LAST_PITCH]) > LEAP_SEMITONES
                and fstate[_CAND_START_S] - fstate[_LAST_END_S] < LEAP_WINDOW_S)
        if leap and n < LEAP_FRAMES:
            continue
        # A new note begins, with the candidate's frames.
        _take_candidate(istate, fstate, cand_pitch, note_pitch, n, candidate, 0, level, time_s)
        fstate[_NOTE_START_S] = fstate[_CAND_START_S]
        if n >= ANNOUNCE_FRAMES:
            n_notes = _announce(istate, fstate, note_pitch, scratch, end_sample[f],
                                out_pitch, out_onset_s, out_end_sample, n_notes)
    return n_notes


class NoteSegmenter:
    """Turns PitchTracker frames into note announcements (pitch, onset, when announced).

    After `process(...)` returns n, the first n rows of `pitch` (MIDI, fractional),
    `onset_s` (stream seconds) and `end_sample` (detector clock at announcement) hold the notes.
    The frames' level should be the line's own: a rise of REATTACK_DB after a dip, at one
    pitch, is a re-attack (a new note).

    level_window_frames: how many hops the level of a frame measures (1: the latest hop's power;
    more for a level read from a whole frame's spectrum, which goes on rising for that long
    after a note's onset): no re-attack is looked for in a note's first frames before then.

    excursions: whether a short note (not yet announced) straight after another, that returns
    to that one's pitch, is a note. Leave it on for a line of its own; on a line read out of a
    mixture it is mostly another voice's note taken for a moment, and it is dropped.

    level_jitters: whether the level may swing while a note holds (an outer line's, read out of
    a mixture's spectrum): a re-attack must then also stand out from its recent jitter.
    """

    def __init__(self, sample_rate: int, frame_delay_s: float, excursions: bool = True,
                 level_window_frames: int = 1, level_jitters: bool = False) -> None:
        self.sample_rate = sample_rate
        self.excursions = excursions
        self._reattack_after = max(MIN_NOTE_FRAMES, level_window_frames)
        self._jitter_factor = JITTER_FACTOR if level_jitters else 0.0
        self.frame_delay_s = frame_delay_s
        self._istate = np.zeros(_N_ISTATE, dtype=np.int64)
        self._fstate = np.zeros(_N_FSTATE, dtype=np.float64)
        self._fstate[_LAST_END_S] = -np.inf
        self._fstate[_PREV_END_S] = -np.inf
        self._cand = np.zeros(_BUFFER, dtype=np.float64)
        self._note = np.zeros(_BUFFER, dtype=np.float64)
        self._scratch = np.zeros(_BUFFER, dtype=np.float64)
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
                              self.frame_delay_s, self.excursions, self._reattack_after,
                              self._jitter_factor, self._istate, self._fstate, self._cand, self._note,
                              self._scratch, self.pitch, self.onset_s, self.end_sample)
