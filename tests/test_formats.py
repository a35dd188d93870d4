"""Themes from notation files: MusicXML and ABC, written here by music21, read back as themes."""

from __future__ import annotations

import pytest

from detector.themes import load_themes

from conftest import detect, render_performance

pytest.importorskip("music21", reason="the `formats` extra (music21) is not installed")

ABC_TUNE = """X:1
T:The Tune in ABC
M:4/4
L:1/4
Q:1/4=100
K:G
GABc|d2 B2|c2 A2|G4|
"""


def write_musicxml(path, tempo_in_first_part_only: bool = False) -> None:
    """A melody over a chord accompaniment, in two parts, at 90 quarter notes a minute: the
    tempo mark in the melody's part, or (as notation programs often write it) only in the
    first part, the chords'."""
    from music21 import chord, metadata, note, stream, tempo

    score = stream.Score()
    score.metadata = metadata.Metadata(title="Ode in MusicXML")
    melody, chords = stream.Part(), stream.Part()
    (chords if tempo_in_first_part_only else melody).append(tempo.MetronomeMark(number=90))
    for name, beats in [("E4", 1), ("E4", 1), ("F4", 1), ("G4", 1), ("G4", 1), ("F4", 1), ("E4", 1),
                        ("D4", 1), ("C4", 1), ("C4", 1), ("D4", 1), ("E4", 1), ("E4", 1.5),
                        ("D4", 0.5), ("D4", 2)]:
        melody.append(note.Note(name, quarterLength=beats))
    for _ in range(4):
        chords.append(chord.Chord(["C3", "E3", "G3"], quarterLength=4))
    for part in ((chords, melody) if tempo_in_first_part_only else (melody, chords)):
        score.insert(0, part)
    score.write("musicxml", fp=str(path))


def test_musicxml_and_abc_themes_load_with_their_titles_and_timing(tmp_path):
    write_musicxml(tmp_path / "ode.musicxml")
    (tmp_path / "tune.abc").write_text(ABC_TUNE)
    themes, errors = load_themes(tmp_path)
    assert errors == []
    ode, tune = sorted(themes, key=lambda theme: theme.name)
    assert ode.name == "Ode in MusicXML" and tune.name == "The Tune in ABC"
    # The melody, not the chords: the part that moves most, its top voice.
    assert [n.pitch for n in ode.notes][:8] == [64, 64, 65, 67, 67, 65, 64, 62]
    assert ode.notes[1].onset_s == pytest.approx(60 / 90)
    assert [n.pitch for n in tune.notes] == [67, 69, 71, 72, 74, 71, 72, 69, 67]
    assert [n.onset_s for n in tune.notes][4:6] == pytest.approx([2.4, 3.6])  # 100 a minute


def test_a_tempo_mark_written_in_the_first_part_only_times_the_melody_too(tmp_path):
    write_musicxml(tmp_path / "ode.musicxml", tempo_in_first_part_only=True)
    [ode], errors = load_themes(tmp_path / "ode.musicxml")
    assert [n.pitch for n in ode.notes][:4] == [64, 64, 65, 67]
    assert ode.notes[1].onset_s == pytest.approx(60 / 90)  # not the default 120 a minute


def test_a_musicxml_theme_is_detected(tmp_path):
    write_musicxml(tmp_path / "ode.musicxml")
    [theme], _ = load_themes(tmp_path / "ode.musicxml")
    audio, start_s, end_s = render_performance(theme, transpose=5, tempo=1.3, timbre="strings",
                                               before_s=3.0, seed=4)
    [found] = detect([theme], audio)
    assert (found.theme, found.transpose) == ("Ode in MusicXML", 5)
    assert start_s < found.time_s < end_s


def test_a_broken_notation_file_is_one_clear_error(tmp_path):
    (tmp_path / "broken.musicxml").write_text("<score-partwise><part id='P1'><measure>")
    themes, errors = load_themes(tmp_path / "broken.musicxml")
    assert themes == [] and len(errors) == 1
    assert "broken.musicxml: not a readable .musicxml file" in str(errors[0])
