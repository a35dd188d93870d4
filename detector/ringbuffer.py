"""The ring buffer between the audio callback and the analysis worker: lock-free, filled in C.

The writer is rtmixer's audio callback: C code that PortAudio's real-time thread runs without
entering Python, so it never waits for the GIL, whatever the other threads (a GUI, the worker)
are doing. It copies each input block, channels already picked, into PortAudio's single-writer,
single-reader lock-free ring buffer (pa_ringbuffer). Nothing on that side allocates, locks,
analyses or prints. The analysis worker is the one reader, here.

benchmarks/live.py measures this against a minimal Python callback: under GIL pressure from a
busy Python thread, the Python callback waited milliseconds for the GIL and lost audio; the C
callback did not (figures in the README).

When the worker falls a whole buffer behind, the callback fills the buffer to the brim and
stops recording rather than overwrite what was not read: the worker never sees a torn block.
The reader notices, starts a new recording as soon as there is room, and counts the frames that
arrived in between as dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class RingBuffer:
    """Input frames of the selected channels, recorded by an rtmixer.Recorder, read by one worker.

    Parameters
    ----------
    recorder : the open (not necessarily started) rtmixer.Recorder that writes.
    channels : 1-based input channels to record, in order (the frames read have one column each).
    min_frames : capacity wanted; rounded up to a power of two, as pa_ringbuffer requires.
    """

    def __init__(self, recorder, channels: Sequence[int], min_frames: int) -> None:
        import rtmixer

        self.capacity = 1 << max(0, int(min_frames) - 1).bit_length()
        self.channels = tuple(channels)
        self.sample_rate = float(recorder.samplerate)
        self.dropped_frames = 0
        self._recorder = recorder
        self._ring = rtmixer.RingBuffer(4 * len(self.channels), self.capacity)
        self._action = None           # the rtmixer action recording now
        self._ended_frames = 0        # frames, overflows and callbacks of recordings that ended
        self._ended_overflows = 0
        self._ended_callbacks = 0
        self._gap_from_s: float | None = None  # stream time the last overrun began, until counted

    def start(self) -> None:
        """Ask the callback to record from its next block on (the stream may already run)."""
        self._action = self._recorder.record_ringbuffer(self._ring, channels=list(self.channels))

    @property
    def recorded_frames(self) -> int:
        """Frames the callback has written since start() (dropped ones not included)."""
        return self._ended_frames + (self._action.done_frames if self._action else 0)

    @property
    def overflows(self) -> int:
        """Callbacks that PortAudio flagged as input overflow: audio lost before it reached us."""
        return self._ended_overflows + (self._action.stats.input_overflows if self._action else 0)

    @property
    def callbacks(self) -> int:
        """Callbacks that recorded a block."""
        return self._ended_callbacks + (self._action.stats.blocks if self._action else 0)

    def read_into(self, out: np.ndarray) -> int:
        """Move up to len(out) frames into out, shape (n, channels) float32; return how many.

        Also restarts the recording after an overrun and counts what it dropped.
        """
        n = self._ring.readinto(out)
        if self._gap_from_s is not None and self._action.done_frames:
            self.dropped_frames += round((self._action.actual_time - self._gap_from_s) * self.sample_rate)
            self._gap_from_s = None
        if n and self._action is not None and self._action not in self._recorder.actions:
            self._restart()
        return n

    def _restart(self) -> None:
        """The callback stopped at a full buffer: count what it recorded and record again."""
        ended = self._action
        self._ended_frames += ended.done_frames
        self._ended_overflows += ended.stats.input_overflows
        self._ended_callbacks += ended.stats.blocks
        self._gap_from_s = ended.actual_time + ended.done_frames / self.sample_rate
        self._action = self._recorder.record_ringbuffer(self._ring, channels=list(self.channels))
