"""Ensembles: a theme in the top voice over chords and bass, or in the bass, and the mode choice."""

from typing import NamedTuple

import numpy as np
import pytest

from detector.auto_mode import choose_ensemble, new_auto_state, repeats_yin
from detector.demo import perform
from detector.engine import Detector
from detector.events import Detection
from detector.notes import Note, hz_to_midi
from detector.pitch import PitchTracker
from detector.salience import MelodyTracker
from detector.solo_branch import JOIN_AFTER_S
from detector.synth import render_notes

from conftest import BEAT_S, SAMPLE_RATE, accompanied, mixed, progression


def in_the_bass(theme) -> tuple[np.ndarray, list[Note]]:
    """The theme two octaves down on strings, under triads (organ) and a descant (flute),
    every part as loud: the audio and the theme's notes as played."""
    bass = perform(theme, 0.5, -24, 1.0)
    chords, descant = [], []
    for t, root in progression(60, bass[-1].end_s):
        chords += [Note(root + step, t, 2 * BEAT_S) for step in (0, 4, 7)]
        descant += [Note(root + 16, t, BEAT_S), Note(root + 19, t + BEAT_S, BEAT_S)]
    return mixed(render_notes(bass, SAMPLE_RATE, "strings", level=0.3),
                 render_notes(chords, SAMPLE_RATE, "organ", level=0.3),
                 render_notes(descant, SAMPLE_RATE, "flute", level=0.3)), bass


def share_on(notes: list[Note], tracker: MelodyTracker, n: int, f0_hz: np.ndarray, voiced: np.ndarray) -> float:
    """The share of the notes' frames (past their first 50 ms) where a line is voiced on them."""
    times = tracker.frame_times_s(n)
    played = np.full(n, np.nan)
    for note in notes:
        played[(times >= note.onset_s + 0.05) & (times < note.end_s)] = note.pitch
    heard = voiced[:n] & (np.abs(hz_to_midi(np.maximum(f0_hz[:n], 1.0)) - played) < 0.5)
    return heard[~np.isnan(played)].mean()


class Run(NamedTuple):
    found: list[Detection]
    ensemble_share: float   # of the blocks whose last frame was read as an ensemble
    theme_score: np.ndarray  # the display's, at the end


def run(themes, audio, mode, block: int = 2048) -> Run:
    """A fresh Detector in `mode` over the audio in blocks."""
    detector = Detector(themes, SAMPLE_RATE, mode=mode, warm_up=False)
    found, ensemble_frames, frames = [], 0, 0
    for start in range(0, len(audio), block):
        found += detector.process(audio[start:start + block])
        ensemble_frames += detector.display.ensemble
        frames += 1
    return Run(found, ensemble_frames / frames, detector.display.theme_score.copy())


@pytest.mark.parametrize("mode", ["ensemble", "auto"])
def test_theme_in_the_top_voice_over_chords_and_bass_is_found(themes, theme_named, mode):
    audio, start_s, end_s = accompanied(theme_named("Ode to Joy"), transpose=2)
    found = run(themes, audio, mode).found
    assert [(d.theme, d.transpose) for d in found] == [("Ode to Joy", 2)]
    assert start_s < found[0].time_s < end_s + 1.0


def test_the_top_line_follows_a_tune_under_louder_accompaniment(themes, theme_named):
    """Chords and bass half again as loud as the tune: the most salient line is often theirs,
    the top line mostly the tune's; and the theme is found."""
    theme = theme_named("Ode to Joy")
    audio, _, _ = accompanied(theme, accompaniment_level=0.45)
    tracker = MelodyTracker(SAMPLE_RATE)
    n = tracker.process(audio)
    tune = perform(theme, 0.5, 0, 1.0)
    row = tracker.line_names.index("top line")
    top = share_on(tune, tracker, n, tracker.line_f0_hz[row], tracker.line_voiced[row])
    predominant = share_on(tune, tracker, n, tracker.f0_hz, tracker.voiced)
    assert top >= 0.6 and top > predominant + 0.15, (top, predominant)
    found = run(themes, audio, "ensemble").found
    assert [d.theme for d in found] == ["Ode to Joy"]


def test_the_notes_heard_in_each_frame_hold_the_tune_where_the_top_line_loses_it(theme_named):
    """Chords and bass twice as loud as the tune: the notes the tracker hears in a frame
    (`chord_f0_hz`, which the matcher may take for a line's) hold the tune in over half its
    frames, 20 points more than the top line follows it."""
    theme = theme_named("Ode to Joy")
    audio, _, _ = accompanied(theme, accompaniment_level=0.6)
    tracker = MelodyTracker(SAMPLE_RATE)
    n = tracker.process(audio)
    tune = perform(theme, 0.5, 0, 1.0)
    # Per frame, the heard note nearest the tune's: on it wherever the tune is among them.
    times = tracker.frame_times_s(n)
    nearest_to_tune = np.zeros(n)
    for note in tune:
        frames = np.flatnonzero((times >= note.onset_s) & (times < note.end_s))
        heard = tracker.chord_f0_hz[:, frames]
        off = np.abs(hz_to_midi(np.maximum(heard, 1.0)) - note.pitch)
        nearest_to_tune[frames] = heard[np.argmin(off, axis=0), np.arange(frames.size)]
    in_chord = share_on(tune, tracker, n, nearest_to_tune, np.ones(n, dtype=bool))
    row = tracker.line_names.index("top line")
    top = share_on(tune, tracker, n, tracker.line_f0_hz[row], tracker.line_voiced[row])
    assert in_chord >= 0.55 and in_chord >= top + 0.2, (in_chord, top)


def test_a_line_tells_its_repeated_notes_apart_by_its_own_level():
    """A held A5, a triad entering under it, then four A5s played legato: the top line's
    level (the power at its harmonics) dips and rises at each re-attack, so its segmenter, as
    the engine builds it, announces every repeat (on the mixture's level it announces only the
    first note), and neither the entry nor an onset's own rise through the frame's window and
    the salience's hold splits a note (a re-attack looked for from the note's sixth frame, or
    its eighth, splits the first)."""
    tune = [Note(81, 0.5, 2.0)] + [Note(81, 2.5 + 0.5 * k, 0.5) for k in range(4)]
    triad = [Note(pitch, 1.25, 3.25) for pitch in (55, 64, 72)]
    audio = mixed(render_notes(tune, SAMPLE_RATE, "flute", level=0.3, legato=1.0),
                  render_notes(triad, SAMPLE_RATE, "organ", level=0.3))
    detector = Detector([], SAMPLE_RATE, mode="ensemble", warm_up=False)
    tracker = detector.tracker
    n = tracker.process(audio)
    row = tracker.line_names.index("top line")
    segmenter = detector.lines[row].segmenter
    n_notes = segmenter.process(tracker.line_f0_hz[row], tracker.line_voiced[row],
                                tracker.line_level_db[row], tracker.end_sample, n)
    assert segmenter.pitch[:n_notes] == pytest.approx([81.0] * 5, abs=0.3)
    assert segmenter.onset_s[:n_notes] == pytest.approx([0.5, 2.5, 3.0, 3.5, 4.0], abs=0.05)


def test_the_bass_line_follows_a_theme_in_the_bass(themes, theme_named):
    """A theme in the bass under chords and a descant as loud: the bass line is on it at least
    70 % of the time, 30 points more than the predominant and top lines; and the theme is
    found, two octaves down."""
    audio, played = in_the_bass(theme_named("Ode to Joy"))
    tracker = MelodyTracker(SAMPLE_RATE)
    n = tracker.process(audio)
    bass_row, top_row = (tracker.line_names.index(name) for name in ("bass line", "top line"))
    bass = share_on(played, tracker, n, tracker.line_f0_hz[bass_row], tracker.line_voiced[bass_row])
    predominant = share_on(played, tracker, n, tracker.f0_hz, tracker.voiced)
    top = share_on(played, tracker, n, tracker.line_f0_hz[top_row], tracker.line_voiced[top_row])
    assert bass >= 0.7 and bass > max(predominant, top) + 0.3, (bass, predominant, top)
    found = run(themes, audio, "ensemble").found
    assert [(d.theme, d.transpose) for d in found] == [("Ode to Joy", -24)]


@pytest.mark.parametrize("bass_pitch", [40, 45])
def test_the_bass_line_reads_a_bass_doubled_an_octave_up_not_the_doubling(bass_pitch):
    """A bass (oboe: its second partial louder than its first) doubled an octave up by a flute,
    under a sustained interval: the doubling gathers the bass's even partials and is found
    first would leave the bass its odd ones only, and the bass line would read the doubling. A
    note an octave under the one chosen, with half its salience or more, is taken out first."""
    bass = [Note(bass_pitch + (0, 2, 4, 5)[k % 4], 0.5 + 0.5 * k, 0.5) for k in range(8)]
    doubling = [Note(note.pitch + 12, note.onset_s, note.duration_s) for note in bass]
    interval = [Note(bass_pitch + 16 + step, 0.5, 4.0) for step in (0, 3)]
    audio = mixed(render_notes(bass, SAMPLE_RATE, "oboe", level=0.3),
                  render_notes(doubling, SAMPLE_RATE, "flute", level=0.3),
                  render_notes(interval, SAMPLE_RATE, "flute", level=0.3))
    tracker = MelodyTracker(SAMPLE_RATE)
    n = tracker.process(audio)
    row = tracker.line_names.index("bass line")
    f0_hz, voiced = tracker.line_f0_hz[row], tracker.line_voiced[row]
    assert share_on(bass, tracker, n, f0_hz, voiced) > 0.8
    assert share_on(doubling, tracker, n, f0_hz, voiced) < 0.1


@pytest.mark.parametrize("mode", ["ensemble", "auto"])
def test_same_events_and_scores_whatever_the_block_size(themes, theme_named, mode):
    """Every line's notes meet the others' (a note of one may stand for another's) in the order
    they were announced, not block by block, and auto mode's solo branch forks and joins
    before the note that calls for it: the result cannot depend on the block size."""
    theme = theme_named("Ode to Joy")
    solo = render_notes(perform(theme, 0.5, 2, 1.0), SAMPLE_RATE, "flute")
    audio = np.concatenate([solo, accompanied(theme, transpose=2)[0], solo])
    runs = [run(themes, audio, mode, block) for block in (256, 4096, 1 << 16)]
    assert runs[0].found, "the theme is found"
    for other in runs[1:]:
        assert other.found == runs[0].found
        np.testing.assert_array_equal(other.theme_score, runs[0].theme_score)


def test_auto_mode_switches_to_ensemble_under_accompaniment_only(themes, theme_named):
    theme = theme_named("Greensleeves")
    share_accompanied = run(themes, accompanied(theme)[0], "auto").ensemble_share
    solo = render_notes(perform(theme, 0.5, 0, 1.0), SAMPLE_RATE, "clarinet")
    found, share_solo, _ = run(themes, solo, "auto")
    assert share_solo < 0.05 and share_accompanied > 0.5
    assert [d.theme for d in found] == ["Greensleeves"]


@pytest.mark.parametrize("timbre", ["clarinet", "strings", "hum"])
def test_auto_mode_reads_a_solo_exactly_as_melody_mode_does(themes, theme_named, timbre):
    """No loss on solo audio in auto mode: where it reads a single line, its frames are
    PitchTracker's, value for value, so it finds what melody mode finds."""
    audio = render_notes(perform(theme_named("Ode to Joy"), 0.5, -7, 1.3), SAMPLE_RATE, timbre)
    yin, auto = PitchTracker(SAMPLE_RATE), MelodyTracker(SAMPLE_RATE, auto=True)
    n = yin.process(audio)
    assert auto.process(audio) == n
    solo = ~auto.ensemble[:n]
    assert solo.mean() > 0.95
    np.testing.assert_array_equal(auto.end_sample[:n], yin.end_sample[:n])
    for name in ("f0_hz", "voiced", "level_db"):
        np.testing.assert_array_equal(getattr(auto, name)[:n][solo], getattr(yin, name)[:n][solo])
        np.testing.assert_array_equal(getattr(auto, f"yin_{name}")[:n], getattr(yin, name)[:n])
    found = {mode: [(d.theme, d.time_s, d.score) for d in run(themes, audio, mode).found]
             for mode in ("melody", "auto")}
    assert found["auto"] == found["melody"] and found["melody"]


def test_where_auto_mode_reads_an_ensemble_its_solo_branch_reads_as_melody_mode(themes, theme_named):
    """Under accompaniment auto mode's main line follows the ensemble's melody, and its solo
    branch YIN's frames, value for value melody mode's. The branch is matched while the
    ensemble is heard, and joins the main line once the music has read as one line for
    JOIN_AFTER_S (the reading lags the music a little)."""
    theme = theme_named("Greensleeves")
    solo = render_notes(perform(theme, 0.5, 0, 1.0), SAMPLE_RATE, "clarinet")
    audio = np.concatenate([solo, accompanied(theme)[0], solo])
    yin, auto = PitchTracker(SAMPLE_RATE), MelodyTracker(SAMPLE_RATE, auto=True)
    n = yin.process(audio)
    assert auto.process(audio) == n and auto.ensemble[:n].mean() > 0.3
    for name in ("f0_hz", "voiced", "level_db"):
        np.testing.assert_array_equal(getattr(auto, f"yin_{name}")[:n], getattr(yin, name)[:n])

    detector, block = Detector(themes, SAMPLE_RATE, mode="auto", warm_up=False), 2048
    live = []
    for start in range(0, len(audio), block):
        detector.process(audio[start:start + block])
        live.append(detector.solo_branch.live)
    block_end_s = np.arange(1, len(live) + 1) * block / SAMPLE_RATE
    solo_s, accompanied_s = len(solo) / SAMPLE_RATE, (len(audio) - len(solo)) / SAMPLE_RATE
    live = np.array(live)
    assert not live[block_end_s < solo_s].any()
    assert live[(block_end_s > solo_s + 1.0) & (block_end_s < accompanied_s - 0.5)].mean() > 0.9
    # Joined at the first note announced JOIN_AFTER_S after the last frame read as an ensemble
    # (a note is announced 160 ms after its onset; a block is 46 ms).
    last_ensemble_s = auto.end_sample[:n][auto.ensemble[:n]][-1] / SAMPLE_RATE
    assert last_ensemble_s > accompanied_s and live[block_end_s > last_ensemble_s].any()
    onsets_s = [accompanied_s + note.onset_s for note in perform(theme, 0.5, 0, 1.0)]
    joined_s = min(t for t in onsets_s if t > last_ensemble_s + JOIN_AFTER_S) + 0.25
    assert not live[block_end_s > joined_s].any()


def test_auto_mode_reads_one_line_while_the_ensembles_melody_only_repeats_yin():
    """A solo that passed for an ensemble is read as one line while the salience's melody is
    YIN's pitch; one a fifth away from it turns the reading to the ensemble within a tenth of
    a second; frames where either is unvoiced change nothing; and once the music sounds like
    a single line again, the next ensemble starts trusted as one line."""
    state = new_auto_state()
    assert all(repeats_yin(state, 440.0, True, 441.0, True) for _ in range(200))
    verdicts = [repeats_yin(state, 660.0, True, 440.0, True) for _ in range(20)]
    assert verdicts[0] and not verdicts[-1] and verdicts.index(False) < 10
    assert not any(repeats_yin(state, 440.0, voiced, 440.0, not voiced)
               for voiced in (True, False) for _ in range(100))
    assert not choose_ensemble(state, 0.99, -20.0, 100.0)
    assert repeats_yin(state, 660.0, True, 440.0, True)


def test_melody_mode_alone_cannot_follow_the_mixture(themes, theme_named):
    """Why ensemble mode exists: the single-line tracker misses the accompanied theme."""
    audio, _, _ = accompanied(theme_named("Ode to Joy"), transpose=2)
    found = run(themes, audio, "melody").found
    assert ("Ode to Joy", 2) not in [(d.theme, d.transpose) for d in found]


def test_unknown_mode_is_refused(themes):
    with pytest.raises(ValueError, match="mode must be one of auto, melody, ensemble"):
        Detector(themes, SAMPLE_RATE, mode="orchestra")

