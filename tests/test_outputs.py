"""Event outputs, each checked by a real receiver: an OSC server on loopback, JACK MIDI ports on
a JACK dummy server, and the JSON-lines and CSV files read back as a program would read them.

There is no ALSA sequencer on the CI machine (no /dev/snd), so MIDI goes through JACK MIDI,
which python-rtmidi's wheels support: the same code path a Linux user running JACK takes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from benchmarks.jack import JackServer, jack_installed
from detector.events import CUE_FIELDS, JSON_FIELDS, Detection
from detector.outputs import (OSC_DETECTED, OSC_SCORE, MidiSink, OscSink, OutputOptions,
                              midi_api)

from conftest import EXE, SAMPLE_RATE, render_performance

WAIT_S = 10.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory, theme_named) -> Path:
    """Greensleeves a major third down at 0.8x on the oboe, after other music: one detection."""
    audio, _, _ = render_performance(theme_named("Greensleeves"), transpose=-4, tempo=0.8,
                                     timbre="oboe", before_s=3.0, seed=2)
    path = tmp_path_factory.mktemp("outputs") / "clip.wav"
    soundfile.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    return path


def test_scan_sends_osc_and_writes_csv_and_json_lines_at_once(clip, osc_receiver, tmp_path):
    sheet, lines = tmp_path / "cues.csv", tmp_path / "found.jsonl"
    result = subprocess.run([EXE, "scan", "--osc", f"127.0.0.1:{osc_receiver.port}", "--csv", str(sheet),
                             "--json-file", str(lines), str(clip)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Greensleeves" in result.stdout  # text still on stdout: no other output took it

    [osc_args] = osc_receiver.wait_for(OSC_DETECTED)
    theme, score, transpose, tempo, start_s, end_s, time_s = osc_args
    assert (theme, transpose) == ("Greensleeves", -4)
    assert tempo == pytest.approx(0.8, rel=0.05) and 0 < score <= 1
    assert start_s < end_s and start_s < time_s

    [record] = [json.loads(line) for line in lines.read_text().splitlines()]
    assert tuple(record) == JSON_FIELDS and record["file"] == str(clip)
    assert record["time_s"] == pytest.approx(time_s, abs=1e-3)

    with open(sheet, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        [row] = list(reader)
    assert tuple(reader.fieldnames) == CUE_FIELDS
    assert row["file"] == str(clip) and row["theme"] == "Greensleeves" and row["transpose"] == "-4"
    assert float(row["duration_s"]) == pytest.approx(record["end_s"] - record["start_s"], abs=2e-3)


def test_osc_scores_go_out_at_the_chosen_rate_of_stream_time(osc_receiver):
    sink = OscSink("127.0.0.1", osc_receiver.port, score_rate_hz=10)
    names = ["Ode to Joy", "Dies irae"]
    for k in range(200):  # 2 s of stream time, polled every 10 ms
        sink.scores(names, np.array([0.5, k / 200]), time_s=k * 0.01)
    scores = osc_receiver.wait_for(OSC_SCORE, count=40)
    time.sleep(0.1)
    assert len([a for a, _ in osc_receiver.messages if a == OSC_SCORE]) == 40  # 20 ticks x 2 themes
    assert scores[0] == ["Ode to Joy", 0.5] and scores[1][0] == "Dies irae"
    assert scores[-1][1] == pytest.approx(190 / 200, abs=0.011)  # the tick at 1.9 s


def test_the_demo_in_the_terminal_sends_scores_too(osc_receiver, themes):
    result = subprocess.run([EXE, "demo", "--no-gui", "--osc", f"127.0.0.1:{osc_receiver.port}",
                             "--osc-score-rate", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    scores = osc_receiver.wait_for(OSC_SCORE, count=len(themes))  # the first tick, at least
    assert {name for name, _ in scores} == {theme.name for theme in themes}


def test_text_goes_to_stdout_unless_another_output_takes_it():
    assert OutputOptions().text and OutputOptions(csv_file="cues.csv").text
    assert not OutputOptions(json=True).text and not OutputOptions(csv_file="-").text


# ---------------------------------------------------------------- a JACK server: live input, MIDI

@pytest.fixture(scope="module")
def jack(monkeypatch_module):
    """A JACK dummy server, made the default for this module's clients (PortAudio, JACK MIDI)."""
    if not jack_installed():
        pytest.skip("no JACK server to test against: jackd is not installed (Debian package "
                    "jackd2; `scripts/bootstrap --dev`)")
    with JackServer() as server:
        monkeypatch_module.setenv("JACK_DEFAULT_SERVER", server.name)
        yield server


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def midi_env(request) -> dict[str, str]:
    """The environment in which MIDI ports open: with the ALSA sequencer as it is, otherwise
    (as on CI, which has no /dev/snd) with a JACK server for JACK MIDI."""
    if midi_api() == "UNIX_JACK":
        return request.getfixturevalue("jack").env
    return dict(os.environ)


@pytest.fixture
def daw(midi_env):
    """A MIDI receiver, as a DAW's input: the virtual input port 'recv' of client 'daw'."""
    import rtmidi

    receiver = rtmidi.MidiIn(getattr(rtmidi, f"API_{midi_api()}"), name="daw")
    receiver.open_virtual_port("recv")
    yield receiver
    receiver.close_port()
    receiver.delete()


def receive(receiver, count: int) -> list[list[int]]:
    messages, deadline = [], time.monotonic() + WAIT_S
    while len(messages) < count and time.monotonic() < deadline:
        message = receiver.get_message()
        if message is None:
            time.sleep(0.005)
        else:
            messages.append(message[0])
    return messages


@pytest.mark.device
def test_listen_streams_every_themes_score_over_osc(jack, osc_receiver, themes):
    # The JACK server's capture port is the default input (there is no other sound device here).
    result = subprocess.run([EXE, "listen", "--duration", "2", "--osc",
                             f"127.0.0.1:{osc_receiver.port}", "--osc-score-rate", "10"],
                            capture_output=True, text=True, timeout=120, env=jack.env)
    assert result.returncode == 0, result.stderr
    scores = osc_receiver.wait_for(OSC_SCORE, count=10 * len(themes))  # 2 s at 10 Hz: half, at least
    assert {name for name, _ in scores} == {theme.name for theme in themes}
    assert all(0.0 <= value <= 1.0 for _, value in scores)
    assert len(scores) <= (2 * 10 + 1) * len(themes)  # never faster than asked


@pytest.mark.device
def test_scan_plays_a_note_for_the_theme_on_a_named_midi_port(clip, daw, midi_env):
    # The built-in themes load in file order; Greensleeves is the third: note 62 (D4).
    result = subprocess.run([EXE, "scan", "--midi-out", "daw:recv", "--midi-channel", "3", str(clip)],
                            capture_output=True, text=True, timeout=120, env=midi_env)
    assert result.returncode == 0, result.stderr
    assert "MIDI out on daw:recv, channel 3, notes: 60 Beethoven's Fifth" in result.stderr
    note_on, note_off = receive(daw, 2)
    assert note_on[:2] == [0x92, 62] and 100 <= note_on[2] <= 127  # channel 3, velocity from score
    assert note_off[:2] == [0x82, 62]


@pytest.mark.device
def test_a_virtual_midi_port_a_daw_connects_to(midi_env):
    import rtmidi

    sink = MidiSink("theme-out", ["Ode to Joy", "Dies irae"], note_base=36)
    daw = rtmidi.MidiIn(getattr(rtmidi, f"API_{midi_api()}"), name="daw")
    try:
        assert sink.virtual
        [port] = [k for k, name in enumerate(daw.get_ports()) if "theme-detector:theme-out" in name]
        daw.open_port(port)
        time.sleep(0.5)  # JACK connects ports asynchronously: a note sent at once can be lost
        sink.emit(Detection("Dies irae", 3.0, 1.0, 2.9, score=0.5, transpose=0, tempo=1.0))
        messages = receive(daw, 1)
    finally:
        sink.close()  # sends the pending note-off at once
    messages += receive(daw, 1)
    daw.delete()
    assert messages == [[0x90, 37, 64], [0x80, 37, 0]]
