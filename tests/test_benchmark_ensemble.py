"""The ensemble benchmark's own correctness: its chorale set and how it scores.

A tiny set (one clip per condition) is generated and checked against its audio: each theme
occurrence is the theme, transposed and re-timed as the truth says, inside the clip's melody
line, and that line's notes sound in the rendered mixture. Distractor chorales never share a
theme's fingerprint in any voice. The scoring is checked on our own streaming tracker.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import chorales, ensemble
from benchmarks.data import SAMPLE_RATE, interval_runs
from detector.notes import midi_to_hz

TINY = chorales.ChoraleSize("tiny", n_themes=8, n_distractor_tunes=16, clips_per_condition=1,
                            occurrences_per_clip=2, no_theme_clips=1, no_theme_clip_s=12.0)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("chorale_cache")


@pytest.fixture(scope="module")
def tiny_set(cache_dir):
    return chorales.build_set(TINY, seed=3, cache_dir=cache_dir, progress=False)


@pytest.mark.slow
def test_each_condition_gets_a_clip_and_themes_come_from_the_voice_it_names(tiny_set):
    assert sorted(clip.condition for clip in tiny_set.clips) == sorted(chorales.CONDITION_NAMES)
    for clip in tiny_set.clips:
        voices = {chorales.VOICES[v] for v in chorales.THEME_VOICES[clip.condition]}
        for occurrence in clip.occurrences:
            assert occurrence.theme.rsplit(" ", 1)[1] in voices
        if clip.occurrences:
            assert set(clip.settings["melody_voices"]) <= voices
    assert not next(clip for clip in tiny_set.clips if clip.condition == "no_theme").occurrences


@pytest.mark.slow
def test_each_occurrence_is_its_theme_transposed_and_retimed_inside_the_melody_line(tiny_set):
    themes = {theme.name: theme for theme in tiny_set.themes}
    for clip in tiny_set.clips:
        melody = [tuple(note) for note in clip.settings["melody"]]
        for occurrence in clip.occurrences:
            assert 0.0 < occurrence.start_s < occurrence.end_s < clip.duration_s
            played = [note for note in melody if occurrence.start_s - 1e-3 <= note[1] < occurrence.end_s]
            theme = themes[occurrence.theme]
            assert [pitch for pitch, _, _ in played] == [note.pitch + occurrence.transpose for note in theme.notes]
            onsets_s = np.array([onset - occurrence.start_s for _, onset, _ in played])
            np.testing.assert_allclose(onsets_s * occurrence.tempo, [note.onset_s for note in theme.notes], atol=2e-3)


@pytest.mark.slow
def test_the_melody_line_sounds_in_the_mixture(tiny_set):
    """In the middle of every melody note, its fundamental, second or third harmonic is louder
    in the mixture than the same partial a semitone up and down (a truth off by a semitone fails)."""
    for clip in tiny_set.clips:
        audio = clip.load_audio()
        heard = []
        for pitch, onset_s, duration_s in clip.settings["melody"]:
            if duration_s < 0.2:
                continue
            centre = int((onset_s + 0.5 * duration_s) * SAMPLE_RATE)
            spectrum = np.abs(np.fft.rfft(audio[centre - WINDOW // 2:centre + WINDOW // 2] * np.hanning(WINDOW)))
            partials = pitch + 12 * np.log2([1, 2, 3])
            heard.append(any(_level(spectrum, p) > max(_level(spectrum, p - 1), _level(spectrum, p + 1))
                             for p in partials))
        # A low bass note's partials lie closer than the window resolves; a truth a semitone
        # off scores under 0.2 here.
        assert np.mean(heard) >= 0.85, clip.name


WINDOW = 8192


def _level(spectrum, pitch):
    """The spectrum's peak within a bin or two of the pitch's frequency."""
    centre = int(midi_to_hz(pitch) * WINDOW / SAMPLE_RATE)
    return spectrum[centre - 1:centre + 3].max()


@pytest.mark.slow
def test_no_voice_of_a_distractor_passage_shares_a_run_of_six_pitch_changes_with_a_theme(cache_dir, tiny_set):
    found = chorales.load_chorales(TINY.n_themes + TINY.n_distractor_tunes, cache_dir)
    themes, distractors = chorales.choose_themes(found, TINY, seed=3)
    theme_runs = set().union(*(interval_runs([note.pitch for note in source.theme.notes])
                               for pool in themes.values() for source in pool))
    assert theme_runs <= distractors.theme_runs  # every voice of a theme's opening counts
    passages = chorales.plan_clip([], distractors, 120.0, np.random.default_rng(0))
    assert len(passages) > 10
    for passage in passages:
        for voice in passage.voices:
            assert not interval_runs([pitch for pitch, *_ in voice]) & distractors.theme_runs
    # Whole chorales free of every theme's runs are few: the passages are drawn from passages
    # of many, checked one by one.
    assert any(interval_runs([pitch for pitch, _, _ in line]) & theme_runs
               for chorale in distractors.chorales for line in chorale.voices)


@pytest.mark.slow
def test_no_two_themes_share_a_run_in_any_voice_of_their_openings(cache_dir, tiny_set):
    found = chorales.load_chorales(TINY.n_themes + TINY.n_distractor_tunes, cache_dir)
    themes, _ = chorales.choose_themes(found, TINY, seed=3)
    openings = [chorales.opening_runs(source.chorale,
                                      chorales.end_q(source.chorale.voices[source.voice][:len(source.theme.notes)]))
                for pool in themes.values() for source in pool]
    assert len(openings) == TINY.n_themes
    for k, runs in enumerate(openings):
        assert runs
        for other in openings[k + 1:]:
            assert not runs & other


@pytest.mark.slow
def test_a_theme_carries_the_harmony_of_its_chorale_under_it_also_read_back(cache_dir, tiny_set):
    # The set as read back from set.json holds each theme's harmony as it was chosen.
    found = chorales.load_chorales(TINY.n_themes + TINY.n_distractor_tunes, cache_dir)
    chosen = [source.theme for pool in chorales.choose_themes(found, TINY, seed=3)[0].values() for source in pool]
    assert [(theme.name, [note.pitch for note in theme.harmony]) for theme in tiny_set.themes] == \
        [(theme.name, [note.pitch for note in theme.harmony]) for theme in chosen]
    for theme in tiny_set.themes:
        assert theme.harmony, theme.name
        # Every note of the theme sounds in its harmony, with the other voices' notes.
        assert set(theme.notes) <= set(theme.harmony)
        assert len(theme.harmony) > 2 * len(theme.notes)
        assert theme.harmony[-1].onset_s < theme.notes[-1].end_s


@pytest.mark.slow
def test_melody_accuracy_scores_our_streaming_tracker_per_condition(tiny_set):
    trackers = {"ours (ensemble)": ensemble.melody_trackers()[0]["ours (ensemble)"]}
    results = ensemble.pitch_accuracy(tiny_set, trackers)["ours (ensemble)"]
    assert set(results["by_condition"]) == set(chorales.CONDITION_NAMES)
    # Whichever voice the scoring brings out, the salience tracker follows it in most frames.
    assert results["pooled"]["raw_pitch_accuracy"] > 0.75
    # Each clip whose melody a solo instrument plays (all but the orchestra's) is scored under it too.
    led = [clip for clip in tiny_set.clips if clip.condition != "orchestra"]
    assert set(results["by_lead"]) == {f"{clip.condition}, {chorales.lead_instrument(clip)}" for clip in led}
    inner_voice = next(clip for clip in led if clip.condition == "inner_voice")  # its condition's one clip
    assert results["by_lead"][f"inner_voice, {chorales.lead_instrument(inner_voice)}"] == \
        results["by_condition"]["inner_voice"]
    assert all(chorales.lead_instrument(clip) is None for clip in tiny_set.clips if clip not in led)
    # What it heard instead, by condition and by lead: never more than the frames it got wrong.
    groups = {**results["by_condition"], **results["by_lead"]}
    assert set(results["wrong_intervals"]) == set(groups)
    for group, shares in results["wrong_intervals"].items():
        assert sum(shares.values()) <= 1.0 - groups[group]["raw_pitch_accuracy"] + 1e-9


@pytest.mark.slow
def test_headroom_is_no_worse_than_any_line_it_chooses_from(tiny_set):
    """The line best for each clip beats or equals each line, the line nearest the reference in
    each frame beats or equals that, and adding the frame's notes to the candidates can only
    raise it."""
    lines = ("ours (ensemble)", "ours (ensemble, top line)", "ours (ensemble, bass line)")
    trackers = ensemble.melody_trackers()[0]
    accuracy = ensemble.pitch_accuracy(tiny_set, {name: trackers[name] for name in lines})
    bound = ensemble.headroom(tiny_set)
    for condition in chorales.CONDITION_NAMES:
        per_clip = bound["best of its lines for the whole clip"]["by_condition"][condition]
        assert per_clip >= max(accuracy[name]["by_condition"][condition]["raw_pitch_accuracy"] for name in lines)
        of_lines = bound["best of its lines"]["by_condition"][condition]
        assert of_lines >= per_clip
        assert bound["best of the frame's notes"]["by_condition"][condition] >= of_lines
    assert bound["best of the frame's notes"]["pooled"] > bound["best of its lines"]["pooled"]


def test_targets_name_each_shortfall():
    results = {
        "melody_pitch": {"ours (auto)": {"pooled": {"raw_pitch_accuracy": 0.9}}},
        "cost": {"ensemble_over_melody": 2.5},
        "detection": {"auto": [{"condition": "top_voice", "n_occurrences": 4, "f1": 0.8},
                               {"condition": "no_theme", "n_occurrences": 0, "f1": 0.0}]},
        "with_harmony": {"detection": [{"condition": "top_voice", "n_occurrences": 4, "f1": 0.9},
                                       {"condition": "no_theme", "n_occurrences": 0, "f1": 0.0}]},
        "solo": {"0": {"f1": {"clean": {"melody": 1.0, "auto": 0.9}, "tempo": {"melody": 0.9, "auto": 0.95}}},
                 "1": {"f1": {"clean": {"melody": 0.9, "auto": 0.9}}}},
    }
    met = {target["target"]: target["met"] for target in ensemble.targets(results)}
    assert met == {
        "melody raw pitch accuracy on ensemble audio (auto, streaming)": True,
        "detection F1, top_voice (auto)": False,
        "detection F1, top_voice (auto, themes with harmony)": True,
        "ensemble mode's cost / melody mode's": False,
        "solo audio, seed 0: F1 lost in auto mode against melody mode": False,
        "solo audio, seed 1: F1 lost in auto mode against melody mode": True,
    }


@pytest.mark.slow
def test_auto_mode_reads_the_chorales_as_ensembles(tiny_set):
    """Four voices are an ensemble: auto mode reads nearly all of each theme condition's frames
    with salience (the share the benchmark reports beside the solo sets'). A held closing
    chord, consonant and so nearly periodic, and the silence after it read as one line: the
    tiny set's one short no-theme clip has a passage's end in a quarter of it. Where the
    theme is in the bass, YIN often hears it too, and the frames where the salience's melody
    only repeats YIN's pitch are YIN's (`auto_mode.repeats_yin`): a few more read as one line."""
    shares = ensemble.read_as_ensemble(tiny_set)
    assert set(shares) == set(chorales.CONDITION_NAMES)
    least = {"no_theme": 0.5, "bass": 0.8}
    for condition, share in shares.items():
        assert share > least.get(condition, 0.9), condition
