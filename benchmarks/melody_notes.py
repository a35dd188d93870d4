"""Train the network that picks the melody among a frame's notes (detector/note_choice.py).

    python -m benchmarks.melody_notes [--seeds 0 1 3 4 5 6 7 8 9 10 11] [--check-seed 2] [--rounds 3]
        [--out FILE]

(about 25 minutes on two cores; --out defaults to detector/data/melody_notes.npz, the network
the detector ships).

It learns from chorale sets of size "train" (benchmarks/chorales.py): Bach chorales that the
benchmarks' sets never use, scored and rendered as theirs are (a soprano on a solo instrument,
an inner voice or bass brought out, an orchestra). Our tracker reads each clip in ensemble mode,
streaming; every salience reading gives one row per candidate note of the frame: its
NOTE_FEATURES, and whether it is the melody (within 50 cents, raw pitch accuracy's tolerance,
of the line the clip's scoring brings out; frames where no melody note is scored give none).
A multilayer perceptron (scikit-learn) learns to tell the melody's rows apart, and its weights,
with the features' mean and scale, are written where `note_choice.load_network` reads them.

One feature is how far a note is from the melody the network chose at the reading before, so
what the tracker reads depends on the network: the first round reads with a network that
chooses the most salient note, and each round after it with the network the round before
learnt (--rounds), so that the last one learns how far its own choices are to be trusted.
More draws help (they share their chorales, but each renders them on other instruments, in
other keys and tempi), and a third round: checked as below, the network chose the melody in
82.3 % of the check set's readings learnt from five draws in two rounds (`--seeds 0 1 3 4 5
--rounds 2`), 83.5 % from these eleven in two (`--rounds 2`), 86.0 % in three (the defaults),
84.8 % in four (`--rounds 4`).

Then it is checked on a set it did not learn from (--check-seed): the share of scored frames
whose melody note is among the candidates, and in which the network's choice, the predominant
line and the top line are it. The benchmarks' own measure of the melody is
`python -m benchmarks.ensemble`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from benchmarks import chorales
from benchmarks.data import SAMPLE_RATE, TestSet
from benchmarks.ensemble import RELEASE_S
from benchmarks.pitch import reference_f0
from detector.note_choice import (N_LAYERS, N_NOTE_FEATURES, NOTE_FEATURES, blank_network, network_from,
                                  shipped_network_path)
from detector.salience import SALIENCE_HOPS, MelodyTracker

TRAIN_SEEDS = (0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11)  # eleven draws of 24 themes, 31 minutes each ...
CHECK_SEED = 2                                     # ... and one held out
ROUNDS = 3
HIDDEN_LAYERS = (64, 32)      # the two hidden layers' widths (note_choice takes two)
MAX_EPOCHS = 100
BATCH = 1000                  # candidate notes per gradient step
TOLERANCE_CENTS = 50.0        # a candidate this near the melody's note is the melody
#: Columns of the features the check reads the lines from.
_ON_PREDOMINANT, _ON_TOP = NOTE_FEATURES.index("on the predominant line"), NOTE_FEATURES.index("on the top line")


Network = tuple[np.ndarray, ...]


class NoteRows(NamedTuple):
    """Rows of candidate notes: their features, whether each is the melody, and which salience
    reading (a number unique within the rows) it is a candidate of."""

    features: np.ndarray
    is_melody: np.ndarray
    reading: np.ndarray


def clip_rows(audio: np.ndarray, melody: Sequence[tuple[float, float, float]], network: Network) -> NoteRows:
    """The rows of one clip: a tracker choosing the melody with `network` reads it one hop at a
    time, and every salience reading (the first of each SALIENCE_HOPS frames) in a scored
    frame with a melody note gives its candidates (`MelodyTracker.candidate_notes`). Readings
    are numbered from 0."""
    tracker = MelodyTracker(SAMPLE_RATE, network=network)
    hop = tracker.settings.hop_samples
    readings: list[tuple[float, np.ndarray, np.ndarray]] = []
    frame = 0
    for start in range(0, len(audio) - hop + 1, hop):
        n_frames = tracker.process(audio[start:start + hop])  # a hop makes at most one frame
        if n_frames and frame % SALIENCE_HOPS == 0:
            readings.append((tracker.frame_times_s(1)[0], *tracker.candidate_notes()))
        frame += n_frames
    reference_hz, scored = reference_f0(melody, RELEASE_S, np.array([time_s for time_s, _, _ in readings]))
    # Each list starts empty-handed, so that a clip with no reading kept gives rows all the same.
    features, is_melody, reading = [np.zeros((0, N_NOTE_FEATURES))], [np.zeros(0, dtype=bool)], [np.zeros(0, int)]
    for (_, f0_hz, rows), melody_hz, counts in zip(readings, reference_hz, scored):
        if counts and melody_hz > 0 and len(f0_hz):
            features.append(rows)
            is_melody.append(1200.0 * np.abs(np.log2(f0_hz / melody_hz)) < TOLERANCE_CENTS)
            reading.append(np.full(len(f0_hz), len(reading) - 1))
    return NoteRows(np.concatenate(features), np.concatenate(is_melody), np.concatenate(reading))


def joined(parts: Sequence[NoteRows]) -> NoteRows:
    """The rows of several parts in one, each part's readings numbered after the last's."""
    offsets = np.cumsum([0] + [int(part.reading.max()) + 1 if len(part.reading) else 0 for part in parts])
    return NoteRows(np.concatenate([part.features for part in parts]),
                    np.concatenate([part.is_melody for part in parts]),
                    np.concatenate([part.reading + offset for part, offset in zip(parts, offsets)]))


def set_rows(test_set: TestSet, network: Network) -> NoteRows:
    """The rows of every clip of a chorale set (`clip_rows`)."""
    return joined([clip_rows(clip.load_audio(), [tuple(note) for note in clip.settings["melody"]], network)
                   for clip in tqdm(test_set.clips, desc="reading candidate notes", unit="clip")])


def train(rows: NoteRows, hidden_layers: Sequence[int] = HIDDEN_LAYERS, max_epochs: int = MAX_EPOCHS,
          seed: int = 0) -> dict[str, np.ndarray]:
    """A perceptron with these hidden layers (ReLU, logistic output) learnt from the rows, as
    the arrays `note_choice.load_network` reads: the features' mean and scale, then the
    weights and bias of each layer."""
    from sklearn.neural_network import MLPClassifier  # benchmark dependency
    from sklearn.preprocessing import StandardScaler

    if len(hidden_layers) != N_LAYERS - 1:
        raise ValueError(f"note_choice runs {N_LAYERS - 1} hidden layers, not {len(hidden_layers)}")
    scaler = StandardScaler().fit(rows.features)
    network = MLPClassifier(tuple(hidden_layers), batch_size=BATCH, max_iter=max_epochs, early_stopping=True,
                            n_iter_no_change=8, random_state=seed).fit(scaler.transform(rows.features), rows.is_melody)
    arrays = {"feature_names": np.array(NOTE_FEATURES), "mean": scaler.mean_,
              "scale": np.where(scaler.scale_ > 0, scaler.scale_, 1.0)}
    for layer, (weights, bias) in enumerate(zip(network.coefs_, network.intercepts_)):
        arrays[f"weights{layer}"], arrays[f"bias{layer}"] = weights, bias
    return arrays


def chosen_share(rows: NoteRows, scores: np.ndarray) -> float:
    """The share of readings whose highest-scoring row is the melody."""
    order = np.lexsort((scores, rows.reading))
    last_of_reading = np.r_[rows.reading[order][1:] != rows.reading[order][:-1], True]
    return float(rows.is_melody[order][last_of_reading].mean())


def logits(network: Network, features: np.ndarray) -> np.ndarray:
    """The network's (`network_from`) score of each row, in numpy: what the tracker's kernel
    computes one candidate at a time."""
    x = features
    for layer in range(N_LAYERS):
        x = x @ network[2 * layer] + network[2 * layer + 1]
        if layer < N_LAYERS - 1:
            x = np.maximum(x, 0.0)
    return x[:, 0]


def check(network: Network, rows: NoteRows) -> dict[str, float]:
    """On rows it did not learn from: the share of readings whose melody is among the
    candidates, chosen by the network, and on the predominant line and the top line."""
    n_readings = len(np.unique(rows.reading))

    def share_where(rows_taken: np.ndarray) -> float:
        return len(np.unique(rows.reading[rows_taken & rows.is_melody])) / n_readings

    return {"readings": n_readings,
            "melody among the candidates": share_where(np.ones(len(rows.reading), dtype=bool)),
            "chosen by the network": chosen_share(rows, logits(network, rows.features)),
            "on the predominant line": share_where(rows.features[:, _ON_PREDOMINANT] > 0),
            "on the top line": share_where(rows.features[:, _ON_TOP] > 0)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(TRAIN_SEEDS),
                        help=f"the training sets' seeds (default {' '.join(map(str, TRAIN_SEEDS))})")
    parser.add_argument("--check-seed", type=int, default=CHECK_SEED,
                        help=f"the seed of the set it is checked on (default {CHECK_SEED})")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"rounds of reading and learning, each reading with the network the one before learnt "
                             f"(the first: with one that takes the most salient note; default {ROUNDS})")
    parser.add_argument("--out", type=Path, default=shipped_network_path(),
                        help="where to write the network (default: the one the detector ships)")
    args = parser.parse_args(argv)
    if args.check_seed in args.seeds:
        parser.error(f"--check-seed {args.check_seed} is one of the training seeds: "
                     "check on a set it did not learn from")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    started = time.perf_counter()
    training_sets = [chorales.build_set("train", seed) for seed in args.seeds]
    network = blank_network()
    for round_ in range(1, args.rounds + 1):
        training = joined([set_rows(training_set, network) for training_set in training_sets])
        print(f"round {round_}: learning from {len(training.features)} candidate notes of "
              f"{len(np.unique(training.reading))} readings ...", flush=True)
        arrays = train(training)
        network = network_from(arrays)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)
    print(f"wrote {args.out}")
    result = check(network, set_rows(chorales.build_set("train", args.check_seed), network))
    print(f"checked on seed {args.check_seed} ({result.pop('readings')} readings): "
          + ", ".join(f"{name} {100 * share:.1f} %" for name, share in result.items()))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
