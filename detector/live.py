"""The live path: PortAudio input -> ring buffer -> analysis worker -> detection queue.

Three threads, each owning its work:
- PortAudio's real-time thread runs rtmixer's C callback, which copies each block into a
  lock-free ring buffer and counts overflows without ever entering Python (detector/ringbuffer.py
  says why C and not Python);
- the analysis worker drains the ring buffer, checks the input (detector/inputcheck.py), runs
  the Detector, and watches the stream;
- whoever consumes (the command line, the GUI) reads `events` (Detection) and `notices` (str),
  both queues, and `stats` and `detector.display`, and never calls into the worker.

Every numba kernel is compiled (or loaded from numba's cache) when the Listener is made, before
the stream starts, so the first block costs what every block costs.

When the device or its audio server goes away (the stream stops being active, or PortAudio
calls the finished callback), the worker notices within POLL_S, analyses what was buffered and
stops; `stats.error` says what happened. If it was the JACK server that stopped, the stream is
abandoned rather than stopped or closed, which would hang (see detector.audio.abandon).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector.audio import InputDevice, abandon, load_rtmixer, load_sounddevice, find_input_device
from detector.engine import Detector
from detector.errors import AudioInputError
from detector.events import Detection
from detector.inputcheck import InputCheck
from detector.recent import RecentAudio
from detector.ringbuffer import RingBuffer
from detector.themes import Theme

#: Seconds of audio the ring buffer holds: how far the worker may fall behind before dropping.
RING_SECONDS = 4.0
#: How long the worker sleeps when the ring buffer is empty.
POLL_S = 0.002
#: The most frames handed to the detector at once.
CHUNK_FRAMES = 1024
#: No audio arriving for this long, while the stream claims to run, is a stall worth a notice.
STALL_S = 2.0


@dataclass(frozen=True)
class InputSettings:
    """What to open.

    device: index, part of the name, or None for the system's default input.
    sample_rate: Hz; None takes the device's default.
    block_size: frames per callback; 0 lets PortAudio choose (with JACK: the server's period).
    latency: "low", "high" or seconds of input latency to ask PortAudio for.
    channels: 1-based input channels, mixed to mono by the detector; None for all of them.
    """

    device: str | int | None = None
    sample_rate: int | None = None
    block_size: int = 0
    latency: str | float = "low"
    channels: tuple[int, ...] | None = None


@dataclass(frozen=True)
class StreamStats:
    """A snapshot of the stream's counters, for a status line or bar.

    callbacks: blocks the callback recorded.
    overflows: blocks PortAudio flagged as input overflow: audio lost before it reached us
        (with JACK, every xrun the server reports).
    dropped_frames: frames skipped because the analysis fell a whole ring buffer behind.
    sanitised_samples: NaN, Inf or absurd samples the detector replaced by silence.
    backlog_s: audio recorded but not analysed yet: how far the worker trails the input.
    callback_load: PortAudio's estimate of the share of each block period the callback takes.
    device_stopped: the input went away, or the analysis failed; `error` says which.
    """

    callbacks: int = 0
    overflows: int = 0
    dropped_frames: int = 0
    sanitised_samples: int = 0
    backlog_s: float = 0.0
    callback_load: float = 0.0
    error: str = ""

    @property
    def device_stopped(self) -> bool:
        return bool(self.error)


class Listener:
    """Listens on an input device and detects themes until stopped.

    Use as a context manager, or call start() and stop(). Making one compiles the kernels and
    opens the stream (AudioInputError, naming the device, if it cannot); start() starts it.
    Detections arrive in `events`, notices about the input (silence, clipping, overflows, ...)
    in `notices`, both queue.Queue; `recent` keeps the last seconds heard; `stats` and
    `detector.display` describe the stream.
    mode is the Detector's melody front end (auto, melody or ensemble).
    """

    def __init__(self, themes: Sequence[Theme], settings: InputSettings = InputSettings(),
                 mode: str = "auto") -> None:
        rtmixer, sd = load_rtmixer(), load_sounddevice()
        self.device: InputDevice = find_input_device(settings.device)
        self.sample_rate = int(settings.sample_rate or self.device.default_rate_hz)
        self.channels = _checked_channels(settings.channels, self.device)
        self.detector = Detector(themes, self.sample_rate, mode=mode, channels=len(self.channels))
        self._check = InputCheck(self.sample_rate)
        self.recent = RecentAudio(self.sample_rate)  # what was heard, to learn a theme from
        self.events: queue.Queue[Detection] = queue.Queue()
        self.notices: queue.Queue[str] = queue.Queue()
        try:
            self._recorder = rtmixer.Recorder(
                device=self.device.index, samplerate=self.sample_rate, channels=max(self.channels),
                blocksize=settings.block_size, latency=settings.latency,
                finished_callback=self._finished)
        except (sd.PortAudioError, ValueError) as error:
            own_rate = (f"; its own rate is {self.device.default_rate_hz:g} Hz"
                        if self.sample_rate != self.device.default_rate_hz else "")
            raise AudioInputError(f"{self.device.name}: cannot open input at "
                                  f"{self.sample_rate} Hz ({error}){own_rate}") from None
        self.ring = RingBuffer(self._recorder, self.channels, int(RING_SECONDS * self.sample_rate))
        self._chunk = np.zeros((CHUNK_FRAMES, len(self.channels)), dtype=np.float32)
        self._running = threading.Event()
        self._stopping = False
        self._ended = False       # PortAudio ended the stream on its own
        self._failure = ""        # why listening ended early ('' while it has not)
        self._frames_seen = 0
        self._progress_at = 0.0
        self._worker = threading.Thread(target=self._analyse, name="theme-detector-worker",
                                        daemon=True)

    @property
    def input_latency_s(self) -> float:
        """The input latency PortAudio reports for the stream."""
        return float(self._recorder.latency)

    @property
    def active(self) -> bool:
        """True from start() until stop(), unless the input went away or analysis failed."""
        return self._running.is_set() and not self._failure

    @property
    def backlog_s(self) -> float:
        """Seconds of audio recorded and not yet analysed."""
        return (self.ring.recorded_frames - self.detector.samples_consumed) / self.sample_rate

    @property
    def stats(self) -> StreamStats:
        """The counters now (any thread may ask)."""
        ring = self.ring
        return StreamStats(
            callbacks=ring.callbacks, overflows=ring.overflows, dropped_frames=ring.dropped_frames,
            sanitised_samples=self.detector.sanitised_samples, backlog_s=self.backlog_s,
            callback_load=float(self._recorder.cpu_load), error=self._failure)

    def start(self) -> "Listener":
        """Start the stream, then the worker (so it never sees a stream that has not started)."""
        self.ring.start()
        try:
            self._recorder.start()
        except load_sounddevice().PortAudioError as error:
            raise AudioInputError(f"{self.device.name}: cannot start input ({error})") from None
        self._progress_at = time.monotonic()
        self._running.set()
        self._worker.start()
        return self

    def stop(self) -> None:
        """Stop the stream; the worker analyses what is still buffered, then ends."""
        if not self._running.is_set():
            return
        self._stopping = True
        if self._jack_server_gone():
            abandon(self._recorder)  # stopping it would hang for ten minutes
        else:
            try:
                self._recorder.stop()
                self._recorder.close()
            except load_sounddevice().PortAudioError as error:  # nothing is lost: the ring still holds it
                self._failure = self._failure or f"{self.device.name}: {error}"
        self._running.clear()
        self._worker.join()

    def _jack_server_gone(self) -> bool:
        """The JACK server stopped under the stream (PortAudio then hangs in stop and close)."""
        return self.device.on_jack and (self._ended or not self._recorder.active)

    def __enter__(self) -> "Listener":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _finished(self) -> None:
        """PortAudio's thread, when the stream ends: also when the device goes away."""
        if not self._stopping:
            self._ended = True

    def _analyse(self) -> None:
        """The worker: analyse what arrives until stopped, the input is lost, or analysis fails;
        then what is left in the ring buffer."""
        try:
            while self._running.is_set() and not self._failure:
                if not self._analyse_buffered():
                    self._watch_stream()
                    time.sleep(POLL_S)
            while self._analyse_buffered():
                pass
        except Exception as error:  # a bug must not leave a stream that silently detects nothing
            self._failure = f"analysis stopped: {type(error).__name__}: {error}"

    def _analyse_buffered(self) -> int:
        """Check and detect over up to one chunk of what the ring buffer holds; return frames."""
        n = self.ring.read_into(self._chunk)
        if n:
            block = self._chunk[:n]
            for notice in self._check.process(block, self.ring.overflows, self.ring.dropped_frames):
                self.notices.put(notice)
            for detection in self.detector.process(block):
                self.events.put(detection)
            self.recent.write(self.detector.last_mono)
        return n

    def _watch_stream(self) -> None:
        """Between blocks: has the input gone away, or stalled?"""
        if self._stopping:
            return
        if self._ended or not self._recorder.active:
            again = ("start the program again once the server is back (PortAudio reaches a "
                     "restarted JACK server only from a new process)" if self.device.on_jack
                     else "start again when it is back")
            self._failure = (f"input lost: {self.device.name} [{self.device.host_api}] stopped "
                             "delivering audio (its audio server stopped, or the device was "
                             f"unplugged); {again}")
            return
        frames, now = self.ring.recorded_frames, time.monotonic()
        if frames != self._frames_seen:
            self._frames_seen, self._progress_at = frames, now
        elif now - self._progress_at >= STALL_S:
            self.notices.put(f"no audio from {self.device.name} for {STALL_S:g} s: the device or "
                             "its audio server has stalled")
            self._progress_at = float("inf")  # once per stall: re-armed when frames arrive


def _checked_channels(channels: tuple[int, ...] | None, device: InputDevice) -> tuple[int, ...]:
    """The 1-based channels to record, all of the device's by default; AudioInputError if the
    device does not have them."""
    selected = channels or tuple(range(1, device.channels + 1))
    if min(selected) < 1 or max(selected) > device.channels:
        raise AudioInputError(f"{device.name}: has {device.channels} input channel(s); cannot "
                              f"use channel(s) {list(selected)}")
    return tuple(selected)
