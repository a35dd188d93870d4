"""Themes given as chords: found by their harmony (chroma), in any key and at another tempo,
only where they are played, and only when some theme has harmony at all."""

import numpy as np
import pytest

from detector.engine import Detector
from detector.harmony import balanced_parts, chord_room
from detector.notes import Note
from detector.synth import render_notes
from detector.themes import Theme, load_midi, parse_note_list

from conftest import SAMPLE_RATE, detect, mixed, write_midi

#: Pachelbel's progression (I V vi iii IV I IV V in D), two beats a chord at 120 bpm: 8 s.
CANON = parse_note_list(
    "name: Canon\n"
    "[D3 F#3 A3 D4]:2 [A2 C#3 E3 A3]:2 [B2 D3 F#3 B3]:2 [F#2 A2 C#3 F#3]:2 |\n"
    "[G2 B2 D3 G3]:2 [D3 F#3 A3 D4]:2 [G2 B2 D3 G3]:2 [A2 C#3 E3 A3]:2", source="canon")
#: The twelve-bar blues in C, a bar a chord: another progression to listen for.
BLUES = parse_note_list(
    "name: Blues\n" + " ".join(f"[{chord}]:4" for chord in
                               ["C3 E3 G3 A#3"] * 4 + ["F3 A3 C4 D#4"] * 2 + ["C3 E3 G3 A#3"] * 2
                               + ["G3 B3 D4 F4", "F3 A3 C4 D#4", "C3 E3 G3 A#3", "G3 B3 D4 F4"]),
    source="blues")
#: Other music in chords, 8 s each: i iv V i VI iv V i in A minor, and a stepwise walk in C.
MINOR_WALK = parse_note_list(
    "[A2 C3 E3 A3]:2 [D3 F3 A3 D4]:2 [E3 G#3 B3 E4]:2 [A2 C3 E3 A3]:2 "
    "[F2 A2 C3 F3]:2 [D3 F3 A3 D4]:2 [E3 G#3 B3 E4]:2 [A2 C3 E3 A3]:2", source="minor walk")
MAJOR_WALK = parse_note_list(
    "[C3 E3 G3 C4]:2 [D3 F3 A3 D4]:2 [E3 G3 B3 E4]:2 [F3 A3 C4 F4]:2 "
    "[G3 B3 D4 G4]:2 [A3 C4 E4 A4]:2 [G3 B3 D4 G4]:2 [F3 A3 C4 F4]:2", source="major walk")


def played(theme: Theme, start_s: float, transpose: int = 0, tempo: float = 1.0) -> list[Note]:
    """Every note of a theme's harmony, transposed and at `tempo` times its speed."""
    return [Note(n.pitch + transpose, start_s + n.onset_s / tempo, n.duration_s / tempo)
            for n in theme.harmony]


def end_of(notes: list[Note]) -> float:
    return max(note.end_s for note in notes)


@pytest.fixture(scope="module")
def canon_between_other_progressions():
    """8 s of other chords, the Canon progression a minor third up at 1.25x, 8 s more.
    Returns (audio, passage start_s, passage end_s)."""
    before = played(MINOR_WALK, 0.0)
    canon = played(CANON, end_of(before), transpose=3, tempo=1.25)
    after = played(MAJOR_WALK, end_of(canon))
    audio = render_notes(before + canon + after, SAMPLE_RATE, "organ")
    audio = np.concatenate([audio, np.zeros(SAMPLE_RATE, dtype=np.float32)])
    return audio, canon[0].onset_s, end_of(canon)


def test_progression_found_a_minor_third_up_at_a_quicker_tempo(themes,
                                                                canon_between_other_progressions):
    audio, start_s, end_s = canon_between_other_progressions
    found = detect([*themes, CANON, BLUES], audio)
    # Chords have no one octave: a path that follows their top line may hear it an octave off.
    assert [(d.theme, d.transpose % 12) for d in found] == [("Canon", 3)]
    detection = found[0]
    assert detection.tempo == pytest.approx(1.25, abs=0.1)
    assert start_s < detection.time_s < end_s + 1.0
    assert detection.start_s == pytest.approx(start_s, abs=0.5)
    assert 0.5 < detection.score <= 1.0


def test_other_progressions_and_a_melody_are_not_taken_for_a_theme(themes):
    minor = played(MINOR_WALK, 0.0)
    major = played(MAJOR_WALK, end_of(minor), transpose=-2)
    blues_in_g = played(BLUES, end_of(major), transpose=7, tempo=1.5)
    melody = [Note(n.pitch, end_of(blues_in_g) + 0.5 + n.onset_s, n.duration_s)
              for n in themes[0].notes[:6]]
    audio = np.concatenate([render_notes(minor + major + blues_in_g, SAMPLE_RATE, "strings"),
                            render_notes(melody, SAMPLE_RATE, "flute")])
    found = detect([CANON], audio)
    assert found == []


def test_a_melodic_library_does_not_listen_for_harmony(themes):
    detector = Detector(themes, SAMPLE_RATE, warm_up=False)
    assert detector.chroma is None and detector.harmony is None


def test_a_melody_over_one_held_chord_is_left_to_the_melody_path():
    melody = [Note(p, 0.5 * k, 0.5) for k, p in enumerate([64, 64, 65, 67, 67, 65, 64, 62])]
    held = [Note(p, 0.0, 4.0) for p in (48, 52, 55)]
    theme = Theme("Over a drone", tuple(melody),
                  harmony=tuple(sorted(melody + held, key=lambda n: n.onset_s)))
    detector = Detector([theme], SAMPLE_RATE, warm_up=False)
    assert detector.harmony is None  # a harmony that never changes only tells the key


def test_same_harmony_events_whatever_the_block_size(themes, canon_between_other_progressions):
    audio = canon_between_other_progressions[0]
    library = [*themes, CANON, BLUES]
    small = detect(library, audio, block=512)
    assert small == detect(library, audio, block=8192)
    assert [d.theme for d in small] == ["Canon"]


def test_the_harmony_is_matched_part_by_part_across_the_chroma_hop(themes,
                                                                  canon_between_other_progressions):
    """However many themes have harmony, no 10 ms block carries the matching of them all: a
    chroma frame's parts come due one after another over the chroma hop, and keep up."""
    audio = canon_between_other_progressions[0]
    detector = Detector([*themes, CANON, BLUES], SAMPLE_RATE, warm_up=False)
    hop = SAMPLE_RATE // 100
    matched = 0
    for start in range(0, len(audio) - hop + 1, hop):
        detector.process(audio[start:start + hop])
        parts_matched = int(detector.harmony.part_frames.sum())
        assert parts_matched - matched <= 1
        matched = parts_matched
    frames = int(len(audio) / SAMPLE_RATE / detector.chroma.hop_s)
    assert detector.harmony.part_frames.min() >= frames - 2


@pytest.mark.parametrize("lengths, bounds", [
    ([5, 5, 5, 5], [0, 2, 4]),          # equal work in each part
    ([2, 2, 8, 2, 2], [0, 3, 5]),       # a long theme goes whole into the part it starts in
    ([30], [0, 1, 1]),                  # fewer themes than parts: the last part is empty
    ([], [0, 0, 0]),
])
def test_parts_share_the_template_frames_about_equally(lengths, bounds):
    assert balanced_parts(np.array(lengths, dtype=np.int64), 2).tolist() == bounds


def test_a_path_may_spend_two_live_frames_on_each_template_frame_left_in_its_chord():
    # Chords change at template frames 3 and 7 of 10: a path's chord cost can still be
    # lowered only by the frames left before the next change (the bound that marks a path dead).
    is_change = np.zeros(10, dtype=np.bool_)
    is_change[[3, 7]] = True
    assert chord_room(is_change).tolist() == [4, 2, 0, 6, 4, 2, 0, 4, 2, 0]


def test_a_theme_found_by_melody_and_harmony_is_announced_once(tmp_path):
    """Ode to Joy over I V I V chords, loaded from a MIDI file with both tracks and played with
    both (a clarinet over strings): the melody path hears the tune, the harmony path the
    chords, and the passage is announced once (by the first)."""
    tune = [76, 76, 77, 79, 79, 77, 76, 74, 72, 72, 74, 76, 76, 74, 74]
    lengths = [1] * 12 + [1.5, 0.5, 2]
    onsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    melody = [(p, float(b), float(n)) for p, b, n in zip(tune, onsets, lengths)]
    chords = [(p + root, 2.0 * bar, 2.0) for bar, root in enumerate([0, 7, 0, 7, 0, 7, 0, 7])
              for p in (48, 52, 55)]
    path = write_midi(tmp_path / "ode.mid", [("Melody", 0, melody), ("Chords", 1, chords)])
    theme = load_midi(path)
    assert theme.harmony
    def part(notes, timbre, level):  # a tone up, from 1 s, at the template's 120 bpm
        return render_notes([Note(p + 2, 1.0 + 0.5 * b, 0.5 * n) for p, b, n in notes],
                            SAMPLE_RATE, timbre, level=level)

    found = detect([theme], mixed(part(melody, "clarinet", 0.3), part(chords, "strings", 0.25)))
    assert [(d.theme, d.transpose % 12) for d in found] == [("ode", 2)]
    assert 1.0 < found[0].time_s < 1.0 + theme.duration_s


# ---------------------------------------------------------------- loading harmony

def test_chords_in_a_note_list_are_its_harmony_and_their_top_voice_its_melody():
    theme = parse_note_list("tempo: 60\n[C4 E4 G4]:2 [A3 C4 E4] F4 [G3 B3 D4]:1/2 C4:1.5",
                            source="typed")
    assert [n.pitch for n in theme.notes] == [67, 64, 65, 62, 60]
    assert [n.onset_s for n in theme.notes] == [0.0, 2.0, 3.0, 4.0, 4.5]
    assert sorted((n.onset_s, n.pitch, n.duration_s) for n in theme.harmony) == [
        (0.0, 60, 2.0), (0.0, 64, 2.0), (0.0, 67, 2.0), (2.0, 57, 1.0), (2.0, 60, 1.0),
        (2.0, 64, 1.0), (3.0, 65, 1.0), (4.0, 55, 0.5), (4.0, 59, 0.5), (4.0, 62, 0.5),
        (4.5, 60, 1.5)]


def test_a_progression_alone_is_a_theme():
    assert len(CANON.harmony) == 32
    assert [n.pitch for n in CANON.notes] == [62, 57, 59, 54, 55, 62, 55, 57]
    assert CANON.duration_s == pytest.approx(8.0)


def test_a_melody_has_no_harmony():
    assert parse_note_list("E4 E4 F4 G4 | G4 F4 E4 D4").harmony == ()


def test_a_midi_file_with_chords_has_harmony_from_every_track_or_the_named_one(tmp_path):
    melody = [(76, 0, 1), (76, 1, 1), (77, 2, 1), (79, 3, 1), (79, 4, 1), (77, 5, 1)]
    chords = [(p + root, 2 * bar, 2) for bar, root in enumerate([0, 5, 7, 0]) for p in (48, 52, 55)]
    path = write_midi(tmp_path / "tune.mid", [("Melody", 0, melody), ("Chords", 1, chords)])
    theme = load_midi(path)
    assert [n.pitch for n in theme.notes] == [76, 76, 77, 79, 79, 77]
    assert len(theme.harmony) == len(melody) + len(chords)
    assert theme.harmony[0].onset_s == 0.0 and theme.harmony[-1].onset_s == pytest.approx(3.0)
    assert len(load_midi(path, track="Chords").harmony) == len(chords)
    assert load_midi(path, track="Melody").harmony == ()
