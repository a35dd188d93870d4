"""The melody among a frame's notes: a small network, trained on rendered ensembles, scores each.

The salience's maxima (frame_notes.py) hold the melody's note in nearly every frame of an
ensemble, but which of them it is, no single rule says: the predominant line jumps to whichever
voice is momentarily louder, the top line takes a descant or a partial for the tune, a bass
brought out by its instrument is under everything. What tells the melody's instrument apart is
many small things at once: its harmonics' balance, its level against the others, its height and
place in the chord, whether the lines follow it, how far it is from where the melody was. A
multilayer perceptron weighs them: every candidate note of a salience reading gets a score from
its features (NOTE_FEATURES), and the highest is the melody.

Its weights are learnt offline (`python -m benchmarks.melody_notes`, which renders Bach chorales
held apart from the benchmarks' and learns which note is the voice their scoring brings out) and
shipped as `detector/data/melody_notes.npz`. A network whose features are not these, in this
order, is refused (`load_network`).

Real-time contract: numba kernels on the preallocated arrays of `NoteChooser`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numba
import numpy as np

from detector.frame_notes import N_CANDIDATES, NEAR_BINS
from detector.harmonic_sum import BINS_PER_SEMITONE, HARMONIC_BINS, N_HARMONICS

FLOOR_DB = -60.0              # a harmonic this far under the note's strongest (or none) counts as this
SAME_NOTE_BINS = BINS_PER_SEMITONE // 2  # a line this near a candidate is on its note
FAR_SEMITONES = 24.0          # the distance to the previous reading's lines, at most (and with none)
PARTIAL_HARMONICS = 5         # a candidate at harmonic 2 to this of a lower one may be its partial
_OCTAVE_BINS = HARMONIC_BINS[1]

#: What the network reads of each candidate, in order. Harmonic levels are dB under the note's
#: strongest harmonic / 20; ranks count from 0 (the most salient, the highest).
NOTE_FEATURES = (
    *(f"harmonic {h} level" for h in range(1, N_HARMONICS + 1)),
    "level under the loudest note (dB / 10)",
    "pitch (octaves above 220 Hz)",
    "salience rank",
    "log salience under the most salient",
    "taken out as a note",
    "passed over as another note's partial",
    "salience when taken out, share of the first note's",
    "highest note taken out",
    "lowest note taken out",
    "above every note taken out",
    "below every note taken out",
    "height rank",
    "a candidate an octave below",
    "a candidate an octave above",
    "at a harmonic of a lower candidate (1 / its number)",
    "on the predominant line",
    "on the top line",
    "on the bass line",
    "semitones from the previous reading's predominant line",
    "semitones from the previous reading's melody",
    "the predominant line's confidence",
    "candidates in the frame",
    "notes taken out of the frame",
)
N_NOTE_FEATURES = len(NOTE_FEATURES)
# Columns of the features the kernels fill by name.
_LEVEL = N_HARMONICS
_PITCH, _SALIENCE_RANK, _LOG_SALIENCE, _TAKEN, _PASSED_OVER, _TAKEN_SHARE = range(N_HARMONICS + 1, N_HARMONICS + 7)
_HIGHEST, _LOWEST, _ABOVE_ALL, _BELOW_ALL, _HEIGHT_RANK = range(_TAKEN_SHARE + 1, _TAKEN_SHARE + 6)
_OCTAVE_BELOW, _OCTAVE_ABOVE, _HARMONIC_OF = range(_HEIGHT_RANK + 1, _HEIGHT_RANK + 4)
_ON_PREDOMINANT, _ON_TOP, _ON_BASS, _FROM_PREDOMINANT, _FROM_MELODY, _CONFIDENCE, _N_FOUND, _N_TAKEN = range(
    _HARMONIC_OF + 1, _HARMONIC_OF + 9)
NETWORK_FILE = "melody_notes.npz"
N_LAYERS = 3                  # the network's: two hidden (ReLU), one output


def shipped_network_path() -> Path:
    """The network the detector ships (in detector/data), which `benchmarks.melody_notes` writes."""
    return Path(str(resources.files("detector.data") / NETWORK_FILE))


def load_network(path: Path | None = None) -> tuple[np.ndarray, ...]:
    """The network of a file of `benchmarks.melody_notes` (default: the shipped one), as
    `choose_melody_note` takes it (`network_from`)."""
    source = path or shipped_network_path()
    with np.load(source) as network:
        names = tuple(str(name) for name in network["feature_names"])
        if names != NOTE_FEATURES:
            raise ValueError(f"{source}: the network reads other features than detector.note_choice gives "
                             f"({len(names)} against {N_NOTE_FEATURES}); train it again with "
                             "`python -m benchmarks.melody_notes`")
        return network_from(network)


def network_from(arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The network as `choose_melody_note` takes it, from the arrays of its file (the features'
    mean and scale, then the weights and bias of each of its N_LAYERS layers): the weights and
    bias of each layer, in single precision, the first layer's taking the features as they are.

    Folding the standardisation into the first layer lets a feature that is 0 (most of the
    flags, in most rows) skip its row of weights; single precision halves the work of the
    rest. The network is most of what choosing the melody costs."""
    scale = np.where(arrays["scale"] > 0, arrays["scale"], 1.0)
    first = arrays["weights0"] / scale[:, None]
    layers = [first, arrays["bias0"] - (arrays["mean"] / scale) @ arrays["weights0"]]
    for layer in range(1, N_LAYERS):
        layers += [arrays[f"weights{layer}"], arrays[f"bias{layer}"]]
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in layers)


def blank_network() -> tuple[np.ndarray, ...]:
    """A network (of one unit per hidden layer) that scores every note alike, so that the most
    salient is chosen: what benchmarks/melody_notes.py reads its first training notes with."""
    widths = (N_NOTE_FEATURES, 1, 1, 1)
    arrays = {"mean": np.zeros(N_NOTE_FEATURES), "scale": np.ones(N_NOTE_FEATURES)}
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        arrays[f"weights{layer}"], arrays[f"bias{layer}"] = np.zeros((n_in, n_out)), np.zeros(n_out)
    return network_from(arrays)


class NoteChooser:
    """The network (`load_network`) and its scratch: each candidate's `features`, two rows for
    the layers' activations, the `lines`' bins at this reading (predominant, top, bass; -1:
    unvoiced), and the predominant line's and the melody's at the previous reading (`previous`,
    -1: none)."""

    def __init__(self, network: tuple[np.ndarray, ...] | None = None) -> None:
        self.network = network or _shipped_network()
        self.features = np.zeros((N_CANDIDATES, N_NOTE_FEATURES))
        self.hidden = np.zeros((2, max(bias.shape[0] for bias in self.network[1::2])), dtype=np.float32)
        self.lines = np.full(3, -1.0)
        self.previous = np.full(2, -1.0)


@functools.cache
def _shipped_network() -> tuple[np.ndarray, ...]:
    """The shipped network, read once per process (every tracker shares its arrays, read only)."""
    return load_network()


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _on(candidate_bin, line_bin):
    return 1.0 if line_bin >= 0 and abs(candidate_bin - line_bin) <= SAME_NOTE_BINS else 0.0


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _semitones_from(candidate_bin, previous_bin):
    if previous_bin < 0:
        return FAR_SEMITONES
    return min(abs(candidate_bin - previous_bin) / BINS_PER_SEMITONE, FAR_SEMITONES)


@numba.njit(cache=True, nogil=True, fastmath=True)
def note_features(candidates, harmonics, peak_amp, line_bins, confidence, previous, features):
    """features[c] = NOTE_FEATURES of each candidate of the frame (candidates[1, c] > 0, see
    frame_notes.outer_line_bins; its harmonics' peaks in harmonics[c]). line_bins: the bins of
    the predominant, top and bass lines this reading (-1: unvoiced); confidence: the predominant
    line's; previous: the predominant line's bin and the melody's at the previous reading (-1:
    none)."""
    n_found, n_taken = 0, 0
    loudest = FLOOR_DB * 4.0
    first_taken = 0.0
    highest, lowest = -1.0, np.inf
    max_salience = 0.0
    for c in range(N_CANDIDATES):
        if candidates[1, c] <= 0.0:
            continue
        n_found += 1
        max_salience = max(max_salience, candidates[1, c])
        level = FLOOR_DB * 4.0
        for h in range(1, N_HARMONICS + 1):
            peak = harmonics[c, h]
            db = 20.0 * math.log10(peak_amp[peak] + 1e-12) if peak >= 0 else FLOOR_DB * 4.0
            features[c, h - 1] = db
            level = max(level, db)
        for h in range(N_HARMONICS):
            features[c, h] = max(features[c, h] - level, FLOOR_DB) / 20.0
        features[c, _LEVEL] = level
        loudest = max(loudest, level)
        if candidates[2, c] > 0.0:
            n_taken += 1
            first_taken = max(first_taken, candidates[2, c])
            highest = max(highest, candidates[0, c])
            lowest = min(lowest, candidates[0, c])
    for c in range(N_CANDIDATES):
        if candidates[1, c] <= 0.0:
            continue
        note, salience, taken = candidates[0, c], candidates[1, c], candidates[2, c]
        salience_rank, height_rank = 0.0, 0.0
        octave_below, octave_above, harmonic_of = 0.0, 0.0, 0.0
        for other in range(N_CANDIDATES):
            if other == c or candidates[1, other] <= 0.0:
                continue
            salience_rank += candidates[1, other] > salience
            height_rank += candidates[0, other] > note
            step = note - candidates[0, other]
            octave_below = max(octave_below, 1.0 if abs(step - _OCTAVE_BINS) <= NEAR_BINS else 0.0)
            octave_above = max(octave_above, 1.0 if abs(step + _OCTAVE_BINS) <= NEAR_BINS else 0.0)
            for h in range(1, PARTIAL_HARMONICS):
                if abs(step - HARMONIC_BINS[h]) <= NEAR_BINS:
                    harmonic_of = max(harmonic_of, 1.0 / (h + 1))
        row = features[c]
        row[_LEVEL] = max(row[_LEVEL] - loudest, FLOOR_DB) / 10.0
        row[_PITCH] = note / _OCTAVE_BINS - 2.0
        row[_SALIENCE_RANK] = salience_rank
        row[_LOG_SALIENCE] = math.log(salience / max_salience)
        row[_TAKEN] = 1.0 if taken > 0.0 else 0.0
        row[_PASSED_OVER] = 1.0 if taken < 0.0 else 0.0
        row[_TAKEN_SHARE] = taken / first_taken if taken > 0.0 else 0.0
        row[_HIGHEST] = 1.0 if taken > 0.0 and note == highest else 0.0
        row[_LOWEST] = 1.0 if taken > 0.0 and note == lowest else 0.0
        row[_ABOVE_ALL] = 1.0 if note > highest else 0.0
        row[_BELOW_ALL] = 1.0 if note < lowest else 0.0
        row[_HEIGHT_RANK] = height_rank
        row[_OCTAVE_BELOW], row[_OCTAVE_ABOVE], row[_HARMONIC_OF] = octave_below, octave_above, harmonic_of
        row[_ON_PREDOMINANT] = _on(note, line_bins[0])
        row[_ON_TOP] = _on(note, line_bins[1])
        row[_ON_BASS] = _on(note, line_bins[2])
        row[_FROM_PREDOMINANT] = _semitones_from(note, previous[0])
        row[_FROM_MELODY] = _semitones_from(note, previous[1])
        row[_CONFIDENCE] = confidence
        row[_N_FOUND] = n_found
        row[_N_TAKEN] = n_taken


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _dense(inputs, n_in, weights, bias, out, rectify):
    """out[:n_out] = inputs[:n_in] @ weights + bias, rectified (ReLU) if asked; returns n_out.
    An input of 0 (a flag not set, a rectified unit) skips its row."""
    n_out = bias.shape[0]
    for o in range(n_out):
        out[o] = bias[o]
    for i in range(n_in):
        x = np.float32(inputs[i])
        if x != 0.0:
            for o in range(n_out):
                out[o] += x * weights[i, o]
    if rectify:
        for o in range(n_out):
            out[o] = max(out[o], 0.0)
    return n_out


@numba.njit(cache=True, nogil=True, fastmath=True)
def _score(row, network, hidden):
    """The network's logit for one candidate's features: two ReLU hidden layers, a linear output
    (`network_from`)."""
    weights0, bias0, weights1, bias1, weights2, bias2 = network
    width = _dense(row, row.shape[0], weights0, bias0, hidden[1], True)
    width = _dense(hidden[1], width, weights1, bias1, hidden[0], True)
    _dense(hidden[0], width, weights2, bias2, hidden[1], False)
    return hidden[1, 0]


@numba.njit(cache=True, nogil=True, fastmath=True)
def choose_melody_note(candidates, features, network, hidden):
    """The bin of the candidate (`note_features`) the network scores highest (-1: none)."""
    chosen, best = -1, -np.inf
    for c in range(N_CANDIDATES):
        if candidates[1, c] <= 0.0:
            continue
        score = _score(features[c], network, hidden)
        if score > best:
            chosen, best = c, score
    return int(candidates[0, chosen]) if chosen >= 0 else -1
