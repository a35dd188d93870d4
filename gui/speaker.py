"""Playing audio aloud while it is analysed, without Python in the audio thread.

The player queues blocks in a ring buffer that rtmixer's C callback drains on the sound card's
clock (the output twin of the live input path). PortAudio's blocking writes are not an option:
on JACK they corrupt the heap. About QUEUE_S of audio is kept queued, so the display runs that
far ahead of the sound; if the queue ever runs dry (the machine stalled), playback resumes as
soon as it has refilled.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from detector.audio import load_rtmixer, load_sounddevice
from detector.errors import AudioInputError

#: Seconds of audio queued ahead of the sound card.
QUEUE_S = 0.1
#: How long to wait (s) between looks at the queue when it is full.
POLL_S = 0.002
_FLOAT32_BYTES = 4


class Speaker:
    """The default output device, fed block by block. AudioInputError if it cannot open."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        rtmixer, sd = load_rtmixer(), load_sounddevice()
        try:
            self._mixer = rtmixer.Mixer(samplerate=sample_rate, channels=channels)
            self._mixer.start()
        except (sd.PortAudioError, ValueError) as error:
            raise AudioInputError(f"cannot open the audio output ({str(error).splitlines()[0]})") from None
        self._queued = int(QUEUE_S * sample_rate)
        capacity = 1 << int(np.ceil(np.log2(4 * self._queued)))  # PortAudio rings: a power of two
        self._ring = rtmixer.RingBuffer(channels * _FLOAT32_BYTES, capacity)
        self._action = None

    def play(self, block: np.ndarray, keep_going: Callable[[], bool]) -> None:
        """Queue a float32 block (n, channels); wait while QUEUE_S is already queued, or until
        keep_going() turns False. Blocks longer than the ring are not supported (n <= QUEUE_S)."""
        self._ring.write(np.ascontiguousarray(block, dtype=np.float32))
        if not self._playing() and self._ring.read_available >= self._queued:
            self._action = self._mixer.play_ringbuffer(self._ring)
        while self._playing() and self._ring.read_available > self._queued and keep_going():
            time.sleep(POLL_S)

    def close(self, keep_going: Callable[[], bool]) -> None:
        """Play what is still queued (while keep_going()), then close the output."""
        if not self._playing() and self._ring.read_available:
            self._action = self._mixer.play_ringbuffer(self._ring)
        while self._playing() and keep_going():
            time.sleep(POLL_S)
        self._mixer.stop()
        self._mixer.close()

    def _playing(self) -> bool:
        """The callback is draining the ring (it drops the action when the ring runs dry)."""
        return self._action is not None and self._action in self._mixer.actions
