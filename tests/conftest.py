"""Shared fixtures: the built-in themes, and performances rendered from them."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import mido
import numpy as np
import pytest

from detector.demo import builtin_themes, perform, random_melody
from detector.engine import Detector
from detector.events import Detection
from detector.notes import Note
from detector.synth import render_notes
from detector.themes import Theme

SAMPLE_RATE = 22050
#: The installed console script, as a user runs it.
EXE = str(Path(sys.executable).with_name("theme-detector"))


#: How long a test waits for an OSC message.
OSC_WAIT_S = 10.0


class OscReceiver:
    """A python-osc server on 127.0.0.1 (a free port), collecting (address, args) in a thread."""

    def __init__(self) -> None:
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import ThreadingOSCUDPServer

        self.messages: list[tuple[str, list]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: self.messages.append((address, list(args))))
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, address: str, count: int = 1) -> list[list]:
        deadline = time.monotonic() + OSC_WAIT_S
        while time.monotonic() < deadline:
            found = [args for a, args in self.messages if a == address]
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"{count} {address} message(s) expected; got {self.messages}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def osc_receiver():
    receiver = OscReceiver()
    yield receiver
    receiver.close()


def theme_detector(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess:
    """Run `theme-detector ARGS...`, capturing its output as text (a file name that is not
    UTF-8 as its bytes, as the program writes it)."""
    return subprocess.run([EXE, *args], capture_output=True, encoding="utf-8",
                          errors="surrogateescape", timeout=timeout_s)


def open_terminal(columns: int = 100, rows: int = 24) -> tuple[int, int]:
    """A pseudo-terminal of the given size, as a person's: (our end, the program's end).
    POSIX only (the modules are imported here, so that other tests load anywhere)."""
    import fcntl
    import pty
    import termios

    ours, programs = pty.openpty()
    fcntl.ioctl(programs, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return ours, programs


def read_until_closed(terminal: int) -> str:
    """All a pseudo-terminal's program printed, until it closed its end; closes ours."""
    chunks = []
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(terminal)
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="session")
def themes() -> list[Theme]:
    return builtin_themes()


@pytest.fixture(scope="session")
def theme_named(themes):
    by_name = {theme.name: theme for theme in themes}
    return by_name.__getitem__


def render_performance(theme: Theme, transpose: int = 0, tempo: float = 1.0, timbre: str = "flute",
                       before_s: float = 0.0, seed: int = 0, sample_rate: int = SAMPLE_RATE,
                       notes_kept: slice = slice(None)) -> tuple[np.ndarray, float, float]:
    """Audio of other music for before_s, then the theme (or a slice of its notes).

    Returns (audio, theme start_s, theme end_s).
    """
    rng = np.random.default_rng(seed)
    start_s = before_s + 0.3
    theme_notes = perform(theme, start_s, transpose, tempo)[notes_kept]
    notes: list[Note] = random_melody(rng, 0.0, before_s) if before_s else []
    notes = [n for n in notes if n.end_s < start_s - 0.2] + theme_notes
    audio = render_notes(notes, sample_rate, timbre, seed=seed)
    audio = np.concatenate([audio, np.zeros(sample_rate, dtype=np.float32)])
    return audio, theme_notes[0].onset_s, theme_notes[-1].end_s


def mixed(*parts: np.ndarray) -> np.ndarray:
    """The parts summed, with a second of silence after the longest."""
    mix = np.zeros(max(len(p) for p in parts) + SAMPLE_RATE, dtype=np.float32)
    for part in parts:
        mix[:len(part)] += part
    return mix


#: The beat of the accompaniments below (s).
BEAT_S = 0.5


def accompanied(theme, transpose: int = 0, accompaniment_level: float = 0.3
                ) -> tuple[np.ndarray, float, float]:
    """The theme on a flute (level 0.3) over sustained triads (organ) and a bass line
    (strings): YIN cannot read a single period out of this mixture."""
    melody = perform(theme, 0.5, transpose, 1.0)
    end_s = melody[-1].end_s
    chords, bass = [], []
    for t, root in progression(48 + transpose, end_s):
        chords += [Note(root + 12 + step, t, 2 * BEAT_S) for step in (0, 4, 7)]
        bass += [Note(root - 12, t, BEAT_S), Note(root - 5, t + BEAT_S, BEAT_S)]
    return mixed(render_notes(melody, SAMPLE_RATE, "flute", level=0.3),
                 render_notes(chords, SAMPLE_RATE, "organ", level=accompaniment_level),
                 render_notes(bass, SAMPLE_RATE, "strings", level=accompaniment_level)), melody[0].onset_s, end_s


def progression(tonic: int, end_s: float) -> list[tuple[float, int]]:
    """(onset s, root) of a I-IV-V-I progression, a chord every two beats from 0.5 s to end_s."""
    onsets = np.arange(0.5, end_s, 2 * BEAT_S)
    return [(float(t), tonic + (0, 5, 7, 0)[k % 4]) for k, t in enumerate(onsets)]


def detect(themes, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, block: int = 1024) -> list[Detection]:
    """Run a fresh Detector over the audio in blocks; all detections in order."""
    detector = Detector(themes, sample_rate, warm_up=False)
    found: list[Detection] = []
    for start in range(0, len(audio), block):
        found += detector.process(audio[start:start + block])
    return found


def write_midi(path: Path, tracks: list[tuple[str, int, list[tuple[int, float, float]]]],
               midi_type: int = 1) -> Path:
    """tracks: (name, channel, [(pitch, onset_beats, length_beats)]); 480 ticks per beat."""
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=480)
    merged = []
    for name, channel, notes in tracks:
        events = []
        for pitch, onset, length in notes:
            events.append((int(onset * 480), mido.Message("note_on", channel=channel, note=pitch, velocity=90)))
            events.append((int((onset + length) * 480), mido.Message("note_off", channel=channel, note=pitch)))
        if midi_type == 0:
            merged += events
            continue
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        track += _delta(events)
        midi.tracks.append(track)
    if midi_type == 0:
        midi.tracks.append(mido.MidiTrack(_delta(merged)))
    midi.save(path)
    return path


def _delta(events):
    out, now = [], 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        out.append(message.copy(time=tick - now))
        now = tick
    return out
