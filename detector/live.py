"""The live path: PortAudio input -> ring buffer -> analysis worker -> detection queue.

Three threads, each owning its work:
- PortAudio's callback copies each block into a preallocated RingBuffer and counts overflows;
- the analysis worker drains the ring buffer and runs the Detector;
- whoever consumes events (the command line, the GUI) reads `Listener.events`, a queue, and
  `Listener.detector.display`, and never calls into the worker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector.audio import InputDevice, _sounddevice, find_input_device
from detector.engine import Detector
from detector.errors import AudioInputError
from detector.events import Detection
from detector.ringbuffer import RingBuffer
from detector.themes import Theme

#: Seconds of audio the ring buffer holds: how far the worker may fall behind before dropping.
RING_SECONDS = 2.0
#: How long the worker sleeps when the ring buffer is empty.
POLL_S = 0.002


@dataclass(frozen=True)
class InputSettings:
    """What to open. channels: 1-based input channels to mix to mono (None: all of them)."""

    device: str | int | None = None
    sample_rate: int | None = None
    block_size: int = 0          # 0 lets PortAudio choose
    latency: str | float = "low"
    channels: tuple[int, ...] | None = None


@dataclass
class StreamStats:
    """Counters a status bar shows. Written by the callback and the worker, read by anyone."""

    callbacks: int = 0
    overflows: int = 0           # PortAudio reported input overflow
    device_stopped: bool = False
    error: str = ""


class Listener:
    """Listens on an input device and detects themes until stopped.

    Use as a context manager, or call start() and stop(). Detections arrive in `events`
    (a queue.Queue of Detection); `stats`, `detector.display` and the ring buffer's
    `dropped_frames` describe the stream.
    """

    def __init__(self, themes: Sequence[Theme], settings: InputSettings = InputSettings()) -> None:
        sd = _sounddevice()
        self.device: InputDevice = find_input_device(settings.device)
        self.sample_rate = int(settings.sample_rate or self.device.default_rate_hz)
        selected = settings.channels or tuple(range(1, self.device.channels + 1))
        if max(selected) > self.device.channels or min(selected) < 1:
            raise AudioInputError(f"{self.device.name}: has {self.device.channels} input "
                                  f"channel(s); cannot use channel(s) {list(selected)}")
        self._selected = np.array([c - 1 for c in selected], dtype=np.intp)
        n_open = max(selected)
        # Compile every kernel before the stream exists: the first block costs what all do.
        self.detector = Detector(themes, self.sample_rate)
        self.events: queue.Queue[Detection] = queue.Queue()
        self.stats = StreamStats()
        self.ring = RingBuffer(int(RING_SECONDS * self.sample_rate), n_open)
        self._chunk = np.zeros((max(1024, settings.block_size or 0), n_open), dtype=np.float32)
        self._picked = np.zeros((self._chunk.shape[0], len(selected)), dtype=np.float32)
        self._running = threading.Event()
        self._worker = threading.Thread(target=self._analyse, name="theme-detector-worker",
                                        daemon=True)
        try:
            self._stream = sd.InputStream(
                device=self.device.index, samplerate=self.sample_rate, channels=n_open,
                dtype="float32", blocksize=settings.block_size, latency=settings.latency,
                callback=self._callback, finished_callback=self._finished,
            )
        except (sd.PortAudioError, ValueError) as error:
            raise AudioInputError(f"{self.device.name}: cannot open input at "
                                  f"{self.sample_rate} Hz ({error})") from None

    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        """PortAudio's real-time thread: copy and count. No allocation, lock, analysis or print."""
        self.stats.callbacks += 1
        if status.input_overflow:
            self.stats.overflows += 1
        self.ring.write(indata)

    def _finished(self) -> None:
        """PortAudio calls this when the stream ends, also when the device goes away."""
        if self._running.is_set():
            self.stats.device_stopped = True
            self.stats.error = f"{self.device.name}: the input stream stopped (device gone?)"

    def _analyse(self) -> None:
        """The worker: drain the ring buffer as it fills and run the detector."""
        while self._running.is_set():
            if self._analyse_buffered() == 0:
                if self.stats.device_stopped:
                    break
                time.sleep(POLL_S)

    def _analyse_buffered(self) -> int:
        """Run the detector over what the ring buffer holds (up to one chunk); return frames."""
        n = self.ring.read_into(self._chunk)
        if n:
            picked = self._picked[:n]
            np.take(self._chunk[:n], self._selected, axis=1, out=picked)
            for detection in self.detector.process(picked):
                self.events.put(detection)
        return n

    @property
    def active(self) -> bool:
        """True while the stream runs and the worker keeps up."""
        return self._running.is_set() and not self.stats.device_stopped

    def start(self) -> "Listener":
        self._running.set()
        self._worker.start()
        self._stream.start()
        return self

    def stop(self) -> None:
        """Stop the stream, then let the worker finish what is buffered."""
        if not self._running.is_set():
            return
        try:
            self._stream.stop()
            self._stream.close()
        except Exception as error:  # a vanished device can fail to stop; nothing is lost
            self.stats.error = self.stats.error or f"{self.device.name}: {error}"
        self._running.clear()
        self._worker.join(timeout=5.0)
        while self._analyse_buffered():
            pass

    def __enter__(self) -> "Listener":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
