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
    (a power of two). Pass `tables` to `magnitude_spectrum` inside a kernel."""

    def __init__(self, n_fft: int) -> None:
        if n_fft < 4 or n_fft & (n_fft - 1):
            raise ValueError(f"n_fft must be a power of two >= 4, not {n_fft}")
        self.n_fft = n_fft
        half = n_fft // 2
        bits = half.bit_length() - 1
        bitrev = np.array([int(format(i, f"0{bits}b")[::-1], 2) if bits else 0
                           for i in range(half)], dtype=np.int64)
        angles = 2 * np.pi * np.arange(half // 2) / half       # twiddles of the half-length FFT
        post = 2 * np.pi * np.arange(half) / n_fft              # ... and of the untangling
        #: (re, im scratch, bit reversal, cos, sin, untangling cos, sin): one argument for kernels.
        self.tables = (np.zeros(half), np.zeros(half), bitrev, np.cos(angles), np.sin(angles),
                       np.cos(post), np.sin(post))


@numba.njit(cache=True, nogil=True)
def _fft(re, im, bitrev, cos_table, sin_table):
    """In-place iterative radix-2 FFT of (re, im), length a power of two."""
    n = re.shape[0]
    for i in range(n):
        j = bitrev[i]
        if j > i:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    size = 2
    while size <= n:
        half = size // 2
        step = n // size
        for start in range(0, n, size):
            for k in range(half):
                wr = cos_table[k * step]
                wi = -sin_table[k * step]
                a = start + k
                b = a + half
                tr = wr * re[b] - wi * im[b]
                ti = wr * im[b] + wi * re[b]
                re[b] = re[a] - tr
                im[b] = im[a] - ti
                re[a] += tr
                im[a] += ti
        size *= 2


@numba.njit(cache=True, nogil=True)
def magnitude_spectrum(frame, tables, magnitude):
    """magnitude[k] = |DFT(frame)[k]| for k < n/2, frame real of length n (RealFft(n).tables).

    One complex FFT of length n/2 (even samples as the real part, odd as the imaginary) and
    the standard untangling: X[k] = E[k] + exp(-2 pi i k / n) O[k].
    """
    re, im, bitrev, cos_table, sin_table, cos_post, sin_post = tables
    half = frame.shape[0] // 2
    for j in range(half):
        re[j] = frame[2 * j]
        im[j] = frame[2 * j + 1]
    _fft(re, im, bitrev, cos_table, sin_table)
    for k in range(half):
        m = (half - k) % half
        cr, ci = re[m], -im[m]                                # conj(Z[half - k])
        er, ei = 0.5 * (re[k] + cr), 0.5 * (im[k] + ci)       # E = (Z + conj) / 2
        odd_r, odd_i = 0.5 * (im[k] - ci), -0.5 * (re[k] - cr)  # O = (Z - conj) / 2i
        wr, wi = cos_post[k], -sin_post[k]
        xr = er + wr * odd_r - wi * odd_i
        xi = ei + wr * odd_i + wi * odd_r
        magnitude[k] = math.sqrt(xr * xr + xi * xi)
