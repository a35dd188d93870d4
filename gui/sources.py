"""What the window listens to: a live input or a file player, behind one small interface.

The window only ever touches a source through `Source`: it starts and stops it, pulls the
detections from `events` and the notices about the input from `notices` (queues the worker
fills), reads `detector.display` (the latest pitch and theme scores, written by the worker),
copies the last seconds played from `recent` (to learn a theme from) and asks for `status()`
a few times a second. None of these waits for the worker.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from detector.engine import Detector
from detector.events import Detection
from detector.live import InputSettings, Listener
from detector.recent import RecentAudio
from detector.themes import Theme


@dataclass(frozen=True)
class SourceStatus:
    """What the status bar shows about a running source.

    latency_s: from a sound reaching the input to its analysis: the input latency plus how far
        the worker trails the audio that has arrived.
    overflows: input overflows PortAudio reported (audio lost before it reached us).
    dropped_frames: frames lost because the worker fell a whole ring buffer behind.
    sanitised_samples: NaN, Inf or absurd samples replaced by silence.
    error: why the source stopped early ('' when it did not).
    finished: the source has nothing more to give (the file ended, the device went away).
    """

    latency_s: float = 0.0
    overflows: int = 0
    dropped_frames: int = 0
    sanitised_samples: int = 0
    error: str = ""
    finished: bool = False


class Source(Protocol):
    """A stream of audio analysed on a worker thread: the live input or a file player."""

    name: str                 # what the window calls it: a file name, or a device and its rate
    file: str | None          # the audio file being played; None for live input
    detector: Detector
    events: queue.Queue[Detection]
    notices: queue.Queue[str]  # one line each: what the user should know about the input
    recent: RecentAudio        # the last seconds analysed, written by the worker

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> SourceStatus: ...


#: How the window makes (and, when the themes change, remakes) a source.
SourceFactory = Callable[[Sequence[Theme]], Source]


class LiveSource:
    """The live input: detector.live.Listener (the audio callback records into a ring buffer,
    a worker analyses it).

    Making or starting it raises AudioInputError, naming the device, when the device cannot
    open.
    """

    def __init__(self, themes: Sequence[Theme], settings: InputSettings, mode: str = "auto") -> None:
        self._listener = Listener(themes, settings, mode)
        self.name = f"{self._listener.device.name} ({self._listener.sample_rate} Hz)"
        self.file = None
        self.detector = self._listener.detector
        self.events = self._listener.events
        self.notices = self._listener.notices
        self.recent = self._listener.recent

    def start(self) -> None:
        self._listener.start()

    def stop(self) -> None:
        self._listener.stop()

    def status(self) -> SourceStatus:
        stats = self._listener.stats
        return SourceStatus(
            latency_s=self._listener.input_latency_s + stats.backlog_s,
            overflows=stats.overflows,
            dropped_frames=stats.dropped_frames,
            sanitised_samples=stats.sanitised_samples,
            error=stats.error,
            finished=stats.device_stopped,
        )
