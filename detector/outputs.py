"""Where detections go: text, JSON lines, a CSV cue sheet, OSC and MIDI, any number at once.

Every output is a Sink with the same three methods: `emit(detection, file)` for each detection,
`scores(names, values, time_s)` with every theme's running score (called often by live hosts;
each sink decides what, if anything, to send), and `close()`. `open_outputs` builds the sinks a
user chose (`OutputOptions`) into one `Outputs`, which is itself a Sink. The formats are
Detection's (events.py); a sink only delivers them.

OSC (UDP, python-osc; the `osc` extra):

    /theme/detected  s theme  f score  i transpose  f tempo  f start_s  f end_s  f time_s
    /theme/score     s theme  f score       (every theme, --osc-score-rate times a second)

MIDI (mido on python-rtmidi; the `midi` extra): theme k, in the order the themes were loaded,
is note `note_base + k` on `channel` (0-15); a detection sends note-on with velocity 1-127 from
the score, and note-off NOTE_S later, so a DAW records a marker note.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from detector.errors import OutputError, reason
from detector.events import Detection, cue_sheet_writer

#: How text outputs write a file name that is not valid UTF-8 (an old archive's Latin-1 names):
#: as the bytes the file system holds, so that the name still opens the file.
FILE_NAMES = "surrogateescape"

OSC_DETECTED = "/theme/detected"
OSC_SCORE = "/theme/score"
#: How long a theme's MIDI note is held (seconds).
NOTE_S = 0.25
#: How long a MIDI port stays open after its last note-offs, for them to be delivered.
DRAIN_S = 0.1
#: "-" as a file name means standard output.
STDOUT = "-"
STDOUT_LABEL = "standard output"


class Sink:
    """One destination for detections. Subclasses override what they use, and set `label`."""

    #: The output as the user named it (a file, "OSC to host:port"), for messages about it.
    label = "output"
    #: What stopped taking detections, and why, a line each (`Outputs` keeps them).
    failed: Sequence[str] = ()

    def emit(self, detection: Detection, file: str | None = None) -> None:
        """Deliver one detection; `file` is the audio file it was found in (None when live)."""

    def scores(self, names: Sequence[str], values: np.ndarray, time_s: float) -> None:
        """Every theme's running score (0-1) at stream time time_s; called by live hosts."""

    @property
    def wants_scores(self) -> bool:
        """Whether `scores` does anything: a host need not call it otherwise (it runs per frame)."""
        return False

    def close(self) -> None:
        """Flush and release what the sink holds."""


class _StreamSink(Sink):
    """A sink writing to a text stream, which it closes at the end if it opened it (`owned`)."""

    def __init__(self, stream: TextIO, owned: bool = False,
                 label: str = STDOUT_LABEL) -> None:
        self.stream = stream
        self.owned = owned
        self.label = label

    def close(self) -> None:
        if self.owned:
            self.stream.close()


class TextSink(_StreamSink):
    """One human-readable line per detection (Detection.describe), prefixed by the file."""

    def emit(self, detection: Detection, file: str | None = None) -> None:
        prefix = f"{file}: " if file else ""
        print(prefix + detection.describe(), file=self.stream, flush=True)


class JsonLinesSink(_StreamSink):
    """One JSON object per line (Detection.to_json), flushed at once for a reading program."""

    def emit(self, detection: Detection, file: str | None = None) -> None:
        print(detection.to_json(file), file=self.stream, flush=True)


class CueSheetSink(_StreamSink):
    """A CSV cue sheet (events.CUE_FIELDS), one row per detection, flushed as it is written so
    the sheet survives an interrupted run."""

    def __init__(self, stream: TextIO, owned: bool = False,
                 label: str = STDOUT_LABEL) -> None:
        super().__init__(stream, owned, label)
        self._writer = cue_sheet_writer(stream)
        try:  # the header now: a disk that cannot take it is found before any scan
            stream.flush()
        except OSError as error:
            raise OutputError(f"{label}: cannot be written ({reason(error)})") from None

    def emit(self, detection: Detection, file: str | None = None) -> None:
        self._writer.writerow(detection.as_cue(file))
        self.stream.flush()


class OscSink(Sink):
    """OSC messages over UDP to host:port (see the module docstring for the addresses).

    score_rate_hz: how often /theme/score goes out, per second of stream time; 0 sends none.
    """

    def __init__(self, host: str, port: int, score_rate_hz: float = 0.0) -> None:
        try:
            from pythonosc.udp_client import SimpleUDPClient
        except ImportError:
            raise _missing("OSC output", "python-osc", "osc") from None
        try:
            self._client = SimpleUDPClient(host, port)
        except (OSError, ValueError) as error:
            raise OutputError(f"OSC: cannot send to {host}:{port} ({error})") from None
        self.label = f"OSC to {host}:{port}"
        self.score_interval_s = 1.0 / score_rate_hz if score_rate_hz > 0 else 0.0
        self._next_score_s = 0.0

    def emit(self, detection: Detection, file: str | None = None) -> None:
        self._client.send_message(OSC_DETECTED, detection.osc_args())

    @property
    def wants_scores(self) -> bool:
        return self.score_interval_s > 0.0

    def scores(self, names: Sequence[str], values: np.ndarray, time_s: float) -> None:
        if not self.score_interval_s or time_s < self._next_score_s:
            return
        # Keep the cadence (a late poll does not delay the next tick); after a gap, start afresh.
        self._next_score_s += self.score_interval_s
        if self._next_score_s <= time_s:
            self._next_score_s = time_s + self.score_interval_s
        for name, value in zip(names, values):
            self._client.send_message(OSC_SCORE, [name, float(value)])


class MidiSink(Sink):
    """A note per theme on a MIDI output port (see the module docstring for the mapping).

    port: the name of an existing output port (or a unique part of it); when none matches,
    a virtual port of that name is opened for a DAW to connect to.
    """

    def __init__(self, port: str, theme_names: Sequence[str], channel: int = 0,
                 note_base: int = 60) -> None:
        import mido  # a core dependency; the rtmidi backend is the `midi` extra

        self._message = mido.Message
        self._port, self.port_name, self.virtual = open_midi_output(port)
        self.label = f"MIDI out {self.port_name}"
        self.channel = channel
        self.notes = {name: note_base + k for k, name in enumerate(theme_names)
                      if note_base + k <= 127}
        self._lock = threading.Lock()
        self._pending: set[threading.Timer] = set()

    def emit(self, detection: Detection, file: str | None = None) -> None:
        note = self.notes.get(detection.theme)
        if note is None:
            return
        velocity = int(np.clip(round(127 * detection.score), 1, 127))
        self._send(self._message("note_on", channel=self.channel, note=note, velocity=velocity))
        off = self._message("note_off", channel=self.channel, note=note, velocity=0)
        timer = threading.Timer(NOTE_S, self._release, args=(off,))
        timer.daemon = True
        with self._lock:
            self._pending.add(timer)
        timer.start()

    def _release(self, off) -> None:
        with self._lock:
            self._pending.discard(threading.current_thread())
        self._send(off)

    def _send(self, message) -> None:
        with self._lock:
            if not self._port.closed:
                self._port.send(message)

    def close(self) -> None:
        """Send the note-offs still pending now, then close the port once the backend has had
        DRAIN_S to deliver them: rtmidi drops what it has not yet sent when its port closes
        (thestk/rtmidi#235), and a note left on sounds on in the DAW."""
        with self._lock:
            pending, self._pending = self._pending, set()
        for timer in pending:
            timer.cancel()
            self._send(*timer.args)
        if pending:
            time.sleep(DRAIN_S)
        with self._lock:
            self._port.close()


def open_midi_output(name: str):
    """(port, its name, whether it is virtual): the output port matching `name`, or a new
    virtual port called `name`, through midi_api() (JACK MIDI needs a running JACK server)."""
    import mido

    try:
        import rtmidi
    except ImportError:
        raise _missing("MIDI output", "python-rtmidi", "midi") from None
    api = midi_api()
    backend = mido.Backend("mido.backends.rtmidi" + (f"/{api}" if api else ""))
    try:
        names = backend.get_output_names()
        matches = [n for n in names if n == name] or [n for n in names if name.lower() in n.lower()]
        if len(matches) > 1:
            raise OutputError(f"MIDI: '{name}' matches several ports: {', '.join(matches)}")
        if matches:
            return backend.open_output(matches[0]), matches[0], False
        port = backend.open_output(name, virtual=True, client_name="theme-detector")
        return port, f"theme-detector:{name}", True
    except (rtmidi.RtMidiError, OSError, RuntimeError) as error:
        where = "the ALSA sequencer" if api == "LINUX_ALSA" else "JACK (is jackd running?)"
        raise OutputError(f"MIDI: cannot open port '{name}' through {where}: {error}") from None


def midi_api() -> str | None:
    """The rtmidi API MIDI output uses: on Linux the ALSA sequencer where the machine has one,
    otherwise JACK MIDI; elsewhere the platform's own (None)."""
    if sys.platform.startswith("linux"):
        return "LINUX_ALSA" if Path("/dev/snd/seq").exists() else "UNIX_JACK"
    return None


def _missing(what: str, package: str, extra: str) -> OutputError:
    return OutputError(f"{what} needs {package}; install it with: "
                       f"pip install 'theme-detector[{extra}]'")


class Outputs(Sink):
    """Several sinks as one. A sink that fails while delivering (a full disk, a vanished MIDI
    port) is reported once on stderr, dropped and told in `failed` (a command then exits with
    status 1, the window shows it: what was found is not all where it was asked to go); the
    others go on. Standard
    output whose reader has stopped reading (`| head`) is dropped quietly, as other tools do."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = list(sinks)
        self.failed: list[str] = []

    def emit(self, detection: Detection, file: str | None = None) -> None:
        self._each(lambda sink: sink.emit(detection, file))

    def scores(self, names: Sequence[str], values: np.ndarray, time_s: float) -> None:
        if self.wants_scores:  # hosts call this per frame; most outputs take no scores
            self._each(lambda sink: sink.scores(names, values, time_s))

    @property
    def wants_scores(self) -> bool:
        return any(sink.wants_scores for sink in self.sinks)

    def _each(self, deliver) -> None:
        for sink in list(self.sinks):
            try:
                deliver(sink)
            except (OSError, ValueError) as error:  # ValueError: a stream closed under it
                self.sinks.remove(sink)
                if isinstance(error, BrokenPipeError) and getattr(sink, "stream", None) is sys.stdout:
                    _leave_stdout()
                    continue
                self._stopped(sink, error, "the detections from here on do not reach it")
                _close_quietly(sink)

    def _stopped(self, sink: Sink, error: Exception, consequence: str) -> None:
        self.failed.append(f"{sink.label}: stopped ({reason(error)}); {consequence}")
        print(f"theme-detector: {self.failed[-1]}", file=sys.stderr)

    def close(self) -> None:
        """Close every sink still delivering; one that fails to (its last lines lost) is told
        in `failed` too."""
        for sink in self.sinks:
            try:
                sink.close()
            except (OSError, ValueError) as error:
                self._stopped(sink, error, "its last detections may be lost")

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class OutputOptions:
    """The outputs a user chose (the command line's --json, --json-file, --csv, --osc,
    --osc-score-rate, --midi-out, --midi-channel, --midi-note).

    Text goes to stdout unless another output writes there (--json, or "-" as a file name).
    """

    json: bool = False
    json_file: str | None = None
    csv_file: str | None = None
    osc: tuple[tuple[str, int], ...] = ()
    osc_score_rate_hz: float = 0.0
    midi_out: tuple[str, ...] = ()
    midi_channel: int = 0
    midi_note_base: int = 60

    @property
    def text(self) -> bool:
        """Whether stdout is free for the human-readable lines."""
        return not (self.json or STDOUT in (self.json_file, self.csv_file))

    def check(self, inputs: Sequence[Path] = ()) -> None:
        """OutputError, before anything is opened, if two outputs would write into one stream
        or one file, or a file output is one of the inputs (`--csv *.wav` would overwrite the
        first recording with the cue sheet)."""
        stdout_writers = [option for option, writes in (("--json", self.json),
                                                        ("--json-file -", self.json_file == STDOUT),
                                                        ("--csv -", self.csv_file == STDOUT)) if writes]
        if len(stdout_writers) > 1:
            raise OutputError(f"{' and '.join(stdout_writers)} would both write to standard "
                              "output; send one of them to a file")
        files = {option: Path(name).resolve()
                 for option, name in (("--json-file", self.json_file), ("--csv", self.csv_file))
                 if name not in (None, STDOUT)}
        if len(set(files.values())) < len(files):
            raise OutputError(f"--json-file and --csv both name {self.csv_file}; give each a "
                              "file of its own")
        inputs_by_target = {path.resolve(): path for path in inputs}
        for option, target in files.items():
            if target in inputs_by_target:
                raise OutputError(f"{option} {inputs_by_target[target]}: that is one of the audio "
                                  f"files to scan, and it would be overwritten; give {option} a "
                                  "file of its own (nothing was written)")


def open_outputs(options: OutputOptions, theme_names: Sequence[str], inputs: Sequence[Path] = ()
                 ) -> Outputs:
    """Open every chosen output; OutputError (naming it) if they clash with each other or with
    the `inputs` (`OutputOptions.check`), or one cannot be opened, after closing those already
    open."""
    options.check(inputs)
    sinks: list[Sink] = []
    try:
        if options.text:
            sinks.append(TextSink(sys.stdout))
        if options.json:
            sinks.append(JsonLinesSink(sys.stdout))
        if options.json_file:
            sinks.append(JsonLinesSink(*_open_text(options.json_file)))
        if options.csv_file:
            sinks.append(CueSheetSink(*_open_text(options.csv_file, newline="")))
        sinks += [OscSink(host, port, options.osc_score_rate_hz) for host, port in options.osc]
        for port in options.midi_out:
            sink = MidiSink(port, theme_names, options.midi_channel, options.midi_note_base)
            sinks.append(sink)
            where = (f"a new virtual port {sink.port_name} (connect your DAW's input to it)"
                     if sink.virtual else sink.port_name)
            mapping = ", ".join(f"{note} {name}" for name, note in sink.notes.items())
            print(f"theme-detector: MIDI out on {where}, channel {options.midi_channel + 1}, "
                  f"notes: {mapping}", file=sys.stderr)
            if len(sink.notes) < len(theme_names):
                print(f"theme-detector: MIDI out: only the first {len(sink.notes)} themes have a "
                      f"note (notes {options.midi_note_base}-127)", file=sys.stderr)
    except BaseException:
        Outputs(sinks).close()
        raise
    return Outputs(sinks)


def _close_quietly(sink: Sink) -> None:
    """Release what a sink that has failed holds (a file, a port); it has been reported."""
    try:
        sink.close()
    except (OSError, ValueError):
        pass


def _leave_stdout() -> None:
    """Point standard output at the null device once its reader has gone, so that nothing
    written to it later (the interpreter's last flush included) fails again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # a stdout with no file descriptor (a test's capture) has none to leave
        pass


def _open_text(name: str, newline: str | None = None) -> tuple[TextIO, bool, str]:
    """(stream, owned, label): stdout for "-", otherwise the file, created or truncated."""
    if name == STDOUT:
        return sys.stdout, False, STDOUT_LABEL
    try:
        return open(name, "w", encoding="utf-8", errors=FILE_NAMES, newline=newline), True, name
    except OSError as error:
        raise OutputError(f"{name}: cannot be written ({reason(error)})") from None
