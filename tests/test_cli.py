"""The `theme-detector` command end to end, as a user runs it (the installed console script)."""

import importlib.metadata
import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from detector.events import JSON_FIELDS

from conftest import EXE, SAMPLE_RATE, render_performance, theme_detector as run



@pytest.fixture(scope="module")
def recording(tmp_path_factory, theme_named) -> tuple[Path, float, float]:
    audio, start_s, end_s = render_performance(theme_named("Greensleeves"), transpose=-4, tempo=0.8,
                                               timbre="oboe", before_s=5.0, seed=2)
    stereo = np.stack([audio, 0.5 * audio], axis=1)
    path = tmp_path_factory.mktemp("audio") / "clip.wav"
    soundfile.write(path, stereo, SAMPLE_RATE, subtype="PCM_16")
    return path, start_s, end_s


def test_scan_json_lines_follow_the_schema(recording):
    path, start_s, end_s = recording
    result = run("scan", "--json", str(path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 1
    record = records[0]
    assert tuple(record) == JSON_FIELDS
    assert record["file"] == str(path) and record["theme"] == "Greensleeves"
    assert record["transpose"] == -4 and record["tempo"] == pytest.approx(0.8, rel=0.05)
    assert start_s < record["time_s"] < end_s
    assert record["start_s"] <= record["end_s"] <= record["time_s"] + 2.0
    assert 0 < record["score"] <= 1
    assert all(isinstance(record[k], float) for k in ("time_s", "start_s", "end_s", "score", "tempo"))


def test_scan_text_output_and_a_bad_file_among_good_ones(recording, tmp_path):
    path, _, _ = recording
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt nonsense")
    result = run("scan", str(broken), str(path))
    assert result.returncode == 1
    assert f"{path}:" in result.stdout and "Greensleeves" in result.stdout and "-4 semitones" in result.stdout
    assert "broken.wav: not a readable audio file" in result.stderr
    assert "1 of 2 file(s) scanned, 1 detection(s); 1 file(s) unreadable or damaged" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a disk always full")
def test_an_output_that_stops_taking_detections_is_named_and_fails_the_scan(recording):
    path, _, _ = recording
    result = run("scan", "--json-file", "/dev/full", str(path))  # the disk fills part way
    assert result.returncode == 1, result.stderr
    assert "/dev/full: stopped (No space left on device)" in result.stderr
    assert "Greensleeves" in result.stdout  # the other outputs go on
    # A cue sheet writes its header at once: a disk that cannot take it stops the scan before it starts.
    refused = run("scan", "--csv", "/dev/full", str(path))
    assert refused.returncode == 2 and "/dev/full: cannot be written (No space" in refused.stderr


def test_a_reader_that_stops_reading_ends_the_output_quietly(recording):
    """`theme-detector scan ... | head -1`: the pipe's reader has gone; no complaint, no traceback."""
    path, _, _ = recording
    with subprocess.Popen([EXE, "scan", "--json", str(path), str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as scan:
        scan.stdout.close()  # before the first detection is written
        stderr = scan.stderr.read()
        assert scan.wait(timeout=300) == 0, stderr
    assert "Broken pipe" not in stderr and "Traceback" not in stderr and "Exception" not in stderr


def test_scan_with_own_themes_and_a_bad_theme_file(recording, tmp_path):
    path, _, _ = recording
    (tmp_path / "mine.txt").write_text("name: Mine\nA4 C5:2 D5 E5:1.5 F5:0.5 E5 D5:2 B4 G4:1.5 A4:0.5 B4 C5:2 A4")
    (tmp_path / "bad.txt").write_text("Q4 R5")
    (tmp_path / "other.txt").write_text("name: Mine\nE4 E4 F4 G4 G4 F4 E4 D4 C4 C4 D4 E4")
    # mine.txt twice (in its folder, and on its own) is one theme; other.txt's is renamed.
    result = run("scan", "--themes", str(tmp_path), "--themes", str(tmp_path / "mine.txt"), "--json", str(path))
    assert result.returncode == 0
    assert [json.loads(line)["theme"] for line in result.stdout.splitlines()] == ["Mine"]
    assert "skipped: " + str(tmp_path / "bad.txt") + ", line 1: 'Q4' is not a note name" in result.stderr
    assert f"note: {tmp_path / 'other.txt'}: the name 'Mine' is taken" in result.stderr
    assert "2 theme(s) loaded" in result.stderr


def test_no_usable_theme_is_one_clear_error(recording, tmp_path):
    path, _, _ = recording
    result = run("scan", "--themes", str(tmp_path / "nothing_here"), str(path))
    assert result.returncode == 2
    assert "no usable themes" in result.stderr and "Traceback" not in result.stderr


def test_demo_finds_every_theme_it_plays_and_nothing_else():
    result = run("demo", "--json")
    assert result.returncode == 0, result.stderr
    found = [json.loads(line) for line in result.stdout.splitlines()]
    from detector.demo import PROGRAMME
    assert [(r["theme"], r["transpose"]) for r in found] == [(name, tr) for name, tr, _, _ in PROGRAMME]
    for record, (_, _, tempo, _) in zip(found, PROGRAMME):
        assert record["tempo"] == pytest.approx(tempo, rel=0.05)


@pytest.mark.parametrize("args", [("learn", "clip.wav", "--start", "nan"), ("learn", "clip.wav", "--end", "inf"),
                                  ("listen", "--duration", "-1")])
def test_a_time_that_is_not_a_number_of_seconds_is_refused_by_name(args):
    result = run(*args)
    assert result.returncode == 2
    assert f"argument {args[-2]}: '{args[-1]}' is not a number of seconds" in result.stderr


@pytest.mark.parametrize("args, complaint", [
    (("listen", "--samplerate", "7000"), "'7000' is not a whole number from 8000 to 192000"),
    (("listen", "--blocksize", "-5"), "'-5' is not a whole number from 0 to 16384"),
    (("listen", "--channels", "1,2,1"), "channel 1 given twice in '1,2,1'"),
    (("listen", "--osc-score-rate", "1e9"), "scores are sent at most 60 times a second"),
    # Scores go out while audio plays, over OSC: not from a scan, not without --osc.
    (("scan", "x.wav", "--osc-score-rate", "10"), "unrecognized arguments: --osc-score-rate"),
    (("demo", "--osc-score-rate", "10"), "--osc-score-rate sends scores over OSC: give --osc"),
])
def test_an_input_setting_out_of_range_is_refused_before_anything_opens(args, complaint):
    result = run(*args)
    assert result.returncode == 2 and complaint in result.stderr
    assert f"usage: theme-detector {args[0]}" in result.stderr  # the command's own usage


def test_demo_saved_where_it_cannot_be_is_one_clear_error(tmp_path):
    result = run("demo", "--no-gui", "--save", str(tmp_path / "missing" / "demo.wav"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot be written as audio" in result.stderr


def _numpy_loaded(pid: int) -> bool:
    """Has the process begun loading the command line's libraries (numpy's module mapped)?"""
    return "numpy" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_ctrl_c_while_starting_quits_quietly():
    """Loading the command line (numpy, numba) takes about a second: Ctrl-C in it is no
    traceback either. (Ctrl-C once a command runs: test_archive.py, a scan part way.)"""
    # As from a terminal: a background job (as CI may run this) would inherit Ctrl-C ignored.
    process = subprocess.Popen([EXE, "demo", "--no-gui"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while not _numpy_loaded(process.pid) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr


def test_help_names_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("scan", "listen", "devices", "demo", "gui", "learn"):
        assert command in result.stdout
        described = run(command, "--help")
        assert described.returncode == 0 and len(described.stdout.split("\n\n")[1]) > 40
    version = run("--version")
    assert version.stdout == f"theme-detector {importlib.metadata.version('theme-detector')}\n"


def test_scan_in_each_mode_and_a_mode_that_does_not_exist(recording):
    path, _, _ = recording
    for mode in ("melody", "ensemble"):
        result = run("scan", "--mode", mode, "--json", str(path))
        assert result.returncode == 0, result.stderr
        assert [json.loads(line)["theme"] for line in result.stdout.splitlines()] == ["Greensleeves"]
    result = run("scan", "--mode", "orchestra", str(path))
    assert result.returncode == 2 and "invalid choice: 'orchestra'" in result.stderr
