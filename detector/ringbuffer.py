"""A single-producer, single-consumer ring buffer of audio frames, preallocated.

The audio callback writes, the analysis worker reads. Neither waits for the other and neither
allocates: each side only moves its own counter, and a counter is a Python int whose update
is atomic under the GIL, so no lock is needed. When the reader falls behind by a whole
buffer, the writer drops the new block and counts it (an overflow): the reader never sees a
torn block.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """capacity frames of `channels` float32 samples."""

    def __init__(self, capacity: int, channels: int) -> None:
        self._data = np.zeros((capacity, channels), dtype=np.float32)
        self.capacity = capacity
        self._written = 0  # frames ever written; only the writer changes it
        self._read = 0     # frames ever read; only the reader changes it
        self.dropped_frames = 0

    @property
    def available(self) -> int:
        """Frames written and not yet read."""
        return self._written - self._read

    def write(self, frames: np.ndarray) -> bool:
        """Copy frames (n, channels) in; False (and counted) if they do not fit.

        Real-time path: called from the audio callback. No allocation, no lock, no print.
        """
        n = frames.shape[0]
        if n > self.capacity - self.available:
            self.dropped_frames += n
            return False
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start:start + first] = frames[:first]
        self._data[:n - first] = frames[first:]
        self._written += n
        return True

    def read_into(self, out: np.ndarray) -> int:
        """Move up to len(out) frames into out (n, channels); return how many."""
        n = min(out.shape[0], self.available)
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start:start + first]
        out[first:n] = self._data[:n - first]
        self._read += n
        return n
