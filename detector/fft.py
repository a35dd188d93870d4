"""A real FFT magnitude spectrum inside numba kernels, with no allocation per frame.

numpy's FFT allocates its output on every call and cannot be called from a `nogil` kernel, so
the trackers that need a spectrum per hop (the ensemble melody's salience, the harmony's chroma)
share this one: an iterative radix-2 FFT over tables precomputed once by `RealFft`.
"""

from __future__ import annotations

import math

import numba
import numpy as np


class RealFft:
    """The tables and scratch buffers for magnitude spectra of real frames of length n_fft
    (a power of two). Pass `tables` to `magnitude_spectrum` inside a kernel, with `frame` (the
    windowed frame, zero-padded) and `magnitude` (its spectrum) as buffers."""

    @classmethod
    def for_frame(cls, frame_len: int) -> "RealFft":
        """For frames of frame_len samples, zero-padded to the next power of two."""
        return cls(1 << (frame_len - 1).bit_length())

    def __init__(self, n_fft: int) -> None:
        if n_fft < 4 or n_fft & (n_fft - 1):
            raise ValueError(f"n_fft must be a power of two >= 4, not {n_fft}")
        self.n_fft = n_fft
        self.frame = np.zeros(n_fft)
        self.magnitude = np.zeros(n_fft // 2)
        half = n_fft // 2
        bits = half.bit_length() - 1
        bitrev = np.array([int(format(i, f"0{bits}b")[::-1], 2) for i in range(half)],
                          dtype=np.int64)
        # The half-length FFT's twiddles, stage by stage: exp(-i pi k / m) for k < m at [m, 2m),
        # so that each stage reads them contiguously (and its butterfly loop vectorises).
        twiddle_re, twiddle_im = np.zeros(half), np.zeros(half)
        m = 1
        while m < half:
            twiddle_re[m:2 * m] = np.cos(np.pi * np.arange(m) / m)
            twiddle_im[m:2 * m] = -np.sin(np.pi * np.arange(m) / m)
            m *= 2
        post = 2 * np.pi * np.arange(half) / n_fft              # ... and of the untangling
        #: (re, im scratch, bit reversal, twiddle re, im, untangling cos, sin): one argument
        #: for kernels.
        self.tables = (np.zeros(half), np.zeros(half), bitrev, twiddle_re, twiddle_im,
                       np.cos(post), np.sin(post))


@numba.njit(cache=True, nogil=True, fastmath=True)
def _fft(re, im, twiddle_re, twiddle_im):
    """In-place iterative radix-2 FFT of (re, im), given in bit-reversed order; length a power
    of two. The first two stages (twiddles 1 and -i) are one radix-4 pass; every later stage
    runs its butterflies over contiguous slices."""
    n = re.shape[0]
    if n == 2:
        re[0], re[1] = re[0] + re[1], re[0] - re[1]
        im[0], im[1] = im[0] + im[1], im[0] - im[1]
        return
    for s in range(0, n, 4):
        b0r, b0i = re[s] + re[s + 1], im[s] + im[s + 1]
        b1r, b1i = re[s] - re[s + 1], im[s] - im[s + 1]
        b2r, b2i = re[s + 2] + re[s + 3], im[s + 2] + im[s + 3]
        b3r, b3i = re[s + 2] - re[s + 3], im[s + 2] - im[s + 3]
        re[s], im[s] = b0r + b2r, b0i + b2i
        re[s + 2], im[s + 2] = b0r - b2r, b0i - b2i
        re[s + 1], im[s + 1] = b1r + b3i, b1i - b3r          # b1 + (-i) b3
        re[s + 3], im[s + 3] = b1r - b3i, b1i + b3r
    m = 4
    while m < n:
        wr = twiddle_re[m:2 * m]
        wi = twiddle_im[m:2 * m]
        for start in range(0, n, 2 * m):
            ar, ai = re[start:start + m], im[start:start + m]
            br, bi = re[start + m:start + 2 * m], im[start + m:start + 2 * m]
            for k in range(m):
                tr = wr[k] * br[k] - wi[k] * bi[k]
                ti = wr[k] * bi[k] + wi[k] * br[k]
                br[k] = ar[k] - tr
                bi[k] = ai[k] - ti
                ar[k] += tr
                ai[k] += ti
        m *= 2


@numba.njit(cache=True, nogil=True, fastmath=True)
def magnitude_spectrum(frame, tables, magnitude):
    """magnitude[k] = |DFT(frame)[k]| for k < n/2, frame real of length n (RealFft(n).tables).

    One complex FFT of length n/2 (even samples as the real part, odd as the imaginary) and
    the standard untangling: X[k] = E[k] + exp(-2 pi i k / n) O[k].
    """
    re, im, bitrev, twiddle_re, twiddle_im, cos_post, sin_post = tables
    half = frame.shape[0] // 2
    for j in range(half):
        r = bitrev[j]
        re[r] = frame[2 * j]
        im[r] = frame[2 * j + 1]
    _fft(re, im, twiddle_re, twiddle_im)
    magnitude[0] = abs(re[0] + im[0])                          # E[0] + O[0], both real
    for k in range(1, half):
        m = half - k
        cr, ci = re[m], -im[m]                                # conj(Z[half - k])
        er, ei = 0.5 * (re[k] + cr), 0.5 * (im[k] + ci)       # E = (Z + conj) / 2
        odd_r, odd_i = 0.5 * (im[k] - ci), -0.5 * (re[k] - cr)  # O = (Z - conj) / 2i
        wr, wi = cos_post[k], -sin_post[k]
        xr = er + wr * odd_r - wi * odd_i
        xi = ei + wr * odd_i + wi * odd_r
        magnitude[k] = math.sqrt(xr * xr + xi * xi)
