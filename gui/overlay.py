"""Where a detected theme's notes lie in the stream: the template transposed and stretched as
the detection says, so the display can draw it over what was heard and show why it matched."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.events import Detection
from detector.themes import Theme


@dataclass(frozen=True)
class PlacedNotes:
    """A theme's notes in stream time, from the first note matched to the theme's end.

    onset_s, end_s: seconds of stream time; pitch: MIDI, transposed as detected.
    matched: True for the notes the detection covered (the rest are what should follow).
    """

    onset_s: np.ndarray
    end_s: np.ndarray
    pitch: np.ndarray
    matched: np.ndarray


def place_theme(theme: Theme, detection: Detection) -> PlacedNotes:
    """The theme's notes where the detection found them.

    The detection's end_s is the end of the last template note matched (the note at
    `progress` through the theme) and its tempo stretches the template about that point;
    the first note matched is the one placed nearest start_s (a path may begin at the
    theme's second note when the first was missed).
    """
    onset = np.array([note.onset_s for note in theme.notes])
    duration = np.array([note.duration_s for note in theme.notes])
    last = int(np.clip(round(detection.progress * len(onset)) - 1, 0, len(onset) - 1))
    stretch = 1.0 / detection.tempo
    stream_onset = detection.end_s - (onset[last] + duration[last] - onset) * stretch
    first = int(np.argmin(np.abs(stream_onset[:last + 1] - detection.start_s)))
    index = np.arange(first, len(onset))
    return PlacedNotes(
        onset_s=stream_onset[first:],
        end_s=stream_onset[first:] + duration[first:] * stretch,
        pitch=np.array([theme.notes[i].pitch for i in index]) + detection.transpose,
        matched=index <= last,
    )
