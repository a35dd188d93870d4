"""Predominant melody for ensembles: the lines of a mixture, streaming.

A monophonic tracker (YIN) reads a melody under chords and bass badly: the mixture has no
single period. This tracker follows the idea behind Melodia (Salamon & Gomez 2012) online:
every other 10 ms frame, a 64 ms Hann window on the shared 8-16 kHz front end gives a spectrum
whose peaks vote for the f0s they could be harmonics of (harmonic_sum.py). Three lines are read
from that salience, because a theme may be the loudest line, the top one or the bass:

- the predominant line: the most salient f0 (a theme brought out by its instrument, in any
  voice);
- the outer lines: the highest and the lowest of the notes taken out of the frame one at a
  time (frame_notes.py). A plain maximum is often the bass, which gathers the partials of every
  chord tone above it, or an octave of a louder note: the top line finds the soprano of a
  chorale, a tune over its accompaniment. The plain maximum also misses a bass its instrument
  brings out (the salience prefers height, and the voices above share its partials): the bass
  line finds that.

The melody is none of them alone: it is the candidate note of the frame that a small network
scores highest (note_choice.py), from the note's timbre, level, height, place in the chord and
the lines that follow it.

Each line is kept on the bin it was following while that stays nearly as salient (continuity
is what makes it a line rather than whichever note is loudest this instant); the bass line
gives way at once to a note below it. A line's confidence is the share of the spectral peak
energy its harmonics explain; an outer line is voiced at a smaller share than the predominant
one, since its voice is one of several and seldom the loudest (a violin's vibrato spreads its
partials thinner still).

Each outer line has a level of its own, the power at its harmonics: a note of the line
re-attacked at one pitch shows in it, as in a solo's level, where another voice's entry or a
drum hit, which move the mixture's level, mostly do not. The notes taken out of each frame are
an output too (`chord_f0_hz`): where a line has taken another voice's note, the theme's is
often one of them.

The salience is read every SALIENCE_HOPS hops (20 ms), not every hop: it is most of what an
ensemble costs over a single line (benchmarks/ensemble.py measures the two modes' cost). A frame
between two readings holds the lines of the one before, with the mixture's level of its own
hop. A 64 ms window moves little in 10 ms: in the benchmarks' runs before and after (commits
813a2e3 and ea3ad96, docs/results-history.md), holding changed the themes found and the melody's
pitch accuracy only within their noise.

In auto mode YIN runs first on every frame, and its estimate is used while the music sounds
like a single line, or while the salience's melody only repeats it (auto_mode.py).

Real-time contract: numba kernels, preallocated buffers, no allocation per hop.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from detector.auto_mode import choose_ensemble, new_auto_state, repeats_yin
from detector.fft import RealFft, magnitude_spectrum
from detector.frame_notes import MAX_NOTES, FrameNotes, chord_notes, explained, index_peaks, outer_line_bins
from detector.framing import HOP_S, FramedTracker
from detector.harmonic_sum import (BINS_PER_SEMITONE, MAX_VOTERS, SalienceGrid, bin_to_hz, harmonic_sum,
                                   keep_strongest, spectral_peaks, strongest_bin)
from detector.pitch import (SILENCE_DB, write_yin_frame, yin_frame_len, yin_lag_range, yin_reading,
                            yin_scratch)
from detector.note_choice import NoteChooser, choose_melody_note, note_features

FRAME_S = 0.064
CONTINUITY = 0.75             # keep following the line while it has this share of the best
LINE_NAMES = ("top line", "bass line")   # the outer lines, in the order of their rows
BASS_LINE = LINE_NAMES.index("bass line")
N_OUTER_LINES = len(LINE_NAMES)
EXPLAINED_VOICED = 0.3        # the predominant line is voiced when its harmonics explain this
                              # share of the peaks' energy; an outer line, one voice of several
OUTER_LINE_VOICED = 0.25      # and seldom the loudest, when they explain this share
SALIENCE_HOPS = 2             # the salience is read every this many hops; the frames between hold it
# MelodyTracker's state: the salience bin the predominant line followed in the previous frame
# (-1: none), then the bins the outer lines followed ...
_MELODY_BIN = 0
_LINE_BINS = 1
# ... and what the salience read last, which the frames after it hold: the predominant line's
# f0, confidence and the peaks' energy, and how many more frames may hold them.
_HELD_F0, _HELD_CONFIDENCE, _HELD_ENERGY, _HOLDS_LEFT = range(_LINE_BINS + N_OUTER_LINES,
                                                              _LINE_BINS + N_OUTER_LINES + 4)
_N_STATE = _HOLDS_LEFT + 1


@numba.njit(cache=True, nogil=True, fastmath=True)
def _line_f0(salience, best, state, slot, yields_to_lower):
    """A line's f0 (Hz) from the salience and the bin chosen for it in this frame; state[slot]
    is the bin the line followed in the previous frame (-1: none) and becomes this frame's.

    yields_to_lower: for the bass line, which keeps to the line it follows only while no note
    sounds under it: a new bass note takes over at once. The top line keeps to its line against
    a new note above too, since there the partials of the notes below often pass for one."""
    # Continuity: stay on the line being followed while it remains nearly as salient.
    followed = int(state[slot])
    lower = best <= followed - BINS_PER_SEMITONE
    if followed >= 0 and salience[best] > 0.0 and not (yields_to_lower and lower):
        lo = max(0, followed - BINS_PER_SEMITONE)
        hi = min(salience.shape[0] - 1, followed + BINS_PER_SEMITONE)
        near = lo
        for i in range(lo, hi + 1):
            if salience[i] > salience[near]:
                near = i
        if salience[near] >= CONTINUITY * salience[best] and 0 < near < salience.shape[0] - 1:
            best = near
    shift = 0.0
    if 0 < best < salience.shape[0] - 1:
        a, b, c = salience[best - 1], salience[best], salience[best + 1]
        curvature = a - 2.0 * b + c
        if curvature < 0.0:
            shift = 0.5 * (a - c) / curvature
    state[slot] = best
    return bin_to_hz(best + shift)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _salience_frame(signal, start, frame_len, internal_rate, window, frame, fft_tables, magnitude, grid,
                    notes, chooser, network, state, line_f0, line_confidence):
    """The lines of signal[start : start + frame_len]: returns the f0 of the melody, its
    confidence 0-1 and the energy of the frame's spectral peaks, of which a confidence is
    the share; the outer lines' (top, bass) f0 and confidence go into line_f0 / line_confidence.

    The melody is the candidate note the network scores highest (`choose_melody_note`; the
    predominant line's f0 where the frame has none); its confidence is the predominant line's,
    which says whether a melody sounds at all.
    state[_MELODY_BIN] and state[_LINE_BINS + line] are the salience bins the lines followed in
    the previous frame (-1: none); the caller resets them when the frame is unvoiced.
    grid, notes, chooser: the arrays of a SalienceGrid, FrameNotes and NoteChooser (in that
    order); network: the NoteChooser's.
    """
    peak_hz, peak_amp, votes, salience, kernel, height_weight = grid
    candidates, residual, harmonics, nearest = notes
    features, hidden, line_bins, previous = chooser
    n_fft = frame.shape[0]
    for j in range(frame_len):
        frame[j] = signal[start + j] * window[j]
    magnitude_spectrum(frame, fft_tables, magnitude)
    n_peaks, total = spectral_peaks(magnitude, internal_rate / n_fft, peak_hz, peak_amp)
    n_voters = keep_strongest(peak_hz, peak_amp, n_peaks, MAX_VOTERS)
    # The melody is usually the top line: the salience favours height a little, against the bass.
    harmonic_sum(peak_hz, peak_amp, n_voters, kernel, height_weight, votes, salience)
    f0 = _line_f0(salience, strongest_bin(salience), state, _MELODY_BIN, False)
    index_peaks(peak_hz, peak_amp, n_voters, nearest)  # for the note extraction and `explained`
    outer = outer_line_bins(salience, peak_amp, n_voters, candidates, residual, harmonics, nearest,
                            height_weight)
    for line in range(N_OUTER_LINES):
        yields = line == BASS_LINE
        line_f0[line] = (_line_f0(salience, outer[line], state, _LINE_BINS + line, yields)
                         if outer[line] >= 0 else f0)
    # Confidence: the share of the peaks' energy at the line's harmonics.
    if total <= 0.0:
        line_confidence[:] = 0.0
        previous[:] = -1.0  # no lines at this reading
        return f0, 0.0, 0.0
    for line in range(N_OUTER_LINES):
        line_confidence[line] = explained(peak_amp, nearest, line_f0[line]) / total
    confidence = explained(peak_amp, nearest, f0) / total
    # The lines' bins where they are voiced: what the network reads of them.
    line_bins[0] = state[_MELODY_BIN] if confidence >= EXPLAINED_VOICED else -1.0
    for line in range(N_OUTER_LINES):
        voiced = line_confidence[line] >= OUTER_LINE_VOICED
        line_bins[1 + line] = state[_LINE_BINS + line] if voiced and outer[line] >= 0 else -1.0
    note_features(candidates, harmonics, peak_amp, line_bins, confidence, previous, features)
    chosen = choose_melody_note(candidates, features, network, hidden)
    previous[0] = line_bins[0]
    previous[1] = chosen if line_bins[0] >= 0 else -1.0
    return (bin_to_hz(chosen) if chosen >= 0 else f0), confidence, total


@numba.njit(cache=True, nogil=True, inline="always")
def _use_yin_frame(k, read_f0, read_periodicity, read_level_db, read_voiced, out_f0, out_periodicity,
                   out_level_db, out_voiced):
    """Frame k of the main line is YIN's reading of it (the read_* rows)."""
    out_f0[k] = read_f0[k]
    out_periodicity[k] = read_periodicity[k]
    out_level_db[k] = read_level_db[k]
    out_voiced[k] = read_voiced[k]


@numba.njit(cache=True, nogil=True, fastmath=True)
def salience_frames_kernel(signal, first_end, n_frames, hop, frame_len, internal_rate,
                           window, frame, fft_tables, magnitude, grid, notes, chooser, network,
                           state, auto_state, auto,
                           tau_min, tau_max,
                           yin_energy, yin_corr, yin_diff, yin_cmnd, yin_register,
                           out_f0, out_periodicity, out_level_db, out_voiced, out_ensemble,
                           out_line_f0, out_line_voiced, out_line_level_db, out_chord_f0, line_f0,
                           line_confidence, power_scale, out_yin_f0, out_yin_periodicity,
                           out_yin_level_db, out_yin_voiced):
    """Predominant f0 and outer lines (out_line_*[line, k]: top, bass) of n_frames frames of
    signal, frame k ending at first_end + k * hop, and the notes taken out of each frame
    (out_chord_f0[:, k], `chord_notes`; none where YIN's estimate is used).

    An outer line's level (out_line_level_db, dBFS) is its own: the power at its harmonics, the
    spectral peaks' energy (scaled to power by power_scale) times its confidence.
    The salience is read every SALIENCE_HOPS frames; the frames between hold what it read last
    (in state, line_f0, line_confidence and notes), with a level of their own.
    state: see _MELODY_BIN and the slots after it. line_f0 and line_confidence hold the outer
    lines' last reading, one value per line.
    With `auto`, YIN runs on the frame's tail first and its estimate is used while the music
    sounds monophonic (`choose_ensemble`, which keeps auto_state); the salience is then not
    computed at all, and there are no outer lines apart from the melody (their level is then
    the frame's). Where the salience is read but its melody has mostly been YIN's pitch
    (`repeats_yin`), the main line and the frame's notes are YIN's frame too, the outer lines
    the salience's. YIN's reading of every frame is in out_yin_* (auto only), whichever is used.
    """
    for k in range(n_frames):
        end = first_end + k * hop
        power = 0.0
        for j in range(hop):
            v = signal[end - hop + j]
            power += v * v
        level_db = 10.0 * math.log10(power / hop + 1e-20)
        out_level_db[k] = level_db
        if auto:
            period, cmnd, yin_level_db = yin_reading(signal, end, tau_min, tau_max, hop, yin_energy,
                                                     yin_corr, yin_diff, yin_cmnd, yin_register)
            # PitchTracker's row (its frames are these, see MelodyTracker).
            write_yin_frame(k, period, cmnd, yin_level_db, internal_rate, out_yin_f0,
                            out_yin_periodicity, out_yin_level_db, out_yin_voiced)
            if not choose_ensemble(auto_state, 1.0 - cmnd, level_db, period):
                _use_yin_frame(k, out_yin_f0, out_yin_periodicity, out_yin_level_db, out_yin_voiced,
                               out_f0, out_periodicity, out_level_db, out_voiced)
                out_ensemble[k] = False
                state[_MELODY_BIN] = -1.0
                for line in range(N_OUTER_LINES):
                    out_line_voiced[line, k] = False
                    state[_LINE_BINS + line] = -1.0
                out_chord_f0[:, k] = 0.0
                out_line_level_db[:, k] = out_level_db[k]
                state[_HOLDS_LEFT] = 0.0  # the salience read before YIN's frames is stale
                continue
        if state[_HOLDS_LEFT] > 0.0:
            state[_HOLDS_LEFT] -= 1.0
        else:
            state[_HELD_F0], state[_HELD_CONFIDENCE], state[_HELD_ENERGY] = _salience_frame(
                signal, end - frame_len, frame_len, internal_rate, window, frame, fft_tables,
                magnitude, grid, notes, chooser, network, state, line_f0, line_confidence)
            state[_HOLDS_LEFT] = SALIENCE_HOPS - 1
        f0, confidence, peak_energy = state[_HELD_F0], state[_HELD_CONFIDENCE], state[_HELD_ENERGY]
        voiced = confidence >= EXPLAINED_VOICED and level_db > SILENCE_DB
        if not voiced:
            state[_MELODY_BIN] = -1.0
        for line in range(N_OUTER_LINES):
            line_voiced = line_confidence[line] >= OUTER_LINE_VOICED and level_db > SILENCE_DB
            if not line_voiced:
                state[_LINE_BINS + line] = -1.0
            out_line_f0[line, k] = line_f0[line]
            out_line_voiced[line, k] = line_voiced
            out_line_level_db[line, k] = 10.0 * math.log10(
                power_scale * line_confidence[line] * peak_energy + 1e-20)
        if auto and repeats_yin(auto_state, f0, voiced, out_yin_f0[k], out_yin_voiced[k]):
            # A single line after all: YIN's frame, the outer lines as the salience read them.
            _use_yin_frame(k, out_yin_f0, out_yin_periodicity, out_yin_level_db, out_yin_voiced,
                           out_f0, out_periodicity, out_level_db, out_voiced)
            out_ensemble[k] = False
            out_chord_f0[:, k] = 0.0
        else:
            out_f0[k] = f0
            out_periodicity[k] = confidence
            out_voiced[k] = voiced
            out_ensemble[k] = True
            chord_notes(notes[0], out_chord_f0[:, k])


class MelodyTracker(FramedTracker):
    """Streaming predominant-melody f0 of polyphonic audio (see FramedTracker for outputs), the
    outer lines, top and bass, in `line_f0_hz` / `line_voiced` / `line_level_db` (never voiced
    where only YIN was read), and the notes taken out of each frame in `chord_f0_hz`.

    auto: also run YIN and use it while the music sounds like a single line (it is cheaper
    and exact there), or while the salience's melody only repeats YIN's pitch (a solo that
    passed for an ensemble; the outer lines are then the salience's); `ensemble` then tells,
    per frame, which estimate the melody is. The frames
    are then PitchTracker's (same ends, same f0, voicing and level where YIN's estimate is
    used), so a solo is heard in auto mode as in melody mode: the same notes announced at the
    same samples, the same events. Only the timestamps differ: they are taken at this frame's
    centre (`frame_delay_s`), 5 ms before YIN's at any input rate. YIN's reading of every
    frame, used or not, is in `yin_f0_hz` / `yin_periodicity` / `yin_level_db` / `yin_voiced`
    (what melody mode would have read: the Detector matches it too where the two differ).

    network: the one that chooses the melody among each frame's notes (note_choice.py;
    default: the shipped one).
    """

    line_names = LINE_NAMES
    max_chord_notes = MAX_NOTES

    def __init__(self, sample_rate: int, hop_s: float = HOP_S, auto: bool = False,
                 network: tuple[np.ndarray, ...] | None = None) -> None:
        super().__init__(sample_rate, FRAME_S, hop_s)
        self.auto = auto
        self._tau_min, self._tau_max = yin_lag_range(self.settings.internal_rate_hz)
        if auto:  # YIN's frames are PitchTracker's, so that a solo reads as in melody mode
            self._share_grid(yin_frame_len(self._tau_max))
        (self._yin_energy, self._yin_corr, self._yin_diff, self._yin_cmnd,
         self._yin_register) = yin_scratch(self._tau_max)
        self._window = np.hanning(self.settings.frame_len)
        # A sine of amplitude a peaks at a * sum(window) / 2 in the spectrum; its power is a**2 / 2.
        self._power_scale = 2.0 / self._window.sum() ** 2
        self._fft = RealFft.for_frame(self.settings.frame_len)
        n_fft = self._fft.n_fft
        grid, notes, chooser = SalienceGrid(n_fft), FrameNotes(n_fft), NoteChooser(network)
        self._notes, self._chooser = notes, chooser
        # Their arrays, as the kernel takes them (`_salience_frame`).
        self._arrays = ((grid.peak_hz, grid.peak_amp, grid.votes, grid.salience, grid.kernel,
                         grid.height_weight),
                        (notes.candidates, notes.residual, notes.harmonics, notes.nearest),
                        (chooser.features, chooser.hidden, chooser.lines, chooser.previous),
                        chooser.network)
        self._state = np.full(_N_STATE, -1.0)  # no bins followed yet
        self._state[_HOLDS_LEFT] = 0.0  # nothing read yet to hold
        self._auto_state = new_auto_state()
        self._line_f0 = np.zeros(N_OUTER_LINES)
        self._line_confidence = np.zeros(N_OUTER_LINES)

    @property
    def line_level_hops(self) -> int:
        """A further line's level is read from a whole frame, and held between the salience's
        readings: it goes on rising for SALIENCE_HOPS - 1 hops more than a frame spans."""
        return super().line_level_hops + SALIENCE_HOPS - 1

    def _grow(self, n_frames: int) -> None:
        super()._grow(n_frames)
        self.yin_f0_hz = np.zeros(n_frames, dtype=np.float64)
        self.yin_periodicity = np.zeros(n_frames, dtype=np.float64)
        self.yin_level_db = np.zeros(n_frames, dtype=np.float64)
        self.yin_voiced = np.zeros(n_frames, dtype=np.bool_)

    def candidate_notes(self) -> tuple[np.ndarray, np.ndarray]:
        """The candidate notes of the latest salience reading: their f0s (Hz) and their
        features (rows of note_choice.NOTE_FEATURES), what the melody is chosen from. What the
        network that chooses it learns from (benchmarks/melody_notes.py)."""
        candidates = self._notes.candidates
        found = candidates[1] > 0.0
        return bin_to_hz(candidates[0, found]), self._chooser.features[found].copy()

    def _analyse(self, signal: np.ndarray, first_end: int, n_frames: int) -> None:
        s = self.settings
        salience_frames_kernel(
            signal, first_end, n_frames, s.hop, s.frame_len, s.internal_rate_hz, self._window,
            self._fft.frame, self._fft.tables, self._fft.magnitude, *self._arrays,
            self._state, self._auto_state, self.auto, self._tau_min, self._tau_max, self._yin_energy,
            self._yin_corr, self._yin_diff, self._yin_cmnd, self._yin_register, self.f0_hz,
            self.periodicity, self.level_db, self.voiced, self.ensemble, self.line_f0_hz,
            self.line_voiced, self.line_level_db, self.chord_f0_hz, self._line_f0,
            self._line_confidence, self._power_scale, self.yin_f0_hz, self.yin_periodicity,
            self.yin_level_db, self.yin_voiced)
