"""The embedded demo: built-in themes, and a performance that plays some of them in disguise.

The performance is generated, not recorded: each theme transposed, at another tempo, on
another timbre of the additive synthesiser, between passages of other music (seeded random
tonal melodies that are none of the themes). It needs no microphone and no download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.notes import Note
from detector.synth import render_notes
from detector.themes import Theme, load_themes

BUILTIN_THEMES = Path(__file__).parent / "data" / "themes"

#: (theme name, transpose semitones, tempo ratio, timbre): what the demo plays, in order.
PROGRAMME = (
    ("Ode to Joy", +3, 1.2, "clarinet"),
    ("In the Hall of the Mountain King", -5, 0.85, "strings"),
    ("Greensleeves", +2, 1.1, "flute"),
    ("Dies irae", -12, 0.9, "hum"),
    ("Beethoven's Fifth", +5, 1.0, "oboe"),
)
DISTRACTOR_TIMBRES = ("organ", "flute", "oboe", "clarinet", "strings", "organ")
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)


@dataclass(frozen=True)
class Occurrence:
    """Where a theme was played in a performance: the ground truth for a detection."""

    theme: str
    start_s: float
    end_s: float
    transpose: int
    tempo: float
    timbre: str


def builtin_themes() -> list[Theme]:
    themes, errors = load_themes(BUILTIN_THEMES)
    if errors:  # a packaging mistake, not a user error
        raise RuntimeError(f"built-in themes are broken: {errors}")
    return themes


def random_melody(rng: np.random.Generator, start_s: float, duration_s: float) -> list[Note]:
    """A tonal, stepwise melody with varied rhythm: plausible music that is not a theme."""
    tonic = 55 + int(rng.integers(0, 12))
    beat_s = float(rng.uniform(0.25, 0.45))
    degree, t, notes = int(rng.integers(0, 7)), start_s, []
    while t < start_s + duration_s:
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2, 3, -3]), -3, 10))
        octave, step = divmod(degree, 7)
        length_s = beat_s * float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
        notes.append(Note(tonic + 12 * octave + _MAJOR_SCALE[step], t, length_s))
        t += length_s
    return notes


def perform(theme: Theme, start_s: float, transpose: int, tempo: float) -> list[Note]:
    """The theme's notes transposed and played at `tempo` times the template speed."""
    return [Note(n.pitch + transpose, start_s + n.onset_s / tempo, n.duration_s / tempo)
            for n in theme.notes]


def demo_performance(themes: list[Theme], sample_rate: int = 44100, seed: int = 7
                     ) -> tuple[np.ndarray, list[Occurrence]]:
    """Render the demo programme: distractor, theme, distractor, theme, ... .

    Returns the mono float32 audio and where each theme occurrence lies.
    """
    by_name = {theme.name: theme for theme in themes}
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    occurrences: list[Occurrence] = []
    t = 0.0

    def add(notes: list[Note], timbre: str) -> float:
        audio = render_notes([Note(n.pitch, n.onset_s - t, n.duration_s) for n in notes],
                             sample_rate, timbre, seed=int(rng.integers(1 << 30)))
        parts.append(audio)
        return t + len(audio) / sample_rate + 0.3

    for k, (name, transpose, tempo, timbre) in enumerate(PROGRAMME):
        t = add(random_melody(rng, t, 4.0), DISTRACTOR_TIMBRES[k % len(DISTRACTOR_TIMBRES)])
        parts.append(np.zeros(int(0.3 * sample_rate), dtype=np.float32))
        notes = perform(by_name[name], t, transpose, tempo)
        occurrences.append(Occurrence(name, t, notes[-1].end_s, transpose, tempo, timbre))
        t = add(notes, timbre)
        parts.append(np.zeros(int(0.3 * sample_rate), dtype=np.float32))
    add(random_melody(rng, t, 4.0), DISTRACTOR_TIMBRES[-1])
    return np.concatenate(parts), occurrences
