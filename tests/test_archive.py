"""Scanning an archive: a folder tree on a process pool, one cue sheet per file and a summary,
resuming after an interruption, and the same scan on a Dask cluster (a local one, with worker
processes, reached through its scheduler's address as a remote one would be)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from detector.archive import SUMMARY_FIELDS, find_audio_files
from detector.audio import audio_file_info
from detector.errors import ThemeDetectorError

from conftest import EXE, SAMPLE_RATE, open_terminal, read_until_closed, render_performance, theme_detector as run

#: Files in the archive interrupted part way: enough that the scan is still busy when Ctrl-C comes.
N_TAKES = 40


@pytest.fixture(scope="module")
def archive(tmp_path_factory, theme_named) -> Path:
    """archive/ode.wav (Ode to Joy), archive/b/dies.flac (Dies irae), archive/b/broken.wav,
    and a text file that is not audio."""
    root = tmp_path_factory.mktemp("archive") / "archive"
    (root / "b").mkdir(parents=True)
    for theme, path in (("Ode to Joy", root / "ode.wav"), ("Dies irae", root / "b" / "dies.flac")):
        audio, _, _ = render_performance(theme_named(theme), transpose=2, tempo=1.4, timbre="clarinet")
        soundfile.write(path, audio, SAMPLE_RATE)
    (root / "b" / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")
    (root / "notes.txt").write_text("not audio")
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as stream:
        return list(csv.DictReader(stream))


def test_archive_files_are_found_with_a_cue_sheet_name_each(archive, tmp_path):
    found = find_audio_files([archive])
    assert [str(f.cue_name) for f in found] == ["archive/b/broken.wav.csv", "archive/b/dies.flac.csv",
                                                "archive/ode.wav.csv"]
    (tmp_path / "ode.wav").write_bytes(b"")
    with pytest.raises(ThemeDetectorError, match="would share the cue sheet"):
        find_audio_files([archive / "ode.wav", tmp_path / "ode.wav"])


def test_a_file_of_many_channels_is_scanned_to_its_last_short_block(theme_named, tmp_path):
    """34 channels, and a last block of 20 frames: fewer frames than channels, which a block
    of unknown layout would be refused for (it could be planar); a file's layout is known."""
    audio, _, _ = render_performance(theme_named("Ode to Joy"), transpose=2, tempo=1.4, timbre="clarinet")
    audio = audio[: len(audio) // 16384 * 16384 + 20]
    path = tmp_path / "many_channels.wav"
    soundfile.write(path, np.repeat(audio[:, None], 34, axis=1), SAMPLE_RATE, subtype="PCM_16")
    result = run("scan", "--json", str(path))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["theme"] for line in result.stdout.splitlines()] == ["Ode to Joy"]


def test_a_folder_tree_on_two_processes_then_resumed(archive, tmp_path):
    out = tmp_path / "cues"
    result = run("scan", "--jobs", "2", "--json", "--out", str(out), str(archive))
    assert result.returncode == 1  # the broken file is reported and skipped
    assert "broken.wav: not a readable audio file" in result.stderr
    found = {json.loads(line)["theme"]: json.loads(line)["file"] for line in result.stdout.splitlines()}
    assert found == {"Ode to Joy": str(archive / "ode.wav"), "Dies irae": str(archive / "b" / "dies.flac")}

    [row] = read_csv(out / "archive" / "ode.wav.csv")
    assert row["theme"] == "Ode to Joy" and row["transpose"] == "2"
    summary = read_csv(out / "summary.csv")
    assert tuple(summary[0]) == SUMMARY_FIELDS
    assert [(r["status"], r["detections"], r["themes"]) for r in summary] == [
        ("failed", "0", ""), ("scanned", "1", "Dies irae"), ("scanned", "1", "Ode to Joy")]

    # As if interrupted before the Dies irae file was written: only it is scanned again.
    (out / "archive" / "b" / "dies.flac.csv").unlink()
    resumed = run("scan", "--json", "--out", str(out), "--resume", str(archive))
    assert "resuming: 1 of 3 file(s) already have a cue sheet" in resumed.stderr
    assert "1 of 3 file(s) scanned, 1 resumed, 2 detection(s); 1 file(s) unreadable" in resumed.stderr
    # The resumed file's detections go to the outputs again: they cover the whole archive.
    assert [json.loads(line) for line in resumed.stdout.splitlines()] == [
        json.loads(line) for line in sorted(result.stdout.splitlines(), key=lambda line: "Dies" in line)]
    assert [r["status"] for r in read_csv(out / "summary.csv")] == ["failed", "scanned", "resumed"]
    assert read_csv(out / "archive" / "b" / "dies.flac.csv")[0]["theme"] == "Dies irae"

    # A sheet edited by hand into something else is reported, and its file scanned again.
    sheet = out / "archive" / "ode.wav.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(row["score"], "high"), encoding="utf-8")
    again = run("scan", "--out", str(out), "--resume", str(archive))
    complaint = f"{sheet}: not a cue sheet as this program writes them (score 'high' is not a number)"
    assert complaint in again.stderr
    assert [r["status"] for r in read_csv(out / "summary.csv")] == ["failed", "resumed", "scanned"]
    assert read_csv(sheet) == [row]

    # So is one emptied: a sheet as this program writes it has its header, detections or none.
    sheet.write_bytes(b"")
    emptied = run("scan", "--out", str(out), "--resume", str(archive))
    assert f"{sheet}: not a cue sheet as this program writes them (its first line is not the header" in emptied.stderr
    assert read_csv(sheet) == [row]


def test_ctrl_c_mid_scan_keeps_what_was_found_and_resume_finishes_it(archive, tmp_path):
    """Ctrl-C part way through a long scan: status 130 and no traceback; the closing line counts
    the files delivered and their detections alike (a file was once counted scanned before its
    delivery, which Ctrl-C could cut short); every detection of the files reported scanned was
    written; and --resume completes the archive, each file's detections once."""
    takes = tmp_path / "takes"
    takes.mkdir()
    audio, _ = soundfile.read(archive / "ode.wav", dtype="float32")
    soundfile.write(takes / "take.wav", np.concatenate([audio, np.zeros(60 * SAMPLE_RATE, np.float32)]),
                    SAMPLE_RATE, subtype="PCM_16")
    for k in range(1, N_TAKES):  # the same recording under many names: one file's space
        os.link(takes / "take.wav", takes / f"take{k:02}.wav")
    out = tmp_path / "cues"
    with subprocess.Popen([EXE, "scan", "--json", "--out", str(out), str(takes)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as scan:
        printed = [scan.stdout.readline()]  # the first file's detection: the scan is under way
        scan.send_signal(signal.SIGINT)
        printed += scan.stdout.readlines()
        stderr = scan.stderr.read()
        assert scan.wait(timeout=120) == 130 and "Traceback" not in stderr, stderr
    summary = read_csv(out / "summary.csv")
    done = sorted(r["file"] for r in summary if r["status"] == "scanned")
    assert len(done) < N_TAKES and {r["status"] for r in summary} <= {"scanned", "not scanned"}, stderr
    assert f"{len(done)} of {N_TAKES} file(s) scanned, {len(done)} detection(s)" in stderr
    # Each take holds one theme. A file counts as scanned once delivered: one whose delivery
    # Ctrl-C cut short may have printed its detection and still be "not scanned".
    printed_files = {json.loads(line)["file"] for line in printed}
    assert set(done) <= printed_files and len(printed_files - set(done)) <= 1

    resumed = run("scan", "--json", "--out", str(out), "--resume", str(takes))
    assert resumed.returncode == 0, resumed.stderr
    counts = re.search(r"(\d+) of (\d+) file\(s\) scanned(?:, (\d+) resumed)?", resumed.stderr)
    scanned, total, resumed_files = (int(count or 0) for count in counts.groups())
    assert total == N_TAKES and scanned + resumed_files == N_TAKES and resumed_files >= len(done)
    assert len(resumed.stdout.splitlines()) == N_TAKES  # the whole archive's detections, once each


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_on_a_terminal_each_line_starts_clear_of_the_progress_bars(archive, jobs):
    """A person at a terminal sees the bars (stderr) and the detections (stdout) on one screen:
    each line must start at the left edge, not where a bar left the cursor (the first letter
    of a file name used to stick to the bar above it)."""
    terminal, its_end = open_terminal()
    with subprocess.Popen([EXE, "scan", "--jobs", jobs, str(archive)], stdout=its_end,
                          stderr=its_end) as scan:
        os.close(its_end)
        printed = read_until_closed(terminal)
        assert scan.wait(timeout=300) == 1, printed  # the broken file
    assert "scan: 100%" in printed  # the bar was shown
    lines = [f"{archive / 'ode.wav'}:", f"{archive / 'b' / 'dies.flac'}:",
             f"theme-detector: skipped: {archive / 'b' / 'broken.wav'}"]
    for line in lines:
        where = printed.index(line)
        assert printed[where - 1] in "\r\n", repr(printed[max(0, where - 40):where + 20])


def test_overlapping_folders_scan_each_file_once_and_namesakes_need_no_cue_sheets(archive, tmp_path):
    assert len(find_audio_files([archive, archive / "b"])) == 3
    copy = tmp_path / "copy" / "ode.wav"
    copy.parent.mkdir()
    copy.write_bytes((archive / "ode.wav").read_bytes())
    result = run("scan", "--json", str(archive / "ode.wav"), str(copy))
    assert sorted(json.loads(line)["file"] for line in result.stdout.splitlines()) == sorted([
        str(archive / "ode.wav"), str(copy)])  # in the order the two processes finish


def test_an_output_file_that_is_an_input_or_another_output_is_refused(archive, tmp_path):
    take = tmp_path / "take1.wav"
    take.write_bytes((archive / "ode.wav").read_bytes())
    before = take.read_bytes()
    # `--csv *.wav`: the shell hands the first recording to --csv.
    result = run("scan", "--csv", str(take), str(archive / "ode.wav"), str(take))
    assert result.returncode == 2
    assert "one of the audio files to scan" in result.stderr and "nothing was written" in result.stderr
    assert take.read_bytes() == before
    same = run("scan", "--json-file", str(tmp_path / "out"), "--csv", str(tmp_path / "out"), str(take))
    assert same.returncode == 2 and "give each a file of its own" in same.stderr
    both = run("scan", "--json", "--csv", "-", str(take))
    assert both.returncode == 2 and "both write to standard output" in both.stderr
    assert not (tmp_path / "out").exists()


def test_a_file_name_that_is_not_utf8_is_scanned(archive, tmp_path):
    name = os.fsdecode(b"caf\xe9.wav")  # Latin-1, as old archives hold them
    (tmp_path / name).write_bytes((archive / "ode.wav").read_bytes())
    result = run("scan", "--json", "--out", str(tmp_path / "cues"), str(tmp_path / name))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["theme"] for line in result.stdout.splitlines()] == ["Ode to Joy"]
    [row] = read_csv(tmp_path / "cues" / "summary.csv")
    assert row["status"] == "scanned"


def test_a_cue_sheet_that_cannot_be_written_stops_the_scan_with_a_clear_error(archive, tmp_path):
    (tmp_path / "cues" / "ode.wav.csv").mkdir(parents=True)  # where the sheet should go
    result = run("scan", "--out", str(tmp_path / "cues"), str(archive / "ode.wav"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ode.wav.csv: cannot be written" in result.stderr and "--resume" in result.stderr
    not_a_folder = run("scan", "--out", str(archive / "ode.wav"), str(archive / "ode.wav"))
    assert not_a_folder.returncode == 2 and "is a file; --out takes a folder" in not_a_folder.stderr


@pytest.mark.parametrize("suffix, damage", [
    ("flac", "decoder lost sync"),  # the decoder stumbles on the cut
    ("wav", "s before its header says it does"),  # the reader stops quietly where the file ends
    ("aiff", "s before its header says it does")])
def test_a_file_damaged_part_way_keeps_the_detections_before_the_damage(archive, tmp_path, suffix,
                                                                        damage):
    """A file cut off after the theme (a truncated download): the theme is still found, and the
    file is reported as damaged."""
    audio, _ = soundfile.read(archive / "b" / "dies.flac", dtype="float32")
    whole = tmp_path / f"whole.{suffix}"
    soundfile.write(whole, np.concatenate([audio, np.zeros(10 * SAMPLE_RATE, np.float32)]), SAMPLE_RATE)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(whole.read_bytes()[:int(whole.stat().st_size * 0.8)])
    result = run("scan", "--json", "--out", str(tmp_path / "cues"), str(cut))
    assert result.returncode == 1
    assert [json.loads(line)["theme"] for line in result.stdout.splitlines()] == ["Dies irae"]
    assert damage in result.stderr and "the detections before it are kept" in result.stderr
    [row] = read_csv(tmp_path / "cues" / "summary.csv")
    assert (row["status"], row["detections"], row["themes"]) == ("partial", "1", "Dies irae")
    # Resumed, it is scanned again (a new copy may be whole), not passed for a finished file.
    resumed = run("scan", "--json", "--out", str(tmp_path / "cues"), "--resume", str(cut))
    assert resumed.returncode == 1 and "damaged part way when last scanned" in resumed.stderr
    [row] = read_csv(tmp_path / "cues" / "summary.csv")
    assert (row["status"], row["detections"], row["themes"]) == ("partial", "1", "Dies irae")
    # A whole copy downloaded again: scanned once more, then finished.
    cut.write_bytes(whole.read_bytes())
    for status in ("scanned", "resumed"):
        again = run("scan", "--out", str(tmp_path / "cues"), "--resume", str(cut))
        assert again.returncode == 0, again.stderr
        [row] = read_csv(tmp_path / "cues" / "summary.csv")
        assert (row["status"], row["detections"], row["error"]) == (status, "1", "")


def test_a_wav_whose_header_leaves_its_length_open_or_rounds_it_is_not_taken_for_a_cut_one(tmp_path):
    """Recorders that stream write "unknown" (0xFFFFFFFF) for the sizes until they close; some
    writers are a few bytes off."""
    path = tmp_path / "streamed.wav"
    soundfile.write(path, np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, subtype="PCM_16")
    whole = path.read_bytes()
    data = whole.find(b"data")
    streamed = bytearray(whole)
    streamed[4:8] = streamed[data + 4:data + 8] = struct.pack("<I", 0xFFFFFFFF)
    path.write_bytes(streamed)
    assert audio_file_info(path).missing_s == 0.0
    path.write_bytes(whole[:-1])  # a byte short
    assert audio_file_info(path).missing_s == 0.0
    path.write_bytes(whole[:data + 8 + SAMPLE_RATE])  # half of its second cut off
    assert audio_file_info(path).missing_s == pytest.approx(0.5, abs=0.01)


def test_a_silent_file_is_not_passed_off_as_a_clean_negative(tmp_path):
    soundfile.write(tmp_path / "silence.wav", np.zeros(3 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    result = run("scan", str(tmp_path / "silence.wav"))
    assert result.returncode == 0 and "silence.wav: no note heard" in result.stderr
    assert "1 of 1 file(s) scanned, 0 detection(s)" in result.stderr  # scanned, nothing found


def test_a_missing_file_is_named_as_missing_and_a_pipe_as_not_a_file(tmp_path):
    result = run("scan", str(tmp_path / "nowhere.wav"))
    assert result.returncode == 1 and "nowhere.wav: no such file" in result.stderr
    paths = ["-"]
    if hasattr(os, "mkfifo"):  # POSIX: as /dev/stdin is under `cat x.wav | theme-detector scan /dev/stdin`
        os.mkfifo(tmp_path / "pipe.wav")
        paths.append(str(tmp_path / "pipe.wav"))
    for path in paths:
        result = run("scan", path)
        assert result.returncode == 1 and f"{path}: is not a file" in result.stderr


def test_resume_needs_an_output_folder(archive):
    result = run("scan", "--resume", str(archive))
    assert result.returncode == 2 and "--resume needs --out" in result.stderr


@pytest.mark.slow
def test_the_same_scan_on_a_dask_cluster(archive, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = run("scan", "--dask", cluster.scheduler_address, "--out", str(tmp_path), str(archive))
    assert result.returncode == 1, result.stderr
    assert [(r["file"], r["themes"]) for r in read_csv(tmp_path / "summary.csv")] == [
        (str(archive / "b" / "broken.wav"), ""), (str(archive / "b" / "dies.flac"), "Dies irae"),
        (str(archive / "ode.wav"), "Ode to Joy")]
    assert "Ode to Joy" in result.stdout and "Dies irae" in result.stdout
