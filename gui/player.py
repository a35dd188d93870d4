"""A file, or any audio array, played through the same path as the live input.

A worker thread hands the audio to a Detector block by block, paced in real time as if it
arrived from a sound card (a block is analysed once its last sample would have arrived), and
optionally plays it aloud. The window cannot tell it from the live input: same `Source`
interface, same detector, same events queue. Paced playback is also how the benchmark
measures the worker's lag: how long after a block "arrived" its analysis was done.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from detector.audio import audio_file_info, read_blocks
from detector.engine import Detector
from detector.errors import ThemeDetectorError
from detector.events import Detection
from detector.recent import RecentAudio
from detector.sanitize import as_float_frames
from detector.themes import Theme
from gui.sources import SourceStatus
from gui.speaker import Speaker

#: Frames per block when the user leaves the block size to the machine.
DEFAULT_BLOCK_SIZE = 512
#: How many per-block lags are kept (about 6 minutes of 512-frame blocks at 48 kHz).
LAG_CAPACITY = 1 << 15


class FilePlayer:
    """Feeds audio blocks to a Detector on a worker thread, paced like a live input.

    Parameters
    ----------
    themes : the themes to detect.
    blocks : the audio, as float32 blocks of shape (n, channels).
    sample_rate, channels : of the blocks.
    name : what the window calls the source (the file name).
    file : the file played, for the cue sheet (None for audio made in memory).
    speed : 1.0 plays in real time, 4.0 four times faster; math.inf analyses as fast as the
        machine allows (no pacing, no lag measured). Ignored (1.0) when audible.
    audible : also play the audio on the default output device; when there is none, the
        player plays silently and says so in `notices`.
    mode : the Detector's melody front end (auto, melody or ensemble).
    """

    def __init__(self, themes: Sequence[Theme], blocks: Iterator[np.ndarray], sample_rate: int,
                 channels: int, name: str, *, file: str | None = None, speed: float = 1.0,
                 audible: bool = False, mode: str = "auto") -> None:
        self.name = name
        self.file = file
        self.sample_rate = int(sample_rate)
        self.speed = 1.0 if audible else float(speed)
        # Compile every kernel before the worker starts: the first block costs what all do.
        self.detector = Detector(themes, self.sample_rate, mode=mode, channels=channels)
        self.recent = RecentAudio(self.sample_rate)  # what was played, to learn a theme from
        self.events: queue.Queue[Detection] = queue.Queue()
        self.notices: queue.Queue[str] = queue.Queue()
        self._blocks = blocks
        self._lags_s = np.zeros(LAG_CAPACITY)
        self._lag_count = 0
        self._error = ""
        self._finished = False
        self._running = threading.Event()
        self._speaker = self._open_speaker(channels) if audible else None
        self._worker = threading.Thread(target=self._play, name="theme-detector-player", daemon=True)

    @classmethod
    def open(cls, path: str | Path, themes: Sequence[Theme], *,
             block_size: int = DEFAULT_BLOCK_SIZE, **options) -> "FilePlayer":
        """A player for an audio file, read in blocks of block_size frames; AudioInputError,
        naming the file, if it cannot be read."""
        info = audio_file_info(path)
        return cls(themes, read_blocks(path, block_size), info.sample_rate, info.channels,
                   Path(path).name, file=str(path), **options)

    @classmethod
    def from_array(cls, audio: np.ndarray, sample_rate: int, themes: Sequence[Theme], name: str, *,
                   block_size: int = DEFAULT_BLOCK_SIZE, **options) -> "FilePlayer":
        """A player for audio already in memory: shape (n,) mono or (n, channels), float or
        integer samples (`sanitize.as_float_frames`)."""
        frames = as_float_frames(audio)
        blocks = (frames[start:start + block_size] for start in range(0, frames.shape[0], block_size))
        return cls(themes, blocks, sample_rate, frames.shape[1], name, **options)

    def start(self) -> None:
        self._running.set()
        self._worker.start()

    def stop(self) -> None:
        """Stop after the block being analysed; safe to call more than once."""
        self._running.clear()
        if self._worker.is_alive():
            self._worker.join(timeout=5.0)

    def status(self) -> SourceStatus:
        latency_s = self._lags_s[(self._lag_count - 1) % LAG_CAPACITY] if self._lag_count else 0.0
        return SourceStatus(latency_s=max(0.0, latency_s),
                            sanitised_samples=self.detector.sanitised_samples,
                            error=self._error, finished=self._finished)

    def lags_s(self) -> np.ndarray:
        """The recorded per-block lags in seconds (the newest LAG_CAPACITY), oldest first."""
        n = min(self._lag_count, LAG_CAPACITY)
        return np.roll(self._lags_s, -self._lag_count % LAG_CAPACITY)[LAG_CAPACITY - n:]

    def _open_speaker(self, channels: int) -> Speaker | None:
        """The default output, or None (and a notice saying why) when it cannot play."""
        try:
            return Speaker(self.sample_rate, channels)
        except ThemeDetectorError as error:
            self.notices.put(f"cannot play aloud: {error}; playing silently")
            return None

    def _play(self) -> None:
        """The worker, per block: queue it for the speaker (if audible), wait for the time it
        would have arrived, keep it in `recent`, analyse it, record how late the analysis
        finished."""
        paced = math.isfinite(self.speed)
        started = time.monotonic()
        frames = 0
        try:
            for block in self._blocks:
                if not self._running.is_set():
                    break
                if self._speaker is not None:
                    self._speaker.play(block, self._running.is_set)  # waits while enough is queued
                frames += block.shape[0]
                due = started + frames / self.sample_rate / self.speed
                if paced and (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                for detection in self.detector.process(block):
                    self.events.put(detection)
                self.recent.write(self.detector.last_mono)
                if paced:
                    self._lags_s[self._lag_count % LAG_CAPACITY] = time.monotonic() - due
                    self._lag_count += 1
        except ThemeDetectorError as error:  # the file broke off while being read
            self._error = str(error)
        finally:
            if self._speaker is not None:
                self._speaker.close(self._running.is_set)
            self._finished = True
