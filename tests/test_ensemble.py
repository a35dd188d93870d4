"""Ensembles: a theme in the top voice over chords and bass, and the mode choice."""

import numpy as np
import pytest

from detector.demo import perform
from detector.engine import Detector
from detector.notes import Note, hz_to_midi
from detector.salience import MelodyTracker
from detector.synth import render_notes

from conftest import SAMPLE_RATE

BEAT_S = 0.5


def accompanied(theme, transpose: int = 0, accompaniment_level: float = 0.3
                ) -> tuple[np.ndarray, float, float]:
    """The theme on a flute (level 0.3) over sustained triads (organ) and a bass line
    (strings): YIN cannot read a single period out of this mixture."""
    melody = perform(theme, 0.5, transpose, 1.0)
    end_s = melody[-1].end_s
    chords, bass = [], []
    t, degree = 0.5, 0
    while t < end_s:
        root = 48 + transpose + [0, 5, 7, 0][degree % 4]
        chords += [Note(root + 12 + step, t, 2 * BEAT_S) for step in (0, 4, 7)]
        bass += [Note(root - 12, t, BEAT_S), Note(root - 5, t + BEAT_S, BEAT_S)]
        t += 2 * BEAT_S
        degree += 1
    parts = [render_notes(melody, SAMPLE_RATE, "flute", level=0.3),
             render_notes(chords, SAMPLE_RATE, "organ", level=accompaniment_level),
             render_notes(bass, SAMPLE_RATE, "strings", level=accompaniment_level)]
    mix = np.zeros(max(len(p) for p in parts) + SAMPLE_RATE, dtype=np.float32)
    for part in parts:
        mix[:len(part)] += part
    return mix, melody[0].onset_s, end_s


def run(themes, audio, mode):
    detector = Detector(themes, SAMPLE_RATE, mode=mode, warm_up=False)
    found, ensemble_frames, frames = [], 0, 0
    for start in range(0, len(audio), 2048):
        found += detector.process(audio[start:start + 2048])
        ensemble_frames += detector.display.ensemble
        frames += 1
    return found, ensemble_frames / frames


@pytest.mark.parametrize("mode", ["ensemble", "auto"])
def test_theme_in_the_top_voice_over_chords_and_bass_is_found(themes, theme_named, mode):
    audio, start_s, end_s = accompanied(theme_named("Ode to Joy"), transpose=2)
    found, _ = run(themes, audio, mode)
    assert [(d.theme, d.transpose) for d in found] == [("Ode to Joy", 2)]
    assert start_s < found[0].time_s < end_s + 1.0


def test_the_top_line_follows_a_tune_under_louder_accompaniment(themes, theme_named):
    """Chords and bass half again as loud as the tune: the most salient line is often theirs,
    the top line mostly the tune's; and the theme is found."""
    theme = theme_named("Ode to Joy")
    audio, _, _ = accompanied(theme, accompaniment_level=0.45)
    tracker = MelodyTracker(SAMPLE_RATE)
    n = tracker.process(audio)
    times = tracker.frame_times_s(n)
    tune = np.full(n, np.nan)
    for note in perform(theme, 0.5, 0, 1.0):
        tune[(times >= note.onset_s + 0.05) & (times < note.end_s)] = note.pitch

    def share_on_tune(f0_hz, voiced):
        heard = voiced[:n] & (np.abs(hz_to_midi(np.maximum(f0_hz[:n], 1.0)) - tune) < 0.5)
        return heard[~np.isnan(tune)].mean()

    top, predominant = share_on_tune(tracker.top_f0_hz, tracker.top_voiced), share_on_tune(tracker.f0_hz, tracker.voiced)
    assert top >= 0.6 and top > predominant + 0.15, (top, predominant)
    found, _ = run(themes, audio, "ensemble")
    assert [d.theme for d in found] == ["Ode to Joy"]


def test_auto_mode_switches_to_ensemble_under_accompaniment_only(themes, theme_named):
    theme = theme_named("Greensleeves")
    _, share_accompanied = run(themes, accompanied(theme)[0], "auto")
    solo = render_notes(perform(theme, 0.5, 0, 1.0), SAMPLE_RATE, "clarinet")
    found, share_solo = run(themes, solo, "auto")
    assert share_solo < 0.05 and share_accompanied > 0.5
    assert [d.theme for d in found] == ["Greensleeves"]


def test_melody_mode_alone_cannot_follow_the_mixture(themes, theme_named):
    """Why ensemble mode exists: the single-line tracker misses the accompanied theme."""
    audio, _, _ = accompanied(theme_named("Ode to Joy"), transpose=2)
    found, _ = run(themes, audio, "melody")
    assert ("Ode to Joy", 2) not in [(d.theme, d.transpose) for d in found]


def test_unknown_mode_is_refused(themes):
    with pytest.raises(ValueError, match="mode must be one of auto, melody, ensemble"):
        Detector(themes, SAMPLE_RATE, mode="orchestra")
