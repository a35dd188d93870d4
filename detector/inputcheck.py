"""What is wrong with a live input, in words a user can act on.

Live input misbehaves in a few recurring ways: nothing arrives (wrong device or channel, a muted
interface), the level sits off zero (a DC offset from a faulty preamp), peaks are cut flat at
full scale (clipping: the gain is too high), samples are garbage (NaN, Inf, 3e38: a glitching
driver; JACK's dummy backend does it on purpose), or blocks are lost (overflow: the system is
too busy). The detector survives all of these; this check tells the user, once per episode.

It runs on the analysis worker, over the same blocks the detector sees, and allocates nothing
per block: a numba kernel adds each block into a few running totals, judged once a second.
"""

from __future__ import annotations

import numba
import numpy as np

from detector.sanitize import ABSURD_LEVEL

#: A sample at or beyond this magnitude sits at full scale: the converter clipped.
CLIP_LEVEL = 0.999
#: Clipped samples in one window that make it "clipping" (one stray peak is not).
CLIPPED_MIN = 4
#: Below this peak magnitude (-80 dBFS) the input counts as silent.
SILENCE_LEVEL = 1e-4
#: Silence this long earns a notice.
SILENT_NOTICE_S = 5.0
#: A window mean beyond this magnitude (full scale is 1.0) is a DC offset.
DC_LEVEL = 0.05
#: Seconds of input judged together.
WINDOW_S = 1.0
#: The same kind of notice at most this often (seconds of input), however often it recurs.
REPEAT_S = 60.0

#: Indices into the running totals.
_PEAK, _SUM, _VALID, _CLIPPED, _INVALID = range(5)


@numba.njit(cache=True, nogil=True)
def accumulate_levels(block, totals):
    """Add block (n, channels) into totals: peak magnitude, sum, valid, clipped, invalid counts.

    A sample that is not finite or beyond ABSURD_LEVEL is invalid and counted only as such.
    Real-time path: no allocation.
    """
    n_frames, n_channels = block.shape
    for i in range(n_frames):
        for c in range(n_channels):
            v = block[i, c]
            magnitude = abs(v)
            if not (magnitude <= ABSURD_LEVEL):  # also true for NaN
                totals[_INVALID] += 1.0
                continue
            totals[_SUM] += v
            totals[_VALID] += 1.0
            if magnitude > totals[_PEAK]:
                totals[_PEAK] = magnitude
            if magnitude >= CLIP_LEVEL:
                totals[_CLIPPED] += 1.0


class InputCheck:
    """Watches the input blocks and the stream's loss counters; returns notices as they arise.

    Each kind of problem (silent, dc, clipping, invalid, overflow, dropped) gets one notice when
    it starts and none while it lasts; when it clears and comes back, it gets a new one, but at
    most one per REPEAT_S of input.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self._window_frames = int(WINDOW_S * self.sample_rate)
        self._totals = np.zeros(5)
        self._frames = 0            # frames in the current window
        self._frames_total = 0      # frames ever checked: the check's clock
        self._silent_frames = 0
        self._losses = (0, 0)       # overflows and dropped frames at the last window's end
        self._last_notice: dict[str, int] = {}  # kind -> frame of its last notice
        self._active: set[str] = set()
        # Compile (or load) the kernel now, not on the first live block.
        accumulate_levels(np.zeros((1, 1), dtype=np.float32), self._totals)
        self._totals[:] = 0.0

    def process(self, block: np.ndarray, overflows: int = 0, dropped_frames: int = 0) -> list[str]:
        """Check one block (n, channels) float32; overflows and dropped_frames are the stream's
        running totals. Returns the notices due now (usually none)."""
        accumulate_levels(block, self._totals)
        self._frames += block.shape[0]
        if self._frames < self._window_frames:
            return []
        found = self._judge_window(overflows, dropped_frames)
        self._frames_total += self._frames
        self._frames = 0
        self._totals[:] = 0.0
        return [self._notice(kind, text) for kind, text in found.items() if self._is_due(kind)]

    def _judge_window(self, overflows: int, dropped_frames: int) -> dict[str, str]:
        """The problems present in the window just ended, each with its message."""
        peak, total, valid, clipped, invalid = self._totals
        found = {}
        self._silent_frames = self._silent_frames + self._frames if peak < SILENCE_LEVEL else 0
        if self._silent_frames >= SILENT_NOTICE_S * self.sample_rate:
            found["silent"] = (f"the input has been silent for {SILENT_NOTICE_S:g} s: is the right "
                               "device and channel selected, and the input unmuted?")
        mean = total / valid if valid else 0.0
        if abs(mean) > DC_LEVEL:
            found["dc"] = (f"the input has a DC offset of {mean:+.2f} full scale (a faulty interface "
                           "or preamp); detection copes, but check the hardware")
        if clipped >= CLIPPED_MIN:
            found["clipping"] = (f"the input is clipping ({int(clipped)} samples at full scale in "
                                 f"{WINDOW_S:g} s): lower the input gain")
        if invalid:
            found["invalid"] = (f"the input delivered {int(invalid)} invalid samples (NaN, Inf or "
                                f"beyond ±{ABSURD_LEVEL:g} full scale) in {WINDOW_S:g} s: they are "
                                "replaced by silence and counted")
        old_overflows, old_dropped = self._losses
        self._losses = (overflows, dropped_frames)
        if overflows > old_overflows:
            found["overflow"] = (f"input overflow: the audio system lost input ({overflows} "
                                 "block(s) so far); it is overloaded, or the block size is too small")
        if dropped_frames > old_dropped:
            found["dropped"] = (f"the analysis fell behind and skipped "
                                f"{dropped_frames / self.sample_rate:.2f} s of input so far")
        self._active &= found.keys()
        return found

    def _is_due(self, kind: str) -> bool:
        last = self._last_notice.get(kind)
        recent = last is not None and self._frames_total - last < REPEAT_S * self.sample_rate
        return kind not in self._active and not recent

    def _notice(self, kind: str, text: str) -> str:
        self._active.add(kind)
        self._last_notice[kind] = self._frames_total
        return text
