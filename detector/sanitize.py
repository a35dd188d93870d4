"""Make any input block safe to analyse: mix to mono, replace garbage samples, count them.

Real input misbehaves: JACK's dummy driver hands over uninitialised memory (NaN, Inf, values
up to 3e38) and interfaces glitch. A sample that is not finite or is beyond ABSURD_LEVEL
(far past full scale, where no real signal lives) becomes 0 and is counted; the stream goes on.
"""

from __future__ import annotations

import numba

#: Beyond this magnitude a sample is garbage, not loud audio (full scale is 1.0).
ABSURD_LEVEL = 8.0


@numba.njit(cache=True, nogil=True)
def mix_to_mono(block, out):
    """Average the channels of block (n, channels) into out[:n]; return the garbage count.

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
