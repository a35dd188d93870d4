"""The front end every tracker shares: DC blocker, decimation, hop framing.

Input at any rate from 8 to 192 kHz is high-passed (a one-pole DC blocker near 10 Hz, so
offsets and rumble do not bias the analysis), low-passed by a windowed-sinc FIR and decimated
by an integer factor to an internal rate of 8-16 kHz, which holds every f0 up to 1760 Hz with
room for harmonics. The decimated signal is kept in a linear buffer; every hop (10 ms for the
pitch trackers, 0.1 s for chroma) a frame of `frame_len` samples ending at that hop is handed to
the tracker's analysis kernel.

A frame is timestamped at the centre of what its analysis reads (its window's centre; YIN's,
see PitchTracker.frame_delay_s); `end_sample` is the count of input samples consumed when it
was complete: the detector's clock for everything that frame causes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

HOP_S = 0.01
FMIN_HZ = 55.0
FMAX_HZ = 1760.0
MAX_INTERNAL_RATE_HZ = 16000.0
DC_POLE = 0.9985

# Integer state of the decimator.
_HIST_POS, _PHASE = range(2)
# Float state of the DC blocker.
_DC_X, _DC_Y = range(2)


@dataclass(frozen=True)
class FrameSettings:
    """Rates and sizes; lengths in internal samples unless named _s."""

    input_rate_hz: int
    decimation: int
    internal_rate_hz: float
    hop: int
    frame_len: int

    @classmethod
    def for_rate(cls, sample_rate: int, frame_s: float, hop_s: float = HOP_S) -> "FrameSettings":
        """Settings for input at sample_rate, frames of about frame_s seconds."""
        if not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample rate {sample_rate} Hz is outside 8000-192000 Hz")
        decimation = max(1, math.ceil(sample_rate / MAX_INTERNAL_RATE_HZ))
        internal = sample_rate / decimation
        return cls(sample_rate, decimation, internal, max(1, round(hop_s * internal)),
                   round(frame_s * internal))

    @property
    def hop_s(self) -> float:
        return self.hop / self.internal_rate_hz

    @property
    def hop_samples(self) -> int:
        """The hop in input samples."""
        return self.hop * self.decimation

    @property
    def frame_delay_s(self) -> float:
        """From a frame's centre (its timestamp, for a windowed analysis) to the sample that
        completes it."""
        return 0.5 * self.frame_len / self.internal_rate_hz


def lowpass_taps(decimation: int, taps_per_phase: int = 16) -> np.ndarray:
    """Windowed-sinc anti-alias filter for decimating by `decimation` (unity DC gain)."""
    if decimation == 1:
        return np.ones(1, dtype=np.float32)
    n = taps_per_phase * decimation + 1
    cutoff = 0.45 / decimation  # in cycles per input sample; leaves a guard band under Nyquist
    k = np.arange(n) - (n - 1) / 2
    taps = 2 * cutoff * np.sinc(2 * cutoff * k) * np.kaiser(n, 8.0)
    return (taps / taps.sum()).astype(np.float32)


@numba.njit(cache=True, nogil=True, fastmath=True)
def decimate_kernel(x, taps, decimation, istate, fstate, history, out):
    """DC-block, low-pass and decimate block x into out; return the samples written.

    history (2 * len(taps)) is a circular buffer written twice, so the latest len(taps)
    samples are always contiguous (and the dot product vectorises).
    """
    n_taps = taps.shape[0]
    n_out = 0
    for i in range(x.shape[0]):
        v = x[i]
        y = v - fstate[_DC_X] + DC_POLE * fstate[_DC_Y]
        fstate[_DC_X] = v
        fstate[_DC_Y] = y
        pos = istate[_HIST_POS]
        history[pos] = y
        history[pos + n_taps] = y
        pos += 1
        if pos == n_taps:
            pos = 0
        istate[_HIST_POS] = pos
        istate[_PHASE] += 1
        if istate[_PHASE] < decimation:
            continue
        istate[_PHASE] = 0
        latest = history[pos:pos + n_taps]
        acc = np.float32(0.0)
        for k in range(n_taps):
            acc += taps[k] * latest[k]
        out[n_out] = acc
        n_out += 1
    return n_out


@numba.njit(cache=True, nogil=True)
def _fill_clock(out, n, first, step):
    for k in range(n):
        out[k] = first + k * step


class FramedTracker:
    """Base of the trackers (pitch, salience, chroma): feeds `_analyse` one frame per hop, from
    blocks of any size.

    After `process(block)` returns n, the first n rows of `f0_hz`, `periodicity` (0-1, the
    voicing confidence), `level_db` (power of the frame's latest hop, dBFS), `voiced`,
    `ensemble` (read as a melody inside an ensemble) and `end_sample` hold the frames finished
    during that block, row i of `line_f0_hz` / `line_voiced` / `line_level_db` (the line's own
    power, dBFS) those of the i-th further line the tracker reads (`line_names`), and column k
    of `chord_f0_hz` the f0s of the notes it heard in frame k (0 after the last; no rows for a
    tracker of one line). Subclasses set the frame length and implement `_analyse`. No
    allocation per block once the outputs fit the largest block.
    """

    #: The lines read beside the main one (an ensemble's top line, its bass line).
    line_names: tuple[str, ...] = ()
    #: Rows of `chord_f0_hz`: the most notes a tracker hears in one frame.
    max_chord_notes = 0

    def __init__(self, sample_rate: int, frame_s: float, hop_s: float = HOP_S) -> None:
        self.settings = FrameSettings.for_rate(sample_rate, frame_s, hop_s)
        self.sample_rate = sample_rate
        self._taps = lowpass_taps(self.settings.decimation)
        self._istate = np.zeros(2, dtype=np.int64)
        self._fstate = np.zeros(2, dtype=np.float64)
        self._history = np.zeros(2 * len(self._taps), dtype=np.float32)
        self._signal = np.zeros(self.settings.frame_len, dtype=np.float32)
        self._n_signal = 0        # valid samples at the start of _signal
        self._next_end = self.settings.frame_len   # where the next frame ends, in _signal
        self._origin = 0          # count of internal samples before _signal[0]
        self._grow(64)

    def _share_grid(self, frame_len: int) -> None:
        """End frames where a tracker whose frames are frame_len samples (no longer than these)
        ends its own: the first once frame_len samples are in, then every hop. The stream is
        taken to begin with silence (the zeros `_signal` starts with), which fills this
        tracker's first, longer frames. For a subclass's __init__, before any block."""
        pad = self.settings.frame_len - frame_len
        self._n_signal = pad
        self._origin = -pad

    @property
    def hop_s(self) -> float:
        return self.settings.hop_s

    @property
    def frame_delay_s(self) -> float:
        return self.settings.frame_delay_s

    @property
    def line_level_hops(self) -> int:
        """How many hops a further line's level (`line_level_db`) goes on rising after a note's
        onset: it is read from a whole frame, which spans this many hops, rounded up."""
        return math.ceil(self.settings.frame_len / self.settings.hop)

    def _grow(self, n_frames: int) -> None:
        self.f0_hz = np.zeros(n_frames, dtype=np.float64)
        self.periodicity = np.zeros(n_frames, dtype=np.float64)
        self.level_db = np.zeros(n_frames, dtype=np.float64)
        self.voiced = np.zeros(n_frames, dtype=np.bool_)
        self.end_sample = np.zeros(n_frames, dtype=np.int64)
        self.ensemble = np.zeros(n_frames, dtype=np.bool_)
        self.line_f0_hz = np.zeros((len(self.line_names), n_frames), dtype=np.float64)
        self.line_voiced = np.zeros((len(self.line_names), n_frames), dtype=np.bool_)
        self.line_level_db = np.zeros((len(self.line_names), n_frames), dtype=np.float64)
        self.chord_f0_hz = np.zeros((self.max_chord_notes, n_frames), dtype=np.float64)

    def process(self, block: np.ndarray) -> int:
        """Consume a mono float32 block; return the number of frames finished."""
        # Real-time path: allocation only when a block larger than any before arrives.
        s = self.settings
        room = self._n_signal + block.shape[0] // s.decimation + 1
        if room > self._signal.shape[0]:
            grown = np.zeros(room, dtype=np.float32)
            grown[:self._n_signal] = self._signal[:self._n_signal]
            self._signal = grown
        added = decimate_kernel(block, self._taps, s.decimation, self._istate, self._fstate,
                                self._history, self._signal[self._n_signal:])
        self._n_signal += added
        n_frames = max(0, (self._n_signal - self._next_end) // s.hop + 1)
        if n_frames > self.f0_hz.shape[0]:
            self._grow(n_frames)
        if n_frames:
            self._analyse(self._signal, self._next_end, n_frames)
            # Internal sample g was made when input sample (g + 1) * decimation arrived.
            first_clock = (self._origin + self._next_end) * s.decimation
            _fill_clock(self.end_sample, n_frames, first_clock, s.hop_samples)
            self._next_end += n_frames * s.hop
        # Keep only what the next frame needs.
        keep_from = self._next_end - s.frame_len
        if keep_from > 0:
            kept = self._n_signal - keep_from
            self._signal[:kept] = self._signal[keep_from:self._n_signal]
            self._n_signal = kept
            self._next_end -= keep_from
            self._origin += keep_from
        return n_frames

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        """Write rows 0..n_frames-1: frame k is signal[first_end + k*hop - frame_len : ...+hop)."""
        raise NotImplementedError

    def frame_times_s(self, n_frames: int) -> np.ndarray:
        """Timestamps (window centres, seconds) of the first n_frames rows."""
        return self.end_sample[:n_frames] / self.sample_rate - self.frame_delay_s
