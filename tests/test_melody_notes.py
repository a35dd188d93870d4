"""The network that picks the melody among a frame's notes: how it is learnt, shipped and run."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import chorales, melody_notes
from detector.frame_notes import N_CANDIDATES
from detector.note_choice import (NETWORK_FILE, NOTE_FEATURES, N_NOTE_FEATURES, choose_melody_note, load_network,
                                  NoteChooser)
from test_benchmark_ensemble import TINY

HIGHEST = NOTE_FEATURES.index("highest note taken out")
PITCH = NOTE_FEATURES.index("pitch (octaves above 220 Hz)")


def readings_where_the_melody_is_the_highest_note(n_readings: int, seed: int) -> melody_notes.NoteRows:
    """Rows of readings of 2-6 candidate notes with random features, the melody the highest."""
    rng = np.random.default_rng(seed)
    features, is_melody, reading = [], [], []
    for k in range(n_readings):
        n = int(rng.integers(2, 7))
        rows = rng.normal(size=(n, N_NOTE_FEATURES))
        rows[:, HIGHEST] = rows[:, PITCH] == rows[:, PITCH].max()
        features.append(rows)
        is_melody.append(rows[:, HIGHEST] > 0)
        reading.append(np.full(n, k))
    return melody_notes.NoteRows(np.concatenate(features), np.concatenate(is_melody), np.concatenate(reading))


def test_a_learnt_network_written_and_read_back_chooses_in_the_tracker_as_it_learnt(tmp_path):
    """Learnt from rows whose melody is their reading's highest note, written as the detector
    ships it and read back, the network the tracker's kernel runs scores every row as numpy
    does and chooses the highest note in new readings."""
    arrays = melody_notes.train(readings_where_the_melody_is_the_highest_note(2000, seed=0), hidden_layers=(8, 4))
    path = tmp_path / NETWORK_FILE
    np.savez(path, **arrays)
    chooser = NoteChooser(load_network(path))
    held_out = readings_where_the_melody_is_the_highest_note(200, seed=1)
    chosen_right = []
    for k in range(200):
        rows = held_out.features[held_out.reading == k]
        candidates = np.zeros((4, N_CANDIDATES))
        candidates[0, :len(rows)] = 100 + 10 * np.arange(len(rows))  # each row a bin of its own
        candidates[1, :len(rows)] = 1.0
        chooser.features[:len(rows)] = rows
        chosen = choose_melody_note(candidates, chooser.features, chooser.network, chooser.hidden)
        expected = int(np.argmax(melody_notes.logits(chooser.network, rows)))
        assert chosen == candidates[0, expected]
        chosen_right.append(held_out.is_melody[held_out.reading == k][expected])
    assert np.mean(chosen_right) > 0.95


def test_a_network_that_reads_other_features_is_refused_with_the_command_that_trains_it(tmp_path):
    arrays = melody_notes.train(readings_where_the_melody_is_the_highest_note(300, seed=0), hidden_layers=(4, 4))
    arrays["feature_names"] = arrays["feature_names"][:-1]
    path = tmp_path / NETWORK_FILE
    np.savez(path, **arrays)
    refused = r"melody_notes.npz: the network reads other features.*benchmarks.melody_notes"
    with pytest.raises(ValueError, match=refused):
        load_network(path)


@pytest.fixture(scope="module")
def tiny_rows(tmp_path_factory) -> melody_notes.NoteRows:
    """The candidate notes of a tiny chorale set (the benchmarks' chorales, not the training's)."""
    tiny_set = chorales.build_set(TINY, seed=3, cache_dir=tmp_path_factory.mktemp("chorale_cache"), progress=False)
    return melody_notes.set_rows(tiny_set, load_network())


@pytest.mark.slow
def test_the_melody_is_among_a_reading_s_candidates_and_the_shipped_network_mostly_chooses_it(tiny_rows):
    """The salience's maxima hold the melody's note in nearly every reading of four-part
    chorales; the shipped network chooses it far more often than the predominant line, which
    follows whichever voice is loudest."""
    check = melody_notes.check(load_network(), tiny_rows)
    assert check["melody among the candidates"] > 0.9
    assert check["chosen by the network"] > 0.75
    assert check["chosen by the network"] > check["on the predominant line"] + 0.1
