"""Streaming chroma (CENS) of the harmony: what pitch classes sound, 10 times a second.

For themes given as chords (harmony.py), the question is not which melody is playing but
which chords are. Per 0.1 s hop, on the shared 8-16 kHz front end (framing.py), a 0.2 s Hann
frame (zero-padded to a power of two; 0.2 s tells neighbouring semitones apart from about
170 Hz up, and a 0.1 s hop still follows chord changes) gets a magnitude spectrum (fft.py).
Its energy from 55 to 2000 Hz is gathered into semitone bands, each bin weighted by how close
it lies to the semitone (cos^2 over one semitone); each band is log-compressed relative to the
frame's strongest, so that the notes of a chord count about alike whatever their balance, and
the bands are folded onto the 12 pitch classes. That is turned into CENS (Mueller & Ewert,
"Chroma toolbox", 2011): L1-normalised, quantised (shares of 0.05, 0.1, 0.2 and 0.4 count
1, 2, 3 and 4), smoothed over the last 0.7 s with a Hann window and L2-normalised. Quantising
keeps which classes dominate and drops their exact balance (timbre, voicing, dynamics);
smoothing keeps the chords and drops the passing notes. A frame too quiet to carry harmony
counts as silence: a zero vector.

The causal smoothing delays a frame's content by half the window: `frame_delay_s` includes it,
so frame times say when the smoothed harmony was sounding.

Real-time contract: `ChromaTracker.process` allocates nothing once its outputs fit the largest
block; the kernels are `nogil` and cached. Templates (harmony.py) go through the same
`cens_frame`, so the live and the template chroma differ only in what they hear.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.fft import RealFft, magnitude_spectrum
from detector.framing import FramedTracker
from detector.pitch import SILENCE_DB

FRAME_S = 0.2
HOP_S = 0.1
CHROMA_FMIN_HZ = 55.0
CHROMA_FMAX_HZ = 2000.0
#: Log compression of each semitone band's energy relative to the frame's strongest band,
#: log(1 + COMPRESSION x share), before folding to pitch classes: a chord's notes count about
#: alike whatever their balance (an inner voice 15 dB down still counts), while leakage and
#: noise 40 dB down count nothing.
COMPRESSION = 100.0
#: CENS quantisation: a pitch class's share of the frame's energy (L1) at or over each of these
#: counts one more step (0-4).
QUANTISE_STEPS = (0.05, 0.1, 0.2, 0.4)
#: CENS smoothing: frames of the causal Hann window (0.7 s at the 0.1 s hop: a chorale's chords,
#: one a beat, stay apart; over 1 s, 73 % of chorale openings were found instead of 81 % at the
#: same rate of false alarms) ...
SMOOTH_FRAMES = 7
#: ... which delays what a frame shows by this many frames (the window's centre).
SMOOTH_DELAY_FRAMES = 0.5 * (SMOOTH_FRAMES - 1)
N_CLASSES = 12


def smoothing_window() -> np.ndarray:
    """The CENS smoothing weights over SMOOTH_FRAMES: a Hann window without its zero ends."""
    return np.hanning(SMOOTH_FRAMES + 2)[1:-1].copy()


@numba.njit(cache=True, nogil=True)
def cens_frame(energy, ring, state, window, out):
    """One CENS frame from 12 pitch-class energies (all zero: silence) into out (12).

    ring (len(window), 12) holds the latest quantised frames and state[0] the next row to
    write: the caller's, one pair per stream, zero to start with.
    """
    total = 0.0
    for p in range(N_CLASSES):
        total += energy[p]
    row = state[0]
    for p in range(N_CLASSES):
        share = energy[p] / total if total > 0.0 else 0.0
        level = 0.0
        for step in QUANTISE_STEPS:
            if share >= step:
                level += 1.0
        ring[row, p] = level
    n_window = window.shape[0]
    norm = 0.0
    for p in range(N_CLASSES):
        acc = 0.0
        for w in range(n_window):
            acc += window[w] * ring[(row - w) % n_window, p]
        out[p] = acc
        norm += acc * acc
    norm = math.sqrt(norm)
    for p in range(N_CLASSES):
        out[p] = out[p] / norm if norm > 0.0 else 0.0
    state[0] = (row + 1) % n_window


@numba.njit(cache=True, nogil=True)
def cens_sequence(energy, window, out):
    """CENS of a whole sequence of pitch-class energies (n_frames, 12) into out, from silence."""
    ring = np.zeros((window.shape[0], N_CLASSES))
    state = np.zeros(1, dtype=np.int64)
    for k in range(energy.shape[0]):
        cens_frame(energy[k], ring, state, window, out[k])


@numba.njit(cache=True, nogil=True, fastmath=True)
def chroma_frames_kernel(signal, first_end, n_frames, hop, frame_len, window, frame, fft_tables,
                         magnitude, bin_band, bin_weight, band_scale, band_energy, energy, ring,
                         state, smooth, out_chroma, out_level_db):
    """CENS of n_frames frames of signal, frame k ending at first_end + k * hop.

    frame (n_fft, zeros past frame_len), magnitude (n_fft / 2), band_energy (one per semitone
    band) and energy (12) are scratch; bin_band and bin_weight map each spectral bin to its
    semitone band (band b is pitch class b % 12) and weight (0 outside the range); band_scale
    turns the bands' summed energy into the power (mean square) of the frame in the range.
    """
    for k in range(n_frames):
        start = first_end + k * hop - frame_len
        power = 0.0
        for j in range(frame_len):
            v = signal[start + j]
            power += v * v
            frame[j] = v * window[j]
        level_db = 10.0 * math.log10(power / frame_len + 1e-20)
        out_level_db[k] = level_db
        for p in range(N_CLASSES):
            energy[p] = 0.0
        if level_db > SILENCE_DB:  # (else not even the spectrum is needed)
            magnitude_spectrum(frame, fft_tables, magnitude)
            for b in range(band_energy.shape[0]):
                band_energy[b] = 0.0
            for i in range(magnitude.shape[0]):
                if bin_weight[i] > 0.0:
                    band_energy[bin_band[i]] += bin_weight[i] * magnitude[i] * magnitude[i]
            in_range, strongest = 0.0, 0.0
            for b in range(band_energy.shape[0]):
                in_range += band_energy[b]
                strongest = max(strongest, band_energy[b])
            # Silence is judged in the range: a frame may be loud only above it.
            if 10.0 * math.log10(band_scale * in_range + 1e-20) > SILENCE_DB:
                for b in range(band_energy.shape[0]):
                    energy[b % N_CLASSES] += math.log1p(COMPRESSION * band_energy[b] / strongest)
        cens_frame(energy, ring, state, smooth, out_chroma[k])


def semitone_bins(n_fft: int, rate_hz: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(band, weight) of each bin of an n_fft spectrum at rate_hz, and the number of bands:
    the nearest semitone's band (band b is pitch class b % 12), weighted cos^2 of the distance
    to it (1 on it, 0 half-way between; 0 outside CHROMA_FMIN_HZ-CHROMA_FMAX_HZ)."""
    bin_hz = np.arange(n_fft // 2) * rate_hz / n_fft
    midi = 69.0 + 12.0 * np.log2(np.maximum(bin_hz, 1e-3) / 440.0)
    nearest = np.round(midi)
    weight = np.cos(np.pi * (midi - nearest)) ** 2
    weight[(bin_hz < CHROMA_FMIN_HZ) | (bin_hz > CHROMA_FMAX_HZ)] = 0.0
    n_bands = int(np.ceil(69.0 + 12.0 * np.log2(CHROMA_FMAX_HZ / 440.0))) + 1
    return np.clip(nearest, 0, n_bands - 1).astype(np.int64), weight, n_bands


class ChromaTracker(FramedTracker):
    """Streaming CENS chroma (see the module docstring).

    After `process(block)` returns n, the first n rows of `chroma` (n, 12; unit length, or
    zero for silence), `level_db` (frame power, dBFS) and `end_sample` hold the frames
    finished during that block; the f0 outputs of FramedTracker are unused.
    """

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate, FRAME_S, HOP_S)
        s = self.settings
        self._window = np.hanning(s.frame_len)
        self._fft = RealFft.for_frame(s.frame_len)
        n_fft = self._fft.n_fft
        self._bin_band, self._bin_weight, n_bands = semitone_bins(n_fft, s.internal_rate_hz)
        # Parseval: the half spectrum's energy is half n_fft x the windowed frame's energy.
        self._band_scale = 2.0 / (n_fft * np.sum(self._window ** 2))
        self._band_energy = np.zeros(n_bands)
        self._energy = np.zeros(N_CLASSES)
        self._smooth = smoothing_window()
        self._ring = np.zeros((len(self._smooth), N_CLASSES))
        self._state = np.zeros(1, dtype=np.int64)

    @property
    def frame_delay_s(self) -> float:
        """From a frame's time to the sample that completes it: half the analysis frame, and
        half the smoothing window (its content is centred that far back)."""
        return self.settings.frame_delay_s + SMOOTH_DELAY_FRAMES * self.hop_s

    def _grow(self, n_frames: int) -> None:
        super()._grow(n_frames)
        self.chroma = np.zeros((n_frames, N_CLASSES))

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        s = self.settings
        chroma_frames_kernel(signal, first_end, n_frames, s.hop, s.frame_len, self._window,
                             self._fft.frame, self._fft.tables, self._fft.magnitude, self._bin_band,
                             self._bin_weight, self._band_scale, self._band_energy,
                             self._energy, self._ring, self._state, self._smooth, self.chroma,
                             self.level_db)
