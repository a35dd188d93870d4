"""The last few seconds a source has played, kept so a theme can be learned from them.

The analysis worker writes each block it analyses (mixed to mono) into a preallocated ring;
nothing is allocated there and nothing waits. Another thread (the display) copies out the last
N seconds when the user asks to learn what was just played.
"""

from __future__ import annotations

import numpy as np

from detector.sanitize import mix_to_mono

#: Seconds of audio kept.
RECENT_S = 20.0


class RecentAudio:
    """A mono ring of the last `seconds` of audio at `sample_rate`, one writer, any reader.

    A reader racing the writer may see the oldest samples of a full-length copy already
    replaced by the newest: harmless for learning, where the theme is at the end.
    """

    def __init__(self, sample_rate: int, seconds: float = RECENT_S, max_block: int = 1 << 16) -> None:
        self.sample_rate = int(sample_rate)
        self._ring = np.zeros(int(seconds * self.sample_rate), dtype=np.float32)
        self._mono = np.zeros(max_block, dtype=np.float32)
        self.written = 0  # frames written since the start

    @property
    def capacity_s(self) -> float:
        return self._ring.shape[0] / self.sample_rate

    def write(self, block: np.ndarray) -> None:
        """Keep a block of shape (n, channels), float32 (the worker's side: no allocation)."""
        for start in range(0, block.shape[0], self._mono.shape[0]):
            part = block[start:start + self._mono.shape[0]]
            n = part.shape[0]
            mix_to_mono(part, self._mono)
            at = self.written % self._ring.shape[0]
            first = min(n, self._ring.shape[0] - at)
            self._ring[at:at + first] = self._mono[:first]
            self._ring[:n - first] = self._mono[first:n]
            self.written += n

    def last(self, seconds: float) -> np.ndarray:
        """A copy of the last `seconds` (fewer if less has been played), oldest first."""
        written = self.written
        n = min(int(seconds * self.sample_rate), written, self._ring.shape[0])
        end = written % self._ring.shape[0]
        return np.roll(self._ring, -end)[self._ring.shape[0] - n:]
