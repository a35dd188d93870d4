"""Random but melody-like note sequences for the pitch and speed benchmarks.

A melody walks a major or natural-minor scale on a random tonic, mostly in steps with some
leaps (an octave now and then), in a simple rhythm of half, one, one-and-a-half and two beats.
The notes come back as (midi_pitch, onset_s, duration_s) triples, onsets from 0, or as Themes.
"""

from __future__ import annotations

import numpy as np

from detector.notes import Note
from detector.themes import Theme, theme_from_notes

NoteTriple = tuple[int, float, float]

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
#: Scale-degree steps and how often a melody takes them (seven degrees make an octave).
_STEPS = np.array([0, 1, -1, 2, -2, 3, -3, 4, -4, 7, -7])
_STEP_WEIGHTS = np.array([0.08, 0.21, 0.21, 0.13, 0.13, 0.06, 0.06, 0.04, 0.04, 0.02, 0.02])
#: Note lengths in beats, and how often each occurs.
_BEATS = np.array([0.5, 1.0, 1.5, 2.0])
_BEAT_WEIGHTS = np.array([0.35, 0.4, 0.1, 0.15])


def scale_pitches(rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """The MIDI pitches in [low, high] of a random major or minor scale, ascending."""
    tonic = int(rng.integers(12))
    degrees = _MAJOR if rng.random() < 0.5 else _MINOR
    pitches = [p for p in range(low, high + 1) if (p - tonic) % 12 in degrees]
    if len(pitches) < 2:
        raise ValueError(f"the range {low}-{high} holds fewer than two notes of a scale")
    return np.array(pitches)


def melody(
    rng: np.random.Generator,
    n_notes: int,
    low: int,
    high: int,
    beat_s: float = 0.3,
    rest_probability: float = 0.0,
    rest_s: tuple[float, float] = (1.0, 1.6),
) -> list[NoteTriple]:
    """n_notes of a random melody within MIDI pitches [low, high], onsets in seconds from 0.

    beat_s: the length of one beat in seconds (a note lasts 0.5 to 2 beats, played for 85-100 %
    of that); rest_probability: the chance that a silence of rest_s (min, max) seconds follows a note.
    """
    pitches = scale_pitches(rng, low, high)
    size = len(pitches)
    index = int(rng.integers(size // 4, max(3 * size // 4, size // 4 + 1)))  # start in the middle half
    onset_s = 0.0
    notes: list[NoteTriple] = []
    for _ in range(n_notes):
        span_s = float(rng.choice(_BEATS, p=_BEAT_WEIGHTS)) * beat_s
        notes.append((int(pitches[index]), round(onset_s, 4), round(span_s * rng.uniform(0.85, 1.0), 4)))
        onset_s += span_s
        if rng.random() < rest_probability:
            onset_s += rng.uniform(*rest_s)
        index = _reflect(index + int(rng.choice(_STEPS, p=_STEP_WEIGHTS)), len(pitches))
    return notes


def _reflect(index: int, size: int) -> int:
    """Fold an index that walked off either end of range(size) back inside it."""
    period = 2 * (size - 1)
    index %= period
    return period - index if index >= size else index


def random_themes(count: int, seed: int = 0) -> list[Theme]:
    """count melody-like themes of 8-20 notes (MIDI 55-79, beats of 0.2-0.4 s), named random-k.

    Deterministic: the first n themes are the same whatever count is asked for.
    """
    rng = np.random.default_rng(seed)
    themes = []
    for k in range(count):
        notes = melody(rng, int(rng.integers(8, 21)), 55, 79, beat_s=float(rng.uniform(0.2, 0.4)))
        themes.append(Theme(f"random-{k}", tuple(Note(float(p), onset, duration) for p, onset, duration in notes)))
    return themes


def with_chords(theme: Theme) -> Theme:
    """The theme with a harmony: under every second note, a triad in the octave below the
    melody that has the note as its third (major or minor by whether the pitch is odd), held
    until the next chord, the last to the theme's end. For what the harmony path costs, which
    grows with the themes' length; the chords are plain, not a harmonisation anyone would choose."""
    chords = []
    end_s = theme.notes[-1].end_s
    for first, nxt in zip(theme.notes[::2], (*theme.notes[2::2], None)):
        until_s = nxt.onset_s if nxt is not None else end_s
        third = 4 if round(first.pitch) % 2 else 3
        root = first.pitch - 12 - third  # the note, an octave down, is the chord's third
        chords += [Note(root + interval, first.onset_s, until_s - first.onset_s) for interval in (0, third, 7)]
    return theme_from_notes(theme.name, theme.notes, theme.source, all_notes=[*theme.notes, *chords])
