"""Note values shared by the loaders, the matcher and the synthesiser."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAME_RE = re.compile(r"^([A-Ga-g])([#b]*)(-?\d)$")


@dataclass(frozen=True)
class Note:
    """One note of a melody.

    pitch: MIDI number, fractional for tuning (60.0 is middle C, 60.5 a quarter tone above).
    onset_s: start, in seconds from the start of the melody.
    duration_s: length in seconds.
    """

    pitch: float
    onset_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.onset_s + self.duration_s


def name_to_midi(name: str) -> int:
    """'C4' -> 60, 'F#3' -> 54, 'Bb5' -> 82. Raises ValueError for anything else."""
    match = _NAME_RE.match(name.strip())
    if not match:
        raise ValueError(f"{name!r} is not a note name like C4, F#3 or Bb5")
    letter, accidentals, octave = match.groups()
    shift = accidentals.count("#") - accidentals.count("b")
    return 12 * (int(octave) + 1) + _STEP[letter.upper()] + shift


def midi_to_name(pitch: float) -> str:
    """60 -> 'C4', 61.2 -> 'C#4' (rounded to the nearest semitone)."""
    number = int(round(pitch))
    return f"{NOTE_NAMES[number % 12]}{number // 12 - 1}"


def hz_to_midi(f0_hz: float | np.ndarray) -> float | np.ndarray:
    """Frequency (Hz) to MIDI pitch, elementwise for arrays (NaN stays NaN)."""
    return 69.0 + 12.0 * np.log2(f0_hz / 440.0)


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)
