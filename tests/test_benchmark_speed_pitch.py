"""Smoke tests of benchmarks.pitch and benchmarks.speed on tiny inputs, and of their metric
plumbing. They check what is computed, never how fast."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from benchmarks import pitch, speed
from benchmarks.melodies import melody, random_themes, with_chords
from detector.harmony import HarmonyMatcher

pytestmark = pytest.mark.slow

#: Two notes, legato (A4 then A5), then a rest: (midi pitch, onset_s, duration_s).
NOTES = ((69, 0.1, 0.2), (81, 0.3, 0.1))
RELEASE_S = 0.05
#: Frame times in the middle of 10 ms cells, so no time sits on a note boundary.
TIMES = np.arange(0.005, 0.6, 0.01)


def _clip(notes=NOTES, seconds: float = 0.6) -> pitch.Clip:
    instrument = pitch.Instrument("test", 0, 60, 90, RELEASE_S)
    silence = np.zeros(int(seconds * pitch.SAMPLE_RATE), np.float32)
    return pitch.Clip(instrument, pitch.CONDITIONS[0], silence, tuple(notes))


def _estimate(scale: float) -> pitch.Estimate:
    """The ground truth on a 5 ms grid, every frequency multiplied by scale."""
    times = np.arange(0.0, 0.6, 0.005)
    f0, _ = pitch.reference_f0(NOTES, RELEASE_S, times)
    return pitch.Estimate(times, f0 * scale, f0 > 0)


def test_reference_f0_puts_each_note_frequency_on_its_frames():
    f0, scored = pitch.reference_f0(NOTES, RELEASE_S, TIMES)
    first, second = (TIMES >= 0.1) & (TIMES < 0.3), (TIMES >= 0.3) & (TIMES < 0.4)
    np.testing.assert_allclose(f0, np.where(first, 440.0, np.where(second, 880.0, 0.0)))
    attack = ((TIMES >= 0.1) & (TIMES < 0.13)) | ((TIMES >= 0.3) & (TIMES < 0.33))
    release = (TIMES >= 0.4) & (TIMES < 0.45)
    np.testing.assert_array_equal(scored, ~(attack | release))


def test_onset_age_counts_from_each_held_note_onset():
    age = pitch.onset_age(NOTES, np.array([0.05, 0.105, 0.295, 0.305, 0.45]))
    np.testing.assert_allclose(age, [np.nan, 0.005, 0.195, 0.005, np.nan])


def test_perfect_estimate_scores_full_marks():
    metrics = pitch.melody_metrics([pitch.scored_frames(_clip(), _estimate(1.0))])
    by_age = metrics.pop("raw_pitch_accuracy_by_onset_age")
    assert metrics == pytest.approx({"raw_pitch_accuracy": 1.0, "raw_chroma_accuracy": 1.0,
                                     "voicing_recall": 1.0, "voicing_false_alarm": 0.0})
    assert by_age == {"30-100 ms": 1.0, "100-200 ms": 1.0, ">= 200 ms": None}  # no note lasts 200 ms


def test_octave_error_costs_pitch_accuracy_but_not_chroma():
    metrics = pitch.melody_metrics([pitch.scored_frames(_clip(), _estimate(2.0))])
    assert metrics["raw_pitch_accuracy"] == 0.0
    assert metrics["raw_chroma_accuracy"] == 1.0


def test_wrong_intervals_name_the_mistake_in_semitones_from_the_note():
    frames = [pitch.scored_frames(_clip(), _estimate(3.0))]  # the third partial: a twelfth up
    assert pitch.wrong_intervals(frames) == {"no pitch": 0.0, "+19": 1.0}
    assert pitch.wrong_intervals([pitch.scored_frames(_clip(), _estimate(1.0))]) == {"no pitch": 0.0}
    # Each clip's frames count once: half the melody frames without pitch, half an octave down.
    silent = pitch.scored_frames(_clip(), _estimate(0.0))
    assert pitch.wrong_intervals([silent, pitch.scored_frames(_clip(), _estimate(0.5))]) == \
        {"no pitch": 0.5, "-12": 0.5}


def test_noise_is_added_at_the_asked_snr():
    clip = _clip(notes=((69, 0.0, 1.0),), seconds=1.0)
    t = np.arange(clip.audio.shape[0]) / pitch.SAMPLE_RATE
    clip = replace(clip, audio=(0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    noisy = pitch.with_noise(clip, 10.0, np.random.default_rng(0))
    noise = noisy.audio.astype(np.float64) - clip.audio
    snr_db = 10 * np.log10(np.mean(clip.audio.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert snr_db == pytest.approx(10.0, abs=0.1)
    assert noisy.condition == pitch.CONDITIONS[1]


def test_melodies_stay_in_range_and_themes_are_reproducible():
    notes = melody(np.random.default_rng(0), 200, 40, 50, rest_probability=0.2)
    assert all(40 <= p <= 50 for p, _, _ in notes)
    onsets = [onset for _, onset, _ in notes]
    assert onsets == sorted(onsets) and onsets[0] == 0.0
    assert random_themes(5)[:3] == random_themes(3)
    assert all(8 <= len(theme.notes) <= 20 for theme in random_themes(20))


def test_chords_under_random_themes_give_them_a_harmony_the_harmony_path_matches():
    themes = random_themes(20)
    harmonised = [with_chords(theme) for theme in themes]
    assert [theme.notes for theme in harmonised] == [theme.notes for theme in themes]
    assert all(len(theme.harmony) > 2 * len(theme.notes) for theme in harmonised)
    assert HarmonyMatcher(harmonised, 0.1).n_themes >= 18  # a theme needs two chord changes


FLUTE = next(instrument for instrument in pitch.INSTRUMENTS if instrument.name == "flute")


def test_pitch_benchmark_runs_on_a_tiny_input():
    clips = pitch.make_clips([FLUTE], 1.5)
    summary = pitch.run(clips)
    assert {"ours", "pyin", "yin"} <= summary["trackers"].keys()
    for result in summary["trackers"].values():
        for metrics in result["metrics"].values():
            fractions = [value for key, value in metrics.items() if key != "raw_pitch_accuracy_by_onset_age"]
            fractions += [v for v in metrics["raw_pitch_accuracy_by_onset_age"].values() if v is not None]
            assert all(0.0 <= value <= 1.0 for value in fractions)
    assert all(isinstance(t["met"], bool) for t in summary["targets"])
    assert "ours" in pitch.report(summary)


def test_pitch_benchmark_draws_other_melodies_for_another_seed_and_records_it(tmp_path):
    first, again, other = (pitch.make_clips([FLUTE], 1.5, seed) for seed in (1, 1, 2))
    assert [clip.notes for clip in again] == [clip.notes for clip in first]
    assert np.array_equal(again[1].audio, first[1].audio)  # the noise too
    assert other[0].notes != first[0].notes
    pitch.main(["--quick", "--seed", "2", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "pitch.json").read_text())["settings"]["seed"] == 2


def test_speed_benchmark_runs_on_a_tiny_input(tmp_path):
    summary = speed.run([2, 5], 2.0, 1, tmp_path)
    assert [h["themes"] for h in summary["per_hop"]] == [2, 5]
    hops = summary["per_hop"][0]
    assert hops["hops"] == int(summary["settings"]["audio_s"] * speed.SAMPLE_RATE) // speed.HOP_SAMPLES
    assert len(summary["startup"]["warm"]) == 1
    assert summary["budgets"][0]["met"] is None  # fewer than 10,000 themes: not judged
    assert (tmp_path / "scale.png").stat().st_size > 0
    assert "offline scan" in speed.report(summary)
    assert summary["with_harmony"]["per_hop"]["themes"] == 5
    # Budgets for more themes than were run are not judged.
    harmony_budgets = [budget for budget in summary["budgets"] if "harmony" in budget["budget"]]
    assert len(harmony_budgets) == 2
    assert all(budget["met"] is None for budget in harmony_budgets)


def test_memory_is_measured_in_a_fresh_process():
    audio = np.zeros(speed.SAMPLE_RATE // 2, dtype=np.float32)
    memory = speed.peak_memory([3], audio)["3"]
    assert memory["peak_mib"] > memory["over_imports_mib"] > 0
