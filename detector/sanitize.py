"""Make any input block safe to analyse: mix to mono, replace garbage samples, count them.

Real input misbehaves: JACK's dummy driver hands over uninitialised memory (NaN, Inf, values
up to 3e38) and interfaces glitch. A sample that is not finite or is beyond ABSURD_LEVEL
(far past full scale, where no real signal lives) becomes 0 and is counted; the stream goes on.
"""

from __future__ import annotations

import numba
import numpy as np

#: Beyond this magnitude a sample is garbage, not loud audio (full scale is 1.0).
ABSURD_LEVEL = 8.0
#: More channels than any interface has: a block of this many is taken for a planar one ...
MAX_CHANNELS = 256
#: ... and so is one with more channels than frames, past this many channels (a planar stereo
#: block of 64 or 256 samples would otherwise pass for 64 or 256 channels of 2 frames), unless
#: the caller said the input has that many channels.
PLANAR_SUSPECT_CHANNELS = 32


def as_float_frames(block: np.ndarray, channels: int | None = None) -> np.ndarray:
    """A block as the analysis takes it: float32 frames (n, channels), C-ordered and writable.

    block: (n,) mono or (n, channels) interleaved frames; float audio at full scale 1.0, or
    integers at their type's full scale (int16 as a WAV file holds it, uint8 centred on 128).
    A float32 block already in that layout is used as it is (no copy: the real-time case);
    any other is converted, always to the one layout the compiled kernels were built for.
    ValueError for any other shape, and for a block that looks planar, (channels, n): more than
    MAX_CHANNELS channels, or more than PLANAR_SUSPECT_CHANNELS and more channels than frames
    (such a block must be transposed first; one of PLANAR_SUSPECT_CHANNELS samples or fewer
    cannot be told from frames). channels: the input's channel count where the caller knows
    it (a device, a file): a block of that many is frames, however short.
    """
    frames = np.asarray(block)
    if frames.ndim == 1:
        frames = frames[:, None]
    if frames.ndim != 2 or frames.shape[1] == 0:
        raise ValueError(f"a block is (n,) mono or (n, channels) frames, not of shape {frames.shape}")
    n_frames, n_channels = frames.shape
    looks_planar = n_channels > MAX_CHANNELS or n_frames < n_channels > PLANAR_SUSPECT_CHANNELS
    if looks_planar and n_channels != channels:
        raise ValueError(f"a block of {frames.shape[1]} channels: is it planar, (channels, n)? "
                         "Pass its transpose, (n, channels)")
    if frames.dtype.kind in "iu":
        full_scale = 2.0 ** (8 * frames.dtype.itemsize - 1)
        centre = full_scale if frames.dtype.kind == "u" else 0.0
        frames = np.subtract(frames, centre, dtype=np.float32)
        frames *= np.float32(1.0 / full_scale)
    elif frames.dtype != np.float32:
        with np.errstate(over="ignore", invalid="ignore"):  # garbage: mix_to_mono counts it
            frames = frames.astype(np.float32)
    return np.require(frames, np.float32, ["C_CONTIGUOUS", "WRITEABLE"])


@numba.njit(cache=True, nogil=True)
def mix_to_mono(block, out):
    """Average the channels of block (n, channels; `as_float_frames`) into out[:n]; return the
    garbage count. (A signal on one channel of eight comes out 18 dB down: choose the input's
    channels where the others are silent, as `listen --channels` does.)

    Real-time path: no allocation.
    """
    n_frames, n_channels = block.shape
    bad = 0
    for i in range(n_frames):
        acc = 0.0
        for c in range(n_channels):
            v = block[i, c]
            if not (abs(v) <= ABSURD_LEVEL):  # also true for NaN
                bad += 1
                v = 0.0
            acc += v
        out[i] = acc / n_channels
    return bad
