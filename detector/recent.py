"""The last few seconds a source has played, kept so a theme can be learned from them.

The analysis worker writes each block it analyses (as the detector mixed it to mono) into a
preallocated ring; nothing is allocated there and nothing waits. Another thread (the display)
copies out the last N seconds when the user asks to learn what was just played.
"""

from __future__ import annotations

import numpy as np

#: Seconds of audio kept.
RECENT_S = 20.0


class RecentAudio:
    """A mono ring of the last `seconds` of audio at `sample_rate`, one writer, any reader.

    A reader racing the writer may see the oldest samples of a full-length copy already
    replaced by the newest: harmless for learning, where the theme is at the end.
    """

    def __init__(self, sample_rate: int, seconds: float = RECENT_S) -> None:
        self.sample_rate = int(sample_rate)
        self._ring = np.zeros(int(seconds * self.sample_rate), dtype=np.float32)
        self.written = 0  # frames written since the start

    def write(self, mono: np.ndarray) -> None:
        """Keep a mono block (the detector's `last_mono`): the worker's side, no allocation."""
        capacity = self._ring.shape[0]
        mono = mono[-capacity:]
        n = mono.shape[0]
        at = self.written % capacity
        first = min(n, capacity - at)
        self._ring[at:at + first] = mono[:first]
        self._ring[:n - first] = mono[first:]
        self.written += n

    def last(self, seconds: float) -> np.ndarray:
        """A copy of the last `seconds` (fewer if less has been played), oldest first."""
        written = self.written
        n = min(int(seconds * self.sample_rate), written, self._ring.shape[0])
        return self._ring[np.arange(written - n, written) % self._ring.shape[0]]
