"""Learning a theme from audio: the notes heard, the MIDI template written, and the round trip
(learn from one rendering, detect another: other instrument, key and tempo)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from detector.demo import perform, random_melody
from detector.learn import learn_theme, template_path, user_theme_folder, write_midi
from detector.synth import render_notes
from detector.themes import load_midi

from conftest import SAMPLE_RATE, render_performance, theme_detector as run



def hummed(theme, transpose: int, tempo: float, cents: float = 0.0, start_s: float = 0.3) -> np.ndarray:
    notes = perform(theme, start_s, transpose + cents / 100, tempo)
    return render_notes(notes, SAMPLE_RATE, "hum", seed=1)


def test_the_notes_of_a_hummed_theme_are_learned_in_their_key_and_rhythm(theme_named):
    theme = theme_named("Greensleeves")
    learned = learn_theme(hummed(theme, transpose=-2, tempo=0.9, cents=-30), SAMPLE_RATE, "Hummed")
    assert [n.pitch for n in learned.theme.notes] == [n.pitch - 2 for n in theme.notes]
    assert learned.tuning_cents == pytest.approx(-30, abs=15)  # the hum's vibrato biases it a little
    onsets = np.array([n.onset_s for n in learned.theme.notes])
    expected = np.array([n.onset_s for n in theme.notes]) / 0.9
    assert np.abs(onsets - expected).max() < 0.05
    lengths = np.array([n.duration_s for n in learned.theme.notes])
    assert np.all(lengths > 0.75 * np.array([n.duration_s for n in theme.notes]) / 0.9)
    # Greensleeves at 150 x 0.9 quarter notes a minute, as a person would type it.
    name, tempo, notes = learned.note_list().splitlines()
    assert name == "name: Hummed" and int(tempo.removeprefix("tempo: ")) == pytest.approx(135, abs=2)
    assert notes == ("G4:1 A#4:2 C5:1 D5:1.5 D#5:0.5 D5:1 C5:2 A4:1 F4:1.5 G4:0.5 A4:1 A#4:2 G4:1 "
                     "G4:1.5 F#4:0.5 G4:1 A4:2 F#4:1 D4:1.75")


def test_the_midi_template_holds_the_learned_notes_and_times(theme_named, tmp_path):
    learned = learn_theme(hummed(theme_named("Ode to Joy"), 0, 1.0), SAMPLE_RATE, "Ode / hummed")
    path = template_path(learned.theme.name, tmp_path)
    assert path == tmp_path / "Ode _ hummed.mid"
    write_midi(learned, path)
    loaded = load_midi(path, name=learned.theme.name)
    assert [n.pitch for n in loaded.notes] == [n.pitch for n in learned.theme.notes]
    for got, want in zip(loaded.notes, learned.theme.notes):
        assert got.onset_s == pytest.approx(want.onset_s, abs=2e-3)
        assert got.duration_s == pytest.approx(want.duration_s, abs=2e-3)


def test_learned_themes_go_to_the_user_folder_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_theme_folder() == tmp_path / "theme-detector" / "themes"
    assert template_path("Mine") == tmp_path / "theme-detector" / "themes" / "Mine.mid"


def test_learn_from_one_rendering_then_detect_another(theme_named, tmp_path):
    theme = theme_named("Greensleeves")
    # The clip: other music, then the theme hummed a tone down at 0.9x; learn only the theme.
    rng = np.random.default_rng(5)
    before = [n for n in random_melody(rng, 0.0, 3.0) if n.end_s < 3.3]
    clip = render_notes(before + perform(theme, 3.5, -2, 0.9), SAMPLE_RATE, "hum", seed=1)
    soundfile.write(tmp_path / "clip.wav", clip, SAMPLE_RATE)
    library = tmp_path / "learned"
    result = run("learn", str(tmp_path / "clip.wav"), "--name", "My Greensleeves", "--start", "3.4",
                 "--out", str(library))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("name: My Greensleeves\ntempo: ")
    assert result.stdout.splitlines()[2].startswith("G4:1 A#4:2 C5:1 D5:1.5")
    assert (library / "My Greensleeves.mid").exists()
    again = run("learn", str(tmp_path / "clip.wav"), "--name", "My Greensleeves", "--out", str(library))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert again.stdout == ""  # checked before the analysis: no note list for a failed command
    as_file = run("learn", str(tmp_path / "clip.wav"), "--name", "My Greensleeves", "--start", "3.4",
                  "--out", str(tmp_path / "mine.mid"))
    assert "will load as 'mine'" in as_file.stderr and (tmp_path / "mine.mid").exists()
    assert f"listen --themes '{tmp_path / 'mine.mid'}'" in as_file.stderr  # not all of tmp_path
    as_text = run("learn", str(tmp_path / "clip.wav"), "--out", str(tmp_path / "mine.txt"))
    assert as_text.returncode == 2 and "give a folder or a .mid file name" in as_text.stderr
    assert as_text.stdout == "" and not (tmp_path / "mine.txt").exists()
    slashed = run("learn", str(tmp_path / "clip.wav"), "--name", "Act 1/Main", "--start", "3.4",
                  "--out", str(tmp_path))
    assert "will load as 'Act 1_Main'" in slashed.stderr and (tmp_path / "Act 1_Main.mid").exists()

    # Another performance: clarinet, a minor third above the original, 1.2x, after other music.
    audio, start_s, end_s = render_performance(theme, transpose=3, tempo=1.2, timbre="clarinet",
                                               before_s=4.0, seed=3)
    soundfile.write(tmp_path / "performance.wav", audio, SAMPLE_RATE)
    scan = run("scan", "--json", "--themes", str(library), str(tmp_path / "performance.wav"))
    assert scan.returncode == 0, scan.stderr
    [found] = [json.loads(line) for line in scan.stdout.splitlines()]
    assert found["theme"] == "My Greensleeves"
    assert found["transpose"] == 5  # relative to the learned key, a tone below the original
    assert found["tempo"] == pytest.approx(1.2 / 0.9, rel=0.05)
    assert start_s < found["time_s"] < end_s


def test_a_clip_with_no_notes_is_one_clear_error(tmp_path):
    soundfile.write(tmp_path / "silence.wav", np.zeros(SAMPLE_RATE), SAMPLE_RATE)
    result = run("learn", str(tmp_path / "silence.wav"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "no notes heard" in result.stderr and "Traceback" not in result.stderr
