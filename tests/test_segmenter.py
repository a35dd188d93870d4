"""Note segmentation: a re-attack at one pitch is a new note, unless the level is a mixture's;
a short note between two of one pitch is a note, unless the line is read out of a mixture."""

import numpy as np
import pytest

from detector.notes import midi_to_hz
from detector.segmenter import NoteSegmenter

SAMPLE_RATE = 16000
HOP = 160


def frames_of(*notes: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Pitch frames of consecutive (MIDI pitch, seconds) notes at one level, then 0.1 s of silence."""
    midi = np.concatenate([np.full(round(seconds * SAMPLE_RATE / HOP), pitch) for pitch, seconds in notes]
                          + [np.full(10, 69.0)])
    n = len(midi)
    voiced = np.arange(n) < n - 10
    end_sample = (np.arange(n) + 1) * HOP
    return midi_to_hz(midi), voiced, np.full(n, -20.0), end_sample


def held_a4_with_a_level_jump() -> tuple[np.ndarray, ...]:
    """One second of A4 whose level dips by 12 dB for 50 ms at 0.5 s and comes back: a
    re-articulated note. Then 0.1 s of silence."""
    f0_hz, voiced, level_db, end_sample = frames_of((69, 1.0))
    level_db[45:50] = -32.0
    return f0_hz, voiced, level_db, end_sample


def segment(frames: tuple[np.ndarray, ...], **options) -> tuple[np.ndarray, np.ndarray]:
    """The pitches and onsets (s) of the notes a NoteSegmenter (with options) finds in frames."""
    segmenter = NoteSegmenter(SAMPLE_RATE, frame_delay_s=0.0, **options)
    n = segmenter.process(*frames, len(frames[0]))
    return segmenter.pitch[:n], segmenter.onset_s[:n]


@pytest.mark.parametrize("level_jitters", [False, True])
def test_a_level_jump_at_one_pitch_starts_a_note(level_jitters):
    pitches, onsets_s = segment(held_a4_with_a_level_jump(), level_jitters=level_jitters)
    assert pitches == pytest.approx([69.0, 69.0])
    assert onsets_s == pytest.approx([0.0, 0.5], abs=0.03)


def beating_a4() -> tuple[np.ndarray, ...]:
    """Two seconds of A4 read from a mixture's spectrum every other frame, whose level swings as a
    unison's partials beat: -20, -23, -26 and back to -20 dB, a 6 dB jump, every 80 ms. At 1.5 s
    it dips to -40 dB for 50 ms and comes back: a re-articulated note. Then 0.1 s of silence."""
    f0_hz, voiced, level_db, end_sample = frames_of((69, 2.0))
    beat = np.repeat([-20.0, -23.0, -26.0, -20.0], 2)
    level_db[:200] = np.resize(beat, 200)
    level_db[150:155] = -40.0
    return f0_hz, voiced, level_db, end_sample


def onsets_after(frames: tuple[np.ndarray, ...], after_s: float, level_jitters: bool) -> np.ndarray:
    """The onsets (s) later than after_s of the notes a segmenter finds in frames."""
    _, onsets_s = segment(frames, level_jitters=level_jitters)
    return onsets_s[onsets_s > after_s]


def test_a_level_that_beats_while_its_pitch_holds_splits_the_note_only_on_a_steady_line():
    # On a line that expects a steady level, every beat is a re-attack ...
    assert len(onsets_after(beating_a4(), 0.3, level_jitters=False)) > 10
    # ... on a line whose level jitters, none is once it has heard how much the level swings
    # (within its first 0.3 s), and the re-articulation still stands out.
    assert onsets_after(beating_a4(), 0.3, level_jitters=True) == pytest.approx([1.55], abs=0.02)


@pytest.mark.parametrize("notes, excursions, expected", [
    # 0.1 s of E4 inside an A4: another voice's note the line took for a moment.
    (((69, 0.5), (64, 0.1), (69, 0.5)), True, [69, 64, 69]),
    (((69, 0.5), (64, 0.1), (69, 0.5)), False, [69]),
    # Long enough to have been announced: a note, either way.
    (((69, 0.5), (64, 0.3), (69, 0.5)), False, [69, 64, 69]),
    # Short, but it leads on to another pitch: a note, either way.
    (((69, 0.5), (64, 0.1), (72, 0.5)), False, [69, 64, 72]),
])
def test_a_short_excursion_that_returns_is_dropped_only_without_excursions(notes, excursions, expected):
    pitches, _ = segment(frames_of(*notes), excursions=excursions)
    assert pitches == pytest.approx(expected, abs=0.01)
