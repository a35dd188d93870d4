"""Theme loading: every format, and a clear error for every bad file, the rest still loading."""

from pathlib import Path

import pytest

from detector.errors import RenamedTheme, ThemeError
from detector.themes import load_midi, load_themes, parse_note_list

from conftest import write_midi

ODE = "E4 E4 F4 G4 | G4 F4 E4 D4 | C4 C4 D4 E4 | E4:1.5 D4:0.5 D4:2"


MELODY = [(76, 0, 1), (76, 1, 1), (77, 2, 1), (79, 3, 1), (79, 4, 1), (77, 5, 1)]
CHORDS = [(p, b, 2) for b in (0, 2, 4) for p in (48, 52, 55)]


README = Path(__file__).parents[1] / "README.md"


def _readme_example(heading: str, fence: str) -> str:
    """The first code block opened by `fence` after `heading` in the README."""
    section = README.read_text(encoding="utf-8").split(heading, 1)[1]
    block = section.split(fence + "\n", 1)[1]
    return block.split("```", 1)[0]


def test_the_readme_theme_examples_load_as_they_stand(tmp_path):
    """A user copies the README's examples into files: they must load as shown."""
    (tmp_path / "ode.txt").write_text(_readme_example("### Theme formats", "```"))
    (tmp_path / "library.toml").write_text(_readme_example("**Libraries**", "```toml"))
    (tmp_path / "midi").mkdir()
    write_midi(tmp_path / "midi" / "imperial.mid",
               [("Trumpet", 0, [(67, b, 1) for b in range(3)] + [(63, 3, 0.75), (70, 3.75, 0.25)])])
    themes, errors = load_themes([tmp_path / "ode.txt", tmp_path / "library.toml"])
    assert [type(e) for e in errors] == [RenamedTheme]  # both examples are named Ode to Joy
    assert [t.name for t in themes] == ["Ode to Joy", "Ode to Joy (2)", "Imperial March"]
    assert [n.pitch for n in themes[0].notes] == [n.pitch for n in themes[1].notes]


def test_note_list_with_names_durations_rests_and_comments():
    theme = parse_note_list("# a comment\nname: Test  # trailing comment\ntempo: 60\n"
                            "C4 D#4:1/2 r:0.5 Eb4:2 | F#3", source="typed")
    assert theme.name == "Test"
    assert [n.pitch for n in theme.notes] == [60, 63, 63, 54]
    assert [n.onset_s for n in theme.notes] == [0.0, 1.0, 2.0, 4.0]
    assert [n.duration_s for n in theme.notes] == [1.0, 0.5, 2.0, 1.0]
    assert parse_note_list("name:\n" + ODE, default_name="ode").name == "ode"  # left blank
    pickup = parse_note_list("r r:0.5 E4 E4 F4 G4\nr r:1 | G4 F4")  # rests before a length
    assert [n.onset_s for n in pickup.notes] == [0.0, 0.5, 1.0, 1.5, 3.0, 3.5]  # from its first note


@pytest.mark.parametrize("text, complaint", [
    ("C4 D4 H4 E4", "line 1: 'H4' is not a note name"),
    ("E4 : 2 F4 G4 A4", "line 1: ':' has no note before it"),
    ("tempo: 90\nnotes: E4 F4 G4 A4", "line 2: 'notes:' is not a key a note list takes"),
    ("C4 D4 E4", "has 3 note(s); a theme needs at least 4"),
    ("# only a comment", "no notes found"),
    ("C4 D4:x E4 F4", "'x' is not a number"),
    ("tempo: 0\nC4 D4 E4 F4", "must be positive"),
    # chords: the file, the line and the token
    ("C4 D4 E4 F4\n[C4 H4 G4]:2", "line 2: in chord '[C4 H4 G4]:2': 'H4' is not a note name"),
    ("C4 D4 E4 F4\n[C4 E4 G4", "line 2: '[C4' is not a chord like [C4 E4 G4]:2"),
    ("C4 D4 E4 F4\n[C4 E4 G4]x", "line 2: '[C4 E4 G4]x' is not a chord"),
    ("C4 D4 E4 F4\n[]:2", "line 2: '[]:2' is an empty chord"),
    ("C4 D4 E4 F4\n[C4 E4]:y", "line 2: '[C4 E4]:y': 'y' is not a number"),
])
def test_bad_note_lists_say_where_and_what(text, complaint):
    with pytest.raises(ThemeError, match="typed") as error:
        parse_note_list(text, source="typed")
    assert complaint in str(error.value)


def test_midi_type_1_takes_the_melody_not_the_chords(tmp_path):
    path = write_midi(tmp_path / "tune.mid", [("Chords", 1, CHORDS), ("Melody", 0, MELODY)])
    theme = load_midi(path)
    assert theme.name == "tune"
    assert [n.pitch for n in theme.notes] == [76, 76, 77, 79, 79, 77]
    assert theme.notes[1].onset_s == pytest.approx(0.5)  # 120 bpm by default


def test_midi_type_0_with_the_melody_on_a_named_channel(tmp_path):
    path = write_midi(tmp_path / "type0.mid", [("", 0, MELODY), ("", 3, [(40, b, 1) for b in range(8)])],
                      midi_type=0)
    assert [n.pitch for n in load_midi(path, channel=3).notes] == [40] * 8
    assert [n.pitch for n in load_midi(path).notes] == [76, 76, 77, 79, 79, 77]


def test_midi_named_track_is_chosen(tmp_path):
    path = write_midi(tmp_path / "tune.mid", [("Melody", 0, MELODY), ("Bass line", 1, [(36, b, 1) for b in range(6)])])
    assert [n.pitch for n in load_midi(path, track="bass").notes] == [36] * 6
    with pytest.raises(ThemeError, match="no track/channel matches track='violin'.*Melody"):
        load_midi(path, track="violin")


def test_top_voice_of_chords_is_the_melody(tmp_path):
    chords = [(p, b, 1) for b, top in enumerate([72, 74, 76, 77, 79]) for p in (top - 7, top - 3, top)]
    path = write_midi(tmp_path / "chords.mid", [("Piano", 0, chords)])
    assert [n.pitch for n in load_midi(path).notes] == [72, 74, 76, 77, 79]


def test_bad_files_each_get_one_clear_error_and_the_rest_still_load(tmp_path):
    write_midi(tmp_path / "good.mid", [("Melody", 0, MELODY)])
    (tmp_path / "ode.txt").write_text(ODE)
    (tmp_path / "not_midi.mid").write_text("this is not a MIDI file")
    write_midi(tmp_path / "drums.mid", [("Drums", 9, [(36, b, 0.5) for b in range(8)])])
    write_midi(tmp_path / "empty.mid", [("Nothing", 0, [])])
    write_midi(tmp_path / "short.mid", [("Short", 0, MELODY[:3])])
    (tmp_path / "latin1.txt").write_bytes("C4 D4 \xe9".encode("latin-1"))
    (tmp_path / "notepad.txt").write_bytes(b"\xef\xbb\xbfname: Notepad\r\n" + ODE.encode())  # a BOM
    (tmp_path / "zero.mid").write_bytes(b"")
    (tmp_path / "cut.mid").write_bytes((tmp_path / "good.mid").read_bytes()[:40])
    themes, errors = load_themes(tmp_path)
    assert sorted(t.name for t in themes) == ["Notepad", "good", "ode"]
    messages = sorted(str(e) for e in errors)
    expected = {"cut.mid": "it ends early", "drums.mid": "only drums", "empty.mid": "no notes",
                "latin1.txt": "cannot be read", "not_midi.mid": "not a readable MIDI file (MThd",
                "short.mid": "at least 4", "zero.mid": "it ends early"}
    assert len(messages) == len(expected)
    for message, (file, complaint) in zip(messages, sorted(expected.items())):
        assert file in message and complaint in message


def test_missing_paths_and_unknown_formats_are_reported(tmp_path):
    (tmp_path / "theme.wav").write_bytes(b"RIFF")
    themes, errors = load_themes([tmp_path / "nope", tmp_path / "theme.wav"])
    assert themes == []
    assert "no such file" in str(errors[0]) and "unknown theme format" in str(errors[1])


def test_library_file_with_names_colours_sensitivity_and_a_bad_entry(tmp_path):
    write_midi(tmp_path / "tune.mid", [("Melody", 0, MELODY), ("Bass", 1, [(36, b, 1) for b in range(6)])])
    (tmp_path / "library.toml").write_text(f'''
[[theme]]
name = "Joy"
notes = "{ODE}"
tempo = 100
color = "#ffcc00"
sensitivity = 1.2

[[theme]]
name = "The bass"
file = "tune.mid"
track = "Bass"

[[theme]]
name = "Broken"
file = "missing.mid"
''')
    themes, errors = load_themes(tmp_path / "library.toml")
    assert [t.name for t in themes] == ["Joy", "The bass"]
    assert themes[0].color == "#ffcc00" and themes[0].sensitivity == 1.2
    assert themes[0].notes[1].onset_s == pytest.approx(0.6)
    assert [n.pitch for n in themes[1].notes] == [36] * 6
    assert len(errors) == 1 and "missing.mid" in str(errors[0])
    # The folder that holds the library and its MIDI file: the file loads as the library says.
    in_folder, _ = load_themes(tmp_path)
    assert [t.name for t in in_folder] == ["Joy", "The bass"]
    # ... and so does the file given on its own beside the library, before it or after.
    for order in ([tmp_path / "tune.mid", tmp_path / "library.toml"], [tmp_path / "library.toml", tmp_path / "tune.mid"]):
        beside, _ = load_themes(order)
        assert [t.name for t in beside] == ["Joy", "The bass"]


@pytest.mark.parametrize("entry, complaint", [
    ('notes = "ODE"\nsensitivity = "high"', "sensitivity is a number above 0"),
    ('notes = "ODE"\nsensitivity = -1.0', "sensitivity is a number above 0"),
    ('notes = "ODE"\nsensitivty = 1.2', "unknown key(s) sensitivty"),
    ('file = 5', "'file' is a path in quotes"),
    ('file = "tune.mid"\nnotes = "ODE"', "not both"),
    ('file = "other.toml"', "is a library"),
    ('file = "missing.mid"', "theme #2 (Entry): "),
])
def test_a_bad_library_entry_is_named_and_costs_only_itself(tmp_path, entry, complaint):
    write_midi(tmp_path / "tune.mid", [("Melody", 0, MELODY)])
    (tmp_path / "library.toml").write_text(f"""
[[theme]]
name = "Good"
notes = "{ODE}"

[[theme]]
name = "Entry"
{entry.replace("ODE", ODE)}
""")
    themes, errors = load_themes(tmp_path / "library.toml")
    assert [t.name for t in themes] == ["Good"]
    assert len(errors) == 1 and complaint in str(errors[0]) and "library.toml" in str(errors[0])


def test_a_library_of_anything_but_tables_is_refused_entry_by_entry(tmp_path):
    (tmp_path / "library.toml").write_text('theme = ["ode.mid"]\n')
    themes, errors = load_themes(tmp_path / "library.toml")
    assert themes == [] and "theme #1: is not a [[theme]] table" in str(errors[0])


def test_repeated_names_are_numbered_and_said(tmp_path):
    (tmp_path / "a.txt").write_text("name: Same\n" + ODE)
    (tmp_path / "b.txt").write_text("name: Same\n" + ODE)
    themes, errors = load_themes(tmp_path)
    assert [t.name for t in themes] == ["Same", "Same (2)"]
    [notice] = errors
    assert isinstance(notice, RenamedTheme)
    assert str(notice).startswith(str(tmp_path / "b.txt")) and "a.txt" in str(notice)
    assert "'Same (2)'" in str(notice)


def test_a_number_given_to_a_repeated_name_is_a_free_one(tmp_path):
    for file, name in (("a.txt", "Same"), ("b.txt", "Same"), ("c.txt", "Same (2)")):
        (tmp_path / file).write_text(f"name: {name}\n" + ODE)
    themes, errors = load_themes(tmp_path)
    assert [t.name for t in themes] == ["Same", "Same (2)", "Same (2) (2)"]
    assert len(errors) == 2


def test_a_library_listed_by_a_library_still_loads_on_its_own(tmp_path):
    (tmp_path / "inner.toml").write_text('[[theme]]\nname = "Inner"\nnotes = "C4 D4 E4 F4 G4"\n')
    (tmp_path / "outer.toml").write_text('[[theme]]\nname = "Nested"\nfile = "inner.toml"\n')
    themes, errors = load_themes(tmp_path)
    assert [t.name for t in themes] == ["Inner"]
    assert len(errors) == 1 and "inner.toml is a library" in str(errors[0])


def test_a_file_given_twice_loads_once(tmp_path):
    """On its own and in its folder, or named twice: one theme, not a renamed double that
    would announce every passage twice."""
    (tmp_path / "a.txt").write_text("name: Once\n" + ODE)
    themes, errors = load_themes([tmp_path, tmp_path / "a.txt", str(tmp_path / "." / "a.txt")])
    assert [t.name for t in themes] == ["Once"] and errors == []
