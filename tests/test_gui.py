"""The live display, driven as a user would, on Qt's offscreen platform (pytest-qt).

Audio reaches the window through the same FilePlayer a user's file goes through, unpaced so
the tests run fast; the window's own frame timer pulls what the worker produced.
"""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt starts: no window pops up, screenshots work

import csv
import math
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
import soundfile
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from benchmarks.jack import JackServer, jack_installed
from detector.audio import load_sounddevice, portaudio_knows_jack
from detector.demo import perform, random_melody
from detector.errors import AudioInputError
from detector.events import CUE_FIELDS, Detection
from detector.learn import template_path
from detector.live import InputSettings
from detector.outputs import OSC_DETECTED, OutputOptions, open_outputs
from detector.notes import Note
from detector.synth import render_notes
from detector.themes import theme_from_notes
from gui.app import MESSAGES_SHOWN, MainWindow
from gui.learning import LearnDialog
from gui.meters import front_end
from gui.overlay import place_theme
from gui.palette import BACKGROUND, CONFIDENCE_COLORS
from gui.player import FilePlayer
from gui.roll import named_pitches

from conftest import EXE, SAMPLE_RATE, accompanied, open_terminal, read_until_closed, render_performance

#: Generous: a cold numba cache makes the first detector slow to build.
WAIT_MS = 30_000


@pytest.fixture
def window(qtbot, themes):
    window = MainWindow(themes)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def play(qtbot, window: MainWindow, audio: np.ndarray, name: str = "clip") -> None:
    """Feed audio through the window as fast as the machine allows, until it has all been heard."""
    assert window.start(lambda themes: FilePlayer.from_array(audio, SAMPLE_RATE, themes, name,
                                                             speed=math.inf))
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)


def lamp(window: MainWindow, name: str) -> int:
    return [theme.name for theme in window.themes].index(name)


@pytest.fixture(scope="module")
def greensleeves_audio(theme_named):
    audio, _, _ = render_performance(theme_named("Greensleeves"), transpose=-4, tempo=0.8,
                                     timbre="oboe", before_s=4.0, seed=2)
    return audio


@pytest.fixture(scope="module")
def other_music():
    rng = np.random.default_rng(11)
    return render_notes(random_melody(rng, 0.0, 20.0), SAMPLE_RATE, "clarinet", seed=11)


def test_a_theme_played_lights_its_lamp_logs_it_and_draws_it_on_the_roll(qtbot, window, greensleeves_audio,
                                                                          tmp_path):
    play(qtbot, window, greensleeves_audio, "greensleeves")
    entries = window.log.table.entries()
    assert [(d.theme, d.transpose) for d, _ in entries] == [("Greensleeves", -4)]
    assert window.lamps.is_lit(lamp(window, "Greensleeves"))
    assert window.lamps.detections.tolist() == [int(t.name == "Greensleeves") for t in window.themes]
    assert window.roll.overlay_shown
    played = [note.pitch - 4 for note in window.themes[lamp(window, "Greensleeves")].notes]
    low, high = window.roll.view_range
    assert low < min(played) and max(played) < high  # the roll followed the melody
    assert "mode: auto (" in window.status_line.text()  # the front end the detector reads with
    table = window.log.table
    theme_cell, source_cell = (table.index(0, column) for column in (table.THEME_COLUMN, table.SOURCE_COLUMN))
    assert window.log.table.data(theme_cell, Qt.ItemDataRole.ToolTipRole) == "Greensleeves"
    assert window.log.table.data(source_cell, Qt.ItemDataRole.ToolTipRole) == "greensleeves"
    # What a user sees, saved as they would see it.
    shot = tmp_path / "detected.png"
    assert window.grab().save(str(shot))


def test_the_label_of_a_theme_still_sounding_is_shown_whole(qtbot, window, greensleeves_audio):
    """Announced while its last matched note still sounds (that note ends after now), the
    theme's label is drawn whole inside the roll, not cut at its right edge."""
    play(qtbot, window, greensleeves_audio, "greensleeves")
    theme = window.themes[lamp(window, "Greensleeves")]
    now_s = window.source.detector.time_s
    still_sounding = Detection(theme="Greensleeves", time_s=now_s, start_s=now_s - 4.0, end_s=now_s + 1.5,
                               score=0.9, transpose=-4, tempo=0.8, progress=0.6)
    roll = window.roll
    roll.show_detection(place_theme(theme, still_sounding), roll.palette().text().color(), "Greensleeves  -4  x0.80")
    qtbot.wait(100)
    view = roll.plot.getViewBox()
    drawn = view.mapSceneToView(roll.label.sceneBoundingRect()).boundingRect()
    assert view.viewRect().contains(drawn), (drawn, view.viewRect())


def test_a_tune_over_chords_is_drawn_as_brightly_as_a_solo(qtbot, window, theme_named):
    """In an ensemble's frames the confidence is the share of the spectrum the tune explains
    (mostly 0.4-0.8, not a solo's periodicity of 0.95 and more): on the solo's scale the tune
    would be drawn in the dimmest colour throughout, as doubtful as noise."""
    audio, _, _ = accompanied(theme_named("Ode to Joy"))
    play(qtbot, window, audio, "ode over chords")
    assert "mode: auto (ensemble)" in window.status_line.text()
    rgb = window.roll.image.image[..., :3]
    drawn = [int(np.all(rgb == color.getRgb()[:3], axis=-1).sum()) for color in CONFIDENCE_COLORS]
    assert sum(drawn) > 0 and drawn[0] < 0.25 * sum(drawn), drawn


def test_a_lamp_lit_out_of_sight_is_scrolled_to_and_names_its_theme_whole(qtbot, themes, greensleeves_audio):
    rng = np.random.default_rng(5)
    others = [theme_from_notes(f"A theme with a rather long name, number {k}",
                               [Note(int(p), 0.4 * i, 0.4) for i, p in enumerate(rng.integers(55, 80, 8))])
              for k in range(100)]
    window = MainWindow(others + list(themes))  # the built-in themes last, below the fold
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    play(qtbot, window, greensleeves_audio, "greensleeves")
    index = lamp(window, "Greensleeves")
    assert window.lamps.is_lit(index)
    viewport = window.lamp_area.viewport()
    centre = window.lamps.mapTo(viewport, window.lamps.lamp_rect(index).center().toPoint())
    assert viewport.rect().contains(centre)
    first = window.lamps.lamp_rect(0).center()
    assert window.lamps.lamp_at(first) == 0
    assert window.lamps.lamp_tooltip(0) == "A theme with a rather long name, number 0: detected 0 times"
    assert window.lamps.lamp_tooltip(index) == "Greensleeves: detected 1 time"
    window.close()


def test_other_music_lights_no_lamp_and_logs_nothing(qtbot, window, other_music, tmp_path):
    play(qtbot, window, other_music, "other music")
    assert window.log.table.entries() == []
    assert not any(window.lamps.is_lit(k) for k in range(len(window.themes)))
    assert window.lamps.detections.sum() == 0
    assert not window.roll.overlay_shown
    assert window.grab().save(str(tmp_path / "nothing_found.png"))


def test_the_cue_sheet_holds_what_the_log_shows(qtbot, window, greensleeves_audio, tmp_path):
    recording = tmp_path / "recording.wav"
    soundfile.write(recording, greensleeves_audio, SAMPLE_RATE)
    assert window.start(lambda themes: FilePlayer.open(recording, themes, speed=math.inf))
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT_MS)
    sheet = tmp_path / "cues.csv"
    window.log.export(sheet)
    with open(sheet, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        rows = list(reader)
    assert tuple(reader.fieldnames) == CUE_FIELDS
    (detection, _), = window.log.table.entries()
    assert rows == [{key: str(value) for key, value in detection.as_cue(str(recording)).items()}]
    assert rows[0]["theme"] == "Greensleeves" and rows[0]["transpose"] == "-4"


def test_detections_go_to_the_outputs_chosen(qtbot, themes, greensleeves_audio, tmp_path,
                                             osc_receiver):
    sheet = tmp_path / "cues.csv"
    options = OutputOptions(json_file=str(tmp_path / "detections.jsonl"), csv_file=str(sheet),
                            osc=(osc_receiver.server.server_address,))
    window = MainWindow(themes, outputs=open_outputs(options, [t.name for t in themes]))
    qtbot.addWidget(window)
    try:
        play(qtbot, window, greensleeves_audio)
        received = osc_receiver.wait_for(OSC_DETECTED)
    finally:
        window.close()
    with open(sheet, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["theme"], row["transpose"]) for row in rows] == [("Greensleeves", "-4")]
    assert [(args[0], args[2]) for args in received] == [("Greensleeves", -4)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a disk always full")
def test_an_output_that_stops_is_shown_in_the_window(qtbot, themes, greensleeves_audio):
    options = OutputOptions(json_file="/dev/full")  # the disk fills part way
    window = MainWindow(themes, outputs=open_outputs(options, [t.name for t in themes]))
    qtbot.addWidget(window)
    try:
        play(qtbot, window, greensleeves_audio)
        qtbot.waitUntil(lambda: "/dev/full: stopped (No space left on device)" in window.messages.text(),
                        timeout=5000)
    finally:
        window.close()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a disk always full")
def test_the_gui_command_exits_with_status_1_when_an_output_stopped(greensleeves_audio, tmp_path):
    """As scan and listen do: what was found is not all where it was asked to go. The window
    is closed with Ctrl-C once the output has stopped (a process of its own: Qt's application
    loop runs once per process)."""
    clip = tmp_path / "clip.wav"
    soundfile.write(clip, greensleeves_audio, SAMPLE_RATE)
    with subprocess.Popen([EXE, "gui", "--mute", "--json-file", "/dev/full", str(clip)],
                          stderr=subprocess.PIPE, text=True) as gui:
        guard = threading.Timer(120, gui.kill)  # if the output never stops, the test fails, not hangs
        guard.start()
        said = []
        for line in gui.stderr:  # it plays in real time: the theme is heard within seconds
            said.append(line)
            if "/dev/full: stopped (No space left on device)" in line:
                gui.send_signal(signal.SIGINT)
                break
        said += gui.stderr.readlines()
        status = gui.wait(timeout=60)
        guard.cancel()
    assert status == 1, "".join(said)


def test_a_theme_learned_from_a_file_is_kept_and_gets_a_lamp(window, theme_named, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    clip = tmp_path / "hummed.wav"
    notes = perform(theme_named("Ode to Joy"), 0.3, 0, 1.0)
    soundfile.write(clip, render_notes(notes, SAMPLE_RATE, "hum", seed=1), SAMPLE_RATE)
    shown = []
    path = window.learn_file(clip, confirm=lambda learned: shown.append(learned.note_list()) or "My Ode")
    assert path == template_path("My Ode") and path.exists()
    assert shown[0].startswith("name: hummed\ntempo: ")
    assert window.themes[-1].name == "My Ode"
    assert window.lamps.detections.shape[0] == len(window.themes)


@pytest.mark.parametrize("answer", ["No", "Yes"])
def test_a_learned_theme_replaces_one_saved_under_its_name_only_if_the_user_says_so(
        qtbot, window, theme_named, tmp_path, monkeypatch, answer):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    clip = tmp_path / "hummed.wav"
    soundfile.write(clip, render_notes(perform(theme_named("Ode to Joy"), 0.3, 0, 1.0), SAMPLE_RATE,
                                       "hum", seed=1), SAMPLE_RATE)
    saved = template_path("Keep me")
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"the user's own theme")
    asked = []

    def answer_the_question():  # the question is a real modal dialog: click it as a user would
        question = QApplication.activeModalWidget()
        asked.append(question.text())
        question.button(getattr(QMessageBox.StandardButton, answer)).click()

    QTimer.singleShot(0, answer_the_question)
    path = window.learn_file(clip, confirm=lambda learned: "Keep me")
    assert asked and str(saved) in asked[0]
    if answer == "No":
        assert path is None and saved.read_bytes() == b"the user's own theme"
        assert "not saved" in window.messages.text()
    else:
        assert path == saved and saved.read_bytes().startswith(b"MThd")
        assert window.themes[-1].name == "Keep me"


def test_a_theme_learned_from_what_just_played(qtbot, window, greensleeves_audio, tmp_path,
                                               monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    play(qtbot, window, greensleeves_audio)
    path = window.learn_recent(20.0, confirm=lambda learned: learned.theme.name)
    assert path is not None and path.exists()
    learned = window.themes[-1]
    heard = [note.pitch for note in learned.notes]
    original = [note.pitch - 4 for note in window.themes[lamp(window, "Greensleeves")].notes]
    assert heard[-len(original):] == original
    assert window.learn_recent(5.0, confirm=lambda learned: None) is None  # dropped: nothing kept
    assert window.themes[-1] is learned


def test_a_bad_theme_file_is_reported_and_the_other_themes_kept(window, tmp_path):
    before = [theme.name for theme in window.themes]
    (tmp_path / "broken.mid").write_bytes(b"MThd this is not MIDI")
    (tmp_path / "typo.txt").write_text("Q4 R5")
    (tmp_path / "mine.txt").write_text("name: Mine\nA4 C5:2 D5 E5:1.5 F5:0.5 E5 D5:2 B4")
    window.load_theme_files([tmp_path / "broken.mid", tmp_path / "typo.txt", tmp_path / "mine.txt"])
    shown = window.messages.text()
    assert "broken.mid: not a readable MIDI file" in shown
    assert "typo.txt, line 1: 'Q4' is not a note name" in shown
    assert "Traceback" not in shown and window.messages.isVisible()
    assert [theme.name for theme in window.themes] == before + ["Mine"]
    assert len(window.lamps.detections) == len(before) + 1


def test_two_themes_of_one_name_are_both_kept_and_the_renaming_said(window, tmp_path):
    (tmp_path / "a.txt").write_text("name: Twin\nA4 C5:2 D5 E5:1.5 F5:0.5 E5 D5:2 B4")
    (tmp_path / "b.txt").write_text("name: Twin\nE4 E4 F4 G4 G4 F4 E4 D4")
    window.load_theme_files([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert f"{tmp_path / 'b.txt'}: the name 'Twin' is taken" in window.messages.text()
    assert [theme.name for theme in window.themes][-2:] == ["Twin", "Twin (2)"]
    # b.txt edited and reloaded replaces its own theme, not a.txt's; a third file is numbered.
    (tmp_path / "b.txt").write_text("name: Twin\nE4 E4 F4 G4 G4 F4 E4 D4 C4")
    (tmp_path / "c.txt").write_text("name: Twin\nG4 A4 B4 C5 D5 C5 B4 A4")
    window.load_theme_files([tmp_path / "b.txt"])
    window.load_theme_files([tmp_path / "c.txt"])
    assert [(t.name, Path(t.source).name, len(t.notes)) for t in window.themes][-3:] == [
        ("Twin", "a.txt", 8), ("Twin (2)", "b.txt", 9), ("Twin (3)", "c.txt", 8)]
    assert f"{tmp_path / 'c.txt'}: the name 'Twin' is taken (by {tmp_path / 'a.txt'}); loaded as 'Twin (3)'" \
        in window.messages.text()


def test_messages_past_those_the_bar_shows_are_counted_not_lost(window, tmp_path):
    paths = [tmp_path / f"missing-{k}.mid" for k in range(MESSAGES_SHOWN + 2)]
    window.load_theme_files(paths)
    shown = window.messages.shown().splitlines()
    assert shown[0] == "2 earlier message(s): hover to read them all"
    assert [line.split(":")[0] for line in shown[1:]] == [str(p) for p in paths[2:]]
    assert all(str(p) in window.messages.text() for p in paths)


def test_the_learn_dialog_lets_only_the_chosen_source_be_set(qtbot):
    dialog = LearnDialog(can_use_recent=True)
    qtbot.addWidget(dialog)
    assert dialog.seconds.isEnabled() and not any(w.isEnabled() for w in (dialog.path, dialog.start, dialog.end))
    dialog.from_file.click()
    assert not dialog.seconds.isEnabled() and all(w.isEnabled() for w in (dialog.path, dialog.start, dialog.end))
    nothing_played = LearnDialog(can_use_recent=False)  # no source yet: only a file can be chosen
    qtbot.addWidget(nothing_played)
    assert nothing_played.from_file.isChecked() and nothing_played.path.isEnabled()


def test_dialogs_are_as_dark_as_the_window(window):
    dialog = LearnDialog(window)
    assert dialog.palette().window().color() == window.palette().window().color() == BACKGROUND
    dialog.deleteLater()


def test_a_colour_qt_does_not_know_is_reported_and_the_theme_kept(window, tmp_path):
    (tmp_path / "library.toml").write_text('[[theme]]\nname = "Typo"\nnotes = "C4 D4 E4 F4 G4"\n'
                                           'color = "oragne"\n\n[[theme]]\nname = "Named"\n'
                                           'notes = "G4 F4 E4 D4 C4"\ncolor = "orange"\n')
    window.load_theme_files([tmp_path / "library.toml"])
    assert "Typo: 'oragne' is not a colour" in window.messages.text()
    assert "Named:" not in window.messages.text()  # orange: a name Qt knows
    assert [theme.name for theme in window.themes][-2:] == ["Typo", "Named"]


@pytest.mark.parametrize("audio_suffix, audio_format", [(".wav", "WAV"), (".w64", "W64"),
                                                       (".aifc", "AIFF")])
def test_files_dropped_on_the_window_are_loaded_as_themes_or_played(window, tmp_path, other_music,
                                                                     audio_suffix, audio_format):
    """Every audio format `scan` reads is played, not taken for a theme file."""
    dropped = tmp_path / "dropped.notes"
    dropped.write_text("name: Dropped\nC5 D5 E5 C5 E5 C5 E5:2")
    recording = tmp_path / f"recording{audio_suffix}"
    soundfile.write(recording, other_music[:2 * SAMPLE_RATE], SAMPLE_RATE, format=audio_format)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in (dropped, recording)])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.themes[-1].name == "Dropped"
    assert window.running and window.messages.text() == "loaded 1 theme(s): Dropped"
    window.stop()


def test_loading_themes_while_listening_restarts_the_source_with_them(qtbot, window, other_music, tmp_path):
    window.start(lambda themes: FilePlayer.from_array(other_music, SAMPLE_RATE, themes, "slow", speed=1.0))
    first = window.source
    (tmp_path / "mine.txt").write_text("name: Mine\nA4 C5:2 D5 E5:1.5 F5:0.5 E5 D5:2 B4")
    window.load_theme_files([tmp_path / "mine.txt"])
    assert window.running and window.source is not first
    assert [theme.name for theme in window.source.detector.themes][-1] == "Mine"
    # A file being played starts again with the new themes: the user is told so.
    recording = tmp_path / "recording.wav"
    soundfile.write(recording, other_music, SAMPLE_RATE)
    assert window.play_file(recording)
    (tmp_path / "yours.txt").write_text("name: Yours\nE4 E4 F4 G4 G4 F4 E4 D4")
    window.load_theme_files([tmp_path / "yours.txt"])
    assert window.running and window.source.file == str(recording)
    assert window.messages.text().endswith("loaded 1 theme(s): Yours; recording.wav plays again from its start with them")
    window.stop()


def test_a_theme_file_reloaded_keeps_its_lamp_colour_and_count(qtbot, themes, greensleeves_audio, tmp_path):
    copied = tmp_path / "greensleeves.txt"  # a user's own copy of the theme, to edit
    copied.write_text(Path(next(t for t in themes if t.name == "Greensleeves").source).read_text())
    window = MainWindow([t for t in themes if t.name != "Greensleeves"])
    qtbot.addWidget(window)
    window.load_theme_files([copied])
    play(qtbot, window, greensleeves_audio, "greensleeves")
    order = [theme.name for theme in window.themes]
    index = order.index("Greensleeves")
    assert window.lamps.detections[index] == 1
    copied.write_text("name: Greensleeves\nA4 C5:2 D5 E5:1.5 F5:0.5 E5 D5:2 B4 G4")  # edited
    window.load_theme_files([copied])
    assert [theme.name for theme in window.themes] == order  # in its place: every colour kept
    assert len(window.themes[index].notes) == 9
    assert window.lamps.detections[index] == 1  # the log still lists that detection
    assert "(replacing their earlier version: Greensleeves)" in window.messages.text()
    window.close()


def test_a_device_that_cannot_open_is_one_clear_message(window):
    assert not window.listen(InputSettings(device="no such device anywhere"))
    shown = window.messages.text()
    assert any(reason in shown for reason in ("no input device matches", "no audio input device found",
                                               "PortAudio is not installed"))
    assert "Traceback" not in shown and not window.running


def test_a_jack_server_started_after_the_window_is_found_by_listen(window, qtbot, monkeypatch):
    """The window opened before the audio server (a real one: JACK's dummy backend): Listen
    has PortAudio read its devices again, finds the server and listens to it."""
    if not jack_installed():
        pytest.skip("jackd is not installed (Debian package jackd2; `scripts/bootstrap --dev`)")
    if portaudio_knows_jack():
        pytest.skip("PortAudio in this process already knows a JACK server")
    sd = load_sounddevice()
    server = JackServer(48000, period=128)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)  # read when PortAudio starts again
    with server:
        try:
            window.controls.listen.click()
            assert window.running, window.messages.text()
            assert window.source.name.startswith("system")  # the JACK server's capture ports
            assert any("system" in window.controls.device.itemText(k)
                       for k in range(window.controls.device.count()))
            detector = window.source.detector
            qtbot.waitUntil(lambda: detector.samples_consumed >= detector.sample_rate, timeout=WAIT_MS)
        finally:
            window.stop()
            sd._terminate()  # while the server runs: once it has stopped, this would wait ten minutes
    sd._initialize()


def test_a_file_that_is_not_audio_is_one_clear_message(window, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("C4 D4 E4")
    assert not window.play_file(notes)
    assert "notes.wav: not a readable audio file" in window.messages.text()


def test_playing_aloud_without_an_output_plays_silently_and_says_so(qtbot, window, greensleeves_audio,
                                                                    monkeypatch):
    def no_output(sample_rate, channels):
        raise AudioInputError("cannot open the audio output (no such device)")

    monkeypatch.setattr("gui.player.Speaker", no_output)
    assert window.start(lambda themes: FilePlayer.from_array(greensleeves_audio, SAMPLE_RATE, themes, "clip",
                                                             audible=True))
    notice = "cannot play aloud: cannot open the audio output (no such device); playing silently"
    qtbot.waitUntil(lambda: notice in window.messages.text(), timeout=WAIT_MS)
    assert window.running
    window.stop()


def test_the_display_survives_thousands_of_frames(qtbot, window, greensleeves_audio):
    # PySide6 6.12.0 lost a reference to None at every Qt call returning nothing (update,
    # setText, ...) and to True at every signal emission: on Python < 3.12 the display crashed
    # within minutes.
    play(qtbot, window, greensleeves_audio)
    history = window.source.detector.display.history
    references = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        history.frames_written += 1  # as if the worker had added a pitch frame: a frame to draw
        window.refresh()
    assert sys.getrefcount(None) >= references[0] - 100
    assert sys.getrefcount(True) >= references[1] - 100


def test_the_roll_is_a_fixed_pyqtgraph_plot_of_one_image(window):
    # The spec puts pyqtgraph at the display's core: keep the roll a pyqtgraph view.
    roll = window.roll
    assert isinstance(roll, pg.GraphicsLayoutWidget)
    assert isinstance(roll.plot, pg.PlotItem) and isinstance(roll.image, pg.ImageItem)
    assert roll.image in roll.plot.items
    view = roll.plot.getViewBox()
    assert view.state["autoRange"] == [False, False] and view.state["mouseEnabled"] == [False, False]


def test_the_window_fits_half_a_full_hd_screen(window):
    """960 pixels wide: beside an editor or a DAW on a 1920-pixel screen."""
    window.resize(960, 600)
    QApplication.processEvents()
    assert window.width() == 960 and window.minimumSizeHint().width() <= 960


def test_the_status_line_names_the_front_end():
    assert front_end("auto", ensemble=True) == "auto (ensemble)"
    assert front_end("auto", ensemble=False) == "auto (melody)"
    assert front_end("ensemble", ensemble=True) == "ensemble"


def test_the_roll_names_every_semitone_only_where_there_is_room():
    assert named_pitches(59.5, 64.5, px_per_semitone=20) == [60, 61, 62, 63, 64]
    assert named_pitches(47.5, 72.5, px_per_semitone=8) == [48, 52, 55, 60, 64, 67, 72]
    assert named_pitches(35.5, 84.5, px_per_semitone=3) == [36, 48, 60, 72, 84]


def test_the_overlay_places_the_theme_where_it_was_heard():
    theme = theme_from_notes("steps", [Note(60 + k, 0.5 * k, 0.5) for k in range(8)])
    # Heard a fourth up, twice as fast, from 10 s, the 2nd-6th template notes matched.
    heard_from_s = 10.0
    detection = Detection(theme="steps", time_s=11.5, start_s=heard_from_s, end_s=heard_from_s + 5 * 0.25,
                          score=0.9, transpose=5, tempo=2.0, progress=6 / 8)
    placed = place_theme(theme, detection)
    np.testing.assert_allclose(placed.onset_s, heard_from_s + 0.25 * np.arange(7))
    np.testing.assert_allclose(placed.end_s - placed.onset_s, 0.25)
    np.testing.assert_allclose(placed.pitch, 66 + np.arange(7))
    assert placed.matched.tolist() == [True] * 5 + [False] * 2


def _environment_with_display(display: str | None) -> dict[str, str]:
    """This process's environment with DISPLAY set (or not), and no Wayland or chosen Qt platform."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env if display is None else {**env, "DISPLAY": display}


#: A display no X server answers on: what DISPLAY holds after an `ssh -X` session has ended.
GONE_DISPLAY = ":977"


@pytest.mark.parametrize("display, reason", [(None, "no display"),
                                             (GONE_DISPLAY, "the display cannot be used")])
def test_gui_command_without_a_usable_display_says_so(display, reason):
    assert not Path(f"/tmp/.X11-unix/X{GONE_DISPLAY[1:]}").exists()
    result = subprocess.run([EXE, "gui"], capture_output=True, text=True,
                            env=_environment_with_display(display), timeout=120)
    assert result.returncode == 2, result.stderr  # not Qt's abort (134)
    assert reason in result.stderr and "Traceback" not in result.stderr


def test_demo_from_a_terminal_whose_display_is_gone_runs_in_the_terminal():
    """The README's first command, typed into a terminal with a stale DISPLAY: the window cannot
    open, so the demo prints what it finds instead of aborting."""
    terminal, its_end = open_terminal()  # the demo opens its window only for a person at a terminal
    with subprocess.Popen([EXE, "demo"], stdout=its_end, stderr=subprocess.PIPE, text=True,
                          env=_environment_with_display(GONE_DISPLAY)) as demo:
        os.close(its_end)
        printed = read_until_closed(terminal)
        stderr = demo.stderr.read()
        assert demo.wait(timeout=300) == 0, stderr
    assert "the display cannot be used" in stderr and "the demo runs in the terminal" in stderr
    from detector.demo import PROGRAMME
    assert all(name in printed for name, _, _, _ in PROGRAMME)
