"""The accuracy benchmark's own correctness: its test-set generator and its hit matching.

The generator tests build a tiny set (two conditions, a few clips) and check that the ground
truth describes the audio: occurrences inside their clip, the theme's notes sounding at the
times and pitches the truth gives, and the same seed giving the same set. The matching tests
score hand-made detections whose right answer is known.
"""

from __future__ import annotations

import shutil

import librosa
import numpy as np
import pytest

from benchmarks.accuracy import ConditionSummary, match, summarize, targets_met
from benchmarks.data import ARTICULATION, SAMPLE_RATE, Clip, Occurrence, Size, build_set, choose_themes, load_tunes
from detector.events import Detection

TINY = Size("tiny", n_themes=3, n_distractor_tunes=20, clips_per_condition=1, occurrences_per_clip=2,
            no_theme_clips=0, no_theme_clip_s=0.0)
CONDITIONS = ("clean", "hummed")
HOP = 256  # samples between pitch frames when checking the audio


@pytest.fixture(scope="module")
def cache_dirs(tmp_path_factory):
    """Two cache folders; the second gets the first's parsed melodies, not its audio."""
    return tmp_path_factory.mktemp("cache_a"), tmp_path_factory.mktemp("cache_b")


@pytest.fixture(scope="module")
def tiny_set(cache_dirs):
    return build_set(TINY, seed=7, conditions=CONDITIONS, cache_dir=cache_dirs[0], progress=False)


def _occurrences(tiny_set):
    return [(clip, occurrence) for clip in tiny_set.clips for occurrence in clip.occurrences]


@pytest.mark.slow
def test_every_condition_gets_its_clips_and_occurrences(tiny_set):
    assert sorted(clip.condition for clip in tiny_set.clips) == sorted(CONDITIONS)
    assert all(len(clip.occurrences) == TINY.occurrences_per_clip for clip in tiny_set.clips)
    theme_names = {theme.name for theme in tiny_set.themes}
    assert len(theme_names) == TINY.n_themes
    assert {occurrence.theme for _, occurrence in _occurrences(tiny_set)} <= theme_names


@pytest.mark.slow
def test_occurrences_lie_inside_the_clip_in_order_and_last_as_long_as_the_theme(tiny_set):
    themes = {theme.name: theme for theme in tiny_set.themes}
    for clip in tiny_set.clips:
        assert len(clip.load_audio()) == pytest.approx(clip.duration_s * SAMPLE_RATE, abs=1)
        previous_end_s = 0.0
        for occurrence in clip.occurrences:
            assert previous_end_s < occurrence.start_s < occurrence.end_s < clip.duration_s - 1.0
            theme = themes[occurrence.theme]
            last = theme.notes[-1]
            played_s = (last.onset_s + last.duration_s * ARTICULATION) / occurrence.tempo
            assert occurrence.end_s - occurrence.start_s == pytest.approx(played_s, abs=2e-3)
            previous_end_s = occurrence.end_s


@pytest.mark.slow
def test_the_audio_plays_each_theme_note_at_the_time_and_pitch_the_truth_gives(tiny_set):
    themes = {theme.name: theme for theme in tiny_set.themes}
    for clip in tiny_set.clips:
        audio = clip.load_audio()
        f0_hz = librosa.yin(audio, fmin=60.0, fmax=2000.0, sr=SAMPLE_RATE, frame_length=2048, hop_length=HOP)
        frame_times_s = librosa.frames_to_time(np.arange(len(f0_hz)), sr=SAMPLE_RATE, hop_length=HOP)
        for occurrence in clip.occurrences:
            window = audio[int(occurrence.start_s * SAMPLE_RATE):int(occurrence.end_s * SAMPLE_RATE)]
            assert np.sqrt(np.mean(window**2)) > 0.05 * np.max(np.abs(audio)), "the theme must be audible"
            errors = []
            for note in themes[occurrence.theme].notes:
                centre_s = occurrence.start_s + (note.onset_s + 0.5 * note.duration_s * ARTICULATION) / occurrence.tempo
                near = np.abs(frame_times_s - centre_s) <= 0.25 * note.duration_s / occurrence.tempo
                heard = librosa.hz_to_midi(np.median(f0_hz[near]))
                errors.append(abs(heard - (note.pitch + occurrence.transpose)))
            # YIN may slip an octave on a note or two; the rest must sit within the voice's drift.
            assert np.mean(np.array(errors) < 0.6) >= 0.8, (clip.name, occurrence.theme, np.round(errors, 2))


@pytest.mark.slow
def test_the_same_seed_gives_the_same_set(tiny_set, cache_dirs):
    shutil.copytree(cache_dirs[0] / "melodies", cache_dirs[1] / "melodies")
    again = build_set(TINY, seed=7, conditions=CONDITIONS, cache_dir=cache_dirs[1], progress=False)
    assert again.directory != tiny_set.directory
    assert again.themes == tiny_set.themes
    for clip, clip_again in zip(tiny_set.clips, again.clips, strict=True):
        assert clip_again.occurrences == clip.occurrences
        assert clip_again.settings == clip.settings
        np.testing.assert_array_equal(clip_again.load_audio(), clip.load_audio())


@pytest.mark.slow
def test_distractor_songs_share_no_title_or_run_of_six_pitch_changes_with_a_theme(cache_dirs, tiny_set):
    tunes = load_tunes(40, cache_dirs[0])
    themes, distractors = choose_themes(tunes, 8, np.random.default_rng(3))
    assert len(themes) == 8 and len(distractors) >= 20
    theme_titles = {theme.name.rsplit(" [", 1)[0].casefold() for theme in themes}
    assert not theme_titles & {tune.title.casefold() for tune in distractors}
    theme_runs = [run for theme in themes for run in _runs(_changes([note.pitch for note in theme.notes]), 6)]
    for tune in distractors:
        song = _changes([pitch for pitch, _, _ in tune.notes])
        assert not set(theme_runs) & set(_runs(song, 6)), tune.title


def _changes(pitches):
    """Pitch changes in semitones, repeated notes left out."""
    return [int(b - a) for a, b in zip(pitches, pitches[1:]) if b != a]


def _runs(sequence, length):
    return [tuple(sequence[i:i + length]) for i in range(len(sequence) - length + 1)]


# --- hit matching on hand-made detections --------------------------------------------------------


def _occurrence(theme="A", start_s=10.0, end_s=14.0):
    return Occurrence(theme=theme, start_s=start_s, end_s=end_s, transpose=0, tempo=1.0, n_notes=12)


def _detection(theme="A", time_s=12.0):
    return Detection(theme=theme, time_s=time_s, start_s=time_s - 2.0, end_s=time_s, score=0.9, transpose=0,
                     tempo=1.0)


@pytest.mark.parametrize("time_s", [10.0, 12.0, 14.0, 15.0])
def test_a_detection_of_the_right_theme_from_start_to_one_second_after_the_end_is_a_hit(time_s):
    score = match([_detection(time_s=time_s)], [_occurrence()])
    assert len(score.hits) == 1 and not score.false_positives and not score.misses


@pytest.mark.parametrize("time_s", [9.99, 15.01])
def test_a_detection_outside_the_window_is_a_false_positive_and_the_occurrence_a_miss(time_s):
    score = match([_detection(time_s=time_s)], [_occurrence()])
    assert not score.hits and len(score.false_positives) == 1 and len(score.misses) == 1


def test_naming_the_wrong_theme_is_a_false_positive_and_a_miss():
    score = match([_detection(theme="B")], [_occurrence(theme="A")])
    assert not score.hits and len(score.false_positives) == 1 and len(score.misses) == 1


def test_a_second_announcement_of_one_occurrence_is_a_false_positive():
    first, second = _detection(time_s=12.0), _detection(time_s=13.5)
    score = match([second, first], [_occurrence()])
    assert score.hits == ((_occurrence(), first),)
    assert score.false_positives == (second,)


def test_two_occurrences_of_one_theme_take_one_hit_each():
    early, late = _occurrence(start_s=10.0, end_s=14.0), _occurrence(start_s=14.5, end_s=18.0)
    detections = [_detection(time_s=14.8), _detection(time_s=17.0)]
    score = match(detections, [early, late])
    assert [occurrence for occurrence, _ in score.hits] == [early, late]
    assert not score.false_positives and not score.misses


def _clip(occurrences, duration_s=60.0, condition="clean"):
    return Clip(name="c", condition=condition, audio_path=None, duration_s=duration_s, occurrences=tuple(occurrences))


def test_summary_counts_precision_recall_f1_and_latencies():
    occurrences = [_occurrence("A", 10.0, 14.0), _occurrence("B", 20.0, 24.0), _occurrence("C", 30.0, 34.0)]
    detections = [_detection("A", 12.0), _detection("B", 25.0), _detection("D", 40.0)]
    clip = _clip(occurrences, duration_s=3600.0)
    summary = summarize("clean", [clip], [match(detections, occurrences)])
    assert (summary.hits, summary.false_positives, summary.misses) == (2, 1, 1)
    assert summary.precision == pytest.approx(2 / 3) and summary.recall == pytest.approx(2 / 3)
    assert summary.f1 == pytest.approx(2 / 3)
    assert summary.latency_from_start_median_s == pytest.approx(3.5)  # median of 2 and 5
    assert summary.latency_from_end_median_s == pytest.approx(-0.5)  # median of -2 and +1
    assert summary.false_alarms_per_hour == pytest.approx(1.0)


def test_false_positives_over_an_occurrence_are_told_from_those_between_the_themes():
    """A false positive heard over an occurrence (another theme's, or the same one announced
    twice) is a similar theme or a double event; one between the occurrences matched other
    music. The summary counts the first kind apart."""
    occurrences = [_occurrence("A", 10.0, 14.0), _occurrence("B", 30.0, 34.0)]
    detections = [_detection("A", 12.0), _detection("A", 14.5),  # a hit, then a second event
                  _detection("C", 33.0),  # another theme, over B's occurrence
                  _detection("D", 22.0),  # heard from 20 s to 22 s: between the two
                  _detection("B", 33.5)]  # B's hit
    summary = summarize("clean", [_clip(occurrences)], [match(detections, occurrences)])
    assert (summary.hits, summary.false_positives) == (2, 3)
    assert summary.false_positives_on_occurrences == 2


def test_false_alarms_per_hour_on_clips_without_themes():
    clips = [_clip([], duration_s=900.0, condition="no_theme")] * 2
    scores = [match([_detection("A", 100.0)], []), match([], [])]
    summary = summarize("no_theme", clips, scores)
    assert summary.false_alarms_per_hour == pytest.approx(2.0)  # one in half an hour
    assert targets_met(summary) == {"false_alarms_per_hour": False}


def test_targets_are_met_only_at_or_above_the_issue_figures():
    def row(condition, f1, end_median_s):
        return ConditionSummary(condition, 1, 60.0, 10, 9, 0, 0, 1, 1.0, 0.9, f1, 1.0, 2.0, end_median_s, 0.0,
                                0.0)

    assert targets_met(row("clean", 0.95, -0.1)) == {"f1": True, "announce_before_end": True}
    assert targets_met(row("clean", 0.949, 0.1)) == {"f1": False, "announce_before_end": False}
    assert targets_met(row("accompaniment", 0.85, -1.0))["f1"]
    assert targets_met(row("partial", 0.5, 0.3)) == {}
