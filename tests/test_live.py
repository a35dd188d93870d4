"""`theme-detector listen` through a real PortAudio stream, as a user runs it.

JACK's dummy backend is the audio server (no sound card needed); a second process plays rendered
themes into the listener's input port. Covered: the right detection at a sensible time, garbage
input (NaN, Inf, 3e38) survived and counted, analysis that falls behind skipping input and
counting it, and the server stopping mid-stream. These tests check behaviour, never speed:
benchmarks/live.py measures the timings.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from benchmarks.jack import JackServer, Player, jack_installed
from detector.demo import perform
from detector.sanitize import ABSURD_LEVEL
from detector.synth import render_notes

pytestmark = pytest.mark.device

SAMPLE_RATE = 48000
#: Silence before the theme in each rendered file.
LEAD_IN_S = 0.5
#: Generous bounds for a machine under load (CI); the benchmark measures the real figures.
START_TIMEOUT_S = 60.0
EVENT_TIMEOUT_S = 10.0
from conftest import EXE


@pytest.fixture(scope="session")
def jack_server():
    if not jack_installed():
        pytest.skip("jackd is not installed (Debian package jackd2; `scripts/bootstrap --dev`)")
    with JackServer(SAMPLE_RATE, period=128) as server:
        yield server


class Listening:
    """`theme-detector listen --json ...` on the server's JACK device, its output collected
    line by line with the time.monotonic() at which each line arrived."""

    def __init__(self, server: JackServer, *args: str) -> None:
        self.server = server
        before = set(server.ports())
        self.stdout: list[tuple[float, str]] = []
        self.stderr: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [EXE, "listen", "--json", "--device", _jack_device(server), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server.env)
        self._readers = [threading.Thread(target=_collect, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.stdout),
                                               (self.process.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()
        self.wait_for(lambda: any("listening on" in line for _, line in self.stderr),
                      START_TIMEOUT_S, "the listener to start")
        self.port = server.wait_for_port(lambda port: port not in before and port.endswith(":in_0"))

    @property
    def records(self) -> list[tuple[float, dict]]:
        return [(arrived, json.loads(line)) for arrived, line in list(self.stdout)]

    def feed_from(self, player: Player) -> None:
        """Route the player, and nothing else, into the listener's first input."""
        for source in self.server.connections(self.port):
            self.server.disconnect(source, self.port)
        self.server.connect(player.port, self.port)

    def wait_for(self, condition, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.process.poll() is not None and not condition():
                pytest.fail(f"the listener exited ({self.process.returncode}) while waiting for "
                            f"{what}:\n{self.stderr_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.stderr_text()}")
            time.sleep(0.05)

    def finish(self, timeout_s: float = 30.0) -> int:
        """Wait for the listener to exit (killing it if it hangs); its exit status."""
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the listener hung:\n{self.stderr_text()}")
        for reader in self._readers:
            reader.join(timeout=5.0)
        return self.process.returncode

    def stderr_text(self) -> str:
        return "".join(line for _, line in self.stderr)


def _collect(stream, lines: list[tuple[float, str]]) -> None:
    for line in stream:
        lines.append((time.monotonic(), line))


def _jack_device(server: JackServer) -> str:
    """The JACK device's index, from `theme-detector devices` run against the server."""
    listed = subprocess.run([EXE, "devices"], capture_output=True, text=True, env=server.env,
                            timeout=60).stdout
    for line in listed.splitlines():
        if "[JACK Audio Connection Kit]" in line:
            return line.split()[0]
    pytest.fail(f"`theme-detector devices` does not list the JACK device:\n{listed}")


def _rendered_theme(path: Path, theme, transpose: int, tempo: float) -> tuple[Path, float]:
    """A WAV file: LEAD_IN_S of silence, the theme, one second of silence. Returns the path and
    how long the theme itself lasts."""
    notes = perform(theme, LEAD_IN_S, transpose, tempo)
    audio = render_notes(notes, SAMPLE_RATE, "clarinet")
    audio = np.concatenate([audio, np.zeros(SAMPLE_RATE, dtype=np.float32)])
    soundfile.write(path, audio, SAMPLE_RATE, subtype="FLOAT")
    return path, notes[-1].end_s - LEAD_IN_S


def _listen_while_playing(server: JackServer, wav: Path) -> Listening:
    """`listen` on the server with wav played into it; returns once a theme is announced."""
    listening = Listening(server, "--channels", "1", "--duration", "60")
    player = Player(server)
    try:
        listening.feed_from(player)
        player.play(wav)
        listening.wait_for(lambda: listening.records, EVENT_TIMEOUT_S, "the detection")
    except BaseException:
        listening.process.send_signal(signal.SIGINT)
        raise
    finally:
        player.close()
    return listening


def test_theme_played_into_the_jack_port_is_detected_live(jack_server, theme_named, tmp_path):
    wav, theme_s = _rendered_theme(tmp_path / "ode.wav", theme_named("Ode to Joy"),
                                   transpose=-5, tempo=1.1)
    listening = _listen_while_playing(jack_server, wav)
    listening.process.send_signal(signal.SIGTERM)  # as a service manager stops it; Ctrl-C alike
    assert listening.finish() == 0, listening.stderr_text()
    assert "stopped after" in listening.stderr_text()  # the closing summary

    [(_, record)] = listening.records
    assert record["theme"] == "Ode to Joy" and record["transpose"] == -5
    assert record["tempo"] == pytest.approx(1.1, rel=0.1)
    # On the listener's clock: announced before the theme ended.
    assert record["start_s"] < record["end_s"] and record["time_s"] < record["start_s"] + theme_s
    assert "Traceback" not in listening.stderr_text()


def test_the_jack_input_is_found_by_its_host_api_and_a_wrong_rate_is_told_the_right_one(jack_server):
    """`devices` shows "system [JACK Audio Connection Kit]": `--device jack` finds it."""
    found = subprocess.run([EXE, "listen", "--device", "jack", "--duration", "0.5"], capture_output=True,
                           text=True, env=jack_server.env, timeout=120)
    assert found.returncode == 0, found.stderr
    assert "listening on system [JACK Audio Connection Kit]" in found.stderr and "(Ctrl-C stops, or 0.5 s)" in found.stderr
    listed = subprocess.run([EXE, "devices"], capture_output=True, text=True, env=jack_server.env, timeout=60)
    assert "give `listen --device` an index, or part of a name or host API" in listed.stderr
    rate = jack_server.sample_rate // 2  # JACK runs at the server's rate only
    wrong_rate = subprocess.run([EXE, "listen", "--device", "jack", "--samplerate", str(rate)], capture_output=True,
                                text=True, env=jack_server.env, timeout=120)
    assert wrong_rate.returncode == 2
    assert f"cannot open input at {rate} Hz" in wrong_rate.stderr
    assert f"its own rate is {jack_server.sample_rate} Hz" in wrong_rate.stderr


def test_garbage_input_is_survived_and_counted(jack_server, tmp_path):
    # The dummy driver's capture ports stay connected (it can deliver uninitialised memory there
    # while nothing plays), and the player adds garbage of every kind to a tone, for certain.
    rng = np.random.default_rng(4)
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE)
    garbage = np.array([np.nan, np.inf, -np.inf, 3e38, -3e38, 1e10], dtype=np.float32)
    audio = tone.astype(np.float32)
    spots = rng.choice(len(audio), size=600, replace=False)
    audio[spots] = rng.choice(garbage, size=len(spots))
    audio[SAMPLE_RATE:SAMPLE_RATE + 4800] = np.nan  # a tenth of a second of nothing but NaN
    wav = tmp_path / "garbage.wav"
    soundfile.write(wav, audio, SAMPLE_RATE, subtype="FLOAT")

    listening = Listening(jack_server, "--duration", "6")
    player = Player(jack_server)
    try:
        jack_server.connect(player.port, listening.port)
        player.play(wav)
    finally:
        player.close()
    assert listening.finish() == 0, listening.stderr_text()

    stderr = listening.stderr_text()
    replaced = re.search(r"(\d+) invalid sample\(s\) replaced by silence", stderr)
    played = np.count_nonzero(~(np.abs(audio) <= ABSURD_LEVEL))
    assert replaced and int(replaced[1]) >= played // 2, stderr  # a block or two may be lost (xruns)
    assert "invalid samples (NaN, Inf" in stderr  # the notice, while it happened
    assert "Traceback" not in stderr


#: A Listener whose analysis is slower than real time, with a ring buffer of 4096 frames.
FALLING_BEHIND = """
import json, sys, time
import detector.live as live
from detector.demo import builtin_themes

live.RING_SECONDS = 0.05
listener = live.Listener(builtin_themes(), live.InputSettings(device=sys.argv[1], channels=(1,)))
analyse = listener.detector.process
def slow(block):
    time.sleep(0.03)  # 30 ms for at most 1024 frames (21 ms)
    return analyse(block)
listener.detector.process = slow
with listener:
    time.sleep(2.0)
notices = [listener.notices.get() for _ in range(listener.notices.qsize())]
stats = listener.stats
print(json.dumps({"recorded": listener.ring.recorded_frames, "dropped": stats.dropped_frames,
                  "notices": notices, "error": stats.error}))
"""


def test_analysis_falling_behind_skips_input_and_counts_it(jack_server):
    done = subprocess.run([sys.executable, "-c", FALLING_BEHIND, _jack_device(jack_server)],
                          env=jack_server.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["dropped"] > 0 and result["error"] == ""
    assert any("fell behind and skipped" in notice for notice in result["notices"])


def test_server_stopping_mid_stream_ends_cleanly_and_keeps_what_was_found(theme_named, tmp_path):
    if not jack_installed():
        pytest.skip("jackd is not installed (Debian package jackd2; `scripts/bootstrap --dev`)")
    wav, _ = _rendered_theme(tmp_path / "dies.wav", theme_named("Dies irae"), transpose=+2, tempo=1.0)
    with JackServer(SAMPLE_RATE, period=128) as server:  # its own: this test stops it
        listening = _listen_while_playing(server, wav)
        server.stop()
        status = listening.finish(timeout_s=20.0)

    stderr = listening.stderr_text()
    assert status == 1, stderr
    assert [record["theme"] for _, record in listening.records] == ["Dies irae"]
    lost = [line for line in stderr.splitlines() if "input lost" in line]
    assert len(lost) == 1 and "JACK" in lost[0] and "stopped delivering audio" in lost[0]
    assert "start the program again once the server is back" in lost[0]  # the window cannot reconnect
    assert "stopped after" in stderr  # the counts, also after a loss
    assert "Traceback" not in stderr
