"""Music notation files as notes: MusicXML (.musicxml, .xml, compressed .mxl) and ABC (.abc),
read through music21 (the `formats` extra), imported only when such a file is loaded.

themes.py picks the melody from what this returns, by the same rule as for MIDI files.
"""

from __future__ import annotations

import copy
from pathlib import Path

from detector.errors import ThemeError
from detector.notes import Note

NOTATION_SUFFIXES = (".musicxml", ".mxl", ".xml", ".abc")


def read_notation(path: Path) -> tuple[str | None, list[list[Note]]]:
    """(title or None, the notes of each part) of a notation file.

    Times are in seconds, following the file's tempo marks (120 quarter notes a minute where
    it has none); tied notes are joined; a chord gives each of its pitches; grace notes, which
    take no time, are left out. From a file holding several pieces (an ABC tune book), the
    first. ThemeError if the file cannot be read or music21 is missing.
    """
    try:
        from music21 import converter, stream
    except ImportError:
        raise ThemeError(f"{path}: reading {path.suffix} files needs music21; install it with: "
                         "pip install 'theme-detector[formats]'") from None
    try:
        parsed = converter.parse(str(path))
    except Exception as error:  # music21's parsers raise many unrelated types on bad input
        raise ThemeError(f"{path}: not a readable {path.suffix} file ({error})") from None
    if isinstance(parsed, stream.Opus):
        if not parsed.scores:
            raise ThemeError(f"{path}: holds no pieces")
        parsed = parsed.scores[0]
    parts = list(parsed.parts) or [parsed]
    _share_tempo_marks(parsed, parts)
    title = parsed.metadata.bestTitle if parsed.metadata is not None else None
    return title or None, [_part_notes(part) for part in parts]


def _share_tempo_marks(score, parts: list) -> None:
    """Give each part without tempo marks the score's: notation programs often write them in
    the first part only, and music21 times each part by its own."""
    from music21 import tempo

    marks = [(mark.offset, mark) for mark in score.flatten().getElementsByClass(tempo.MetronomeMark)]
    for part in parts:
        if marks and not part.flatten().getElementsByClass(tempo.MetronomeMark):
            for offset, mark in marks:
                part.insert(offset, copy.deepcopy(mark))


def _part_notes(part) -> list[Note]:
    from music21 import chord, note

    notes = []
    for entry in part.stripTies().flatten().secondsMap:
        element, duration_s = entry["element"], entry["durationSeconds"]
        if not isinstance(element, (note.Note, chord.Chord)) or duration_s <= 0:
            continue
        notes += [Note(float(pitch.midi), float(entry["offsetSeconds"]), float(duration_s))
                  for pitch in element.pitches]
    return notes
