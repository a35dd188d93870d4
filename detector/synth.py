"""A small additive synthesiser: melodies on a few timbres, for the demo and the tests.

Not a musical instrument, but enough to carry a melody the way real ones do: harmonics in
different proportions (flute-like, reed-like odd harmonics, bright strings, a hummed voice),
attack and release, vibrato and a little breath noise. The benchmarks use sampled instruments
(FluidSynth) instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from detector.notes import Note, midi_to_hz


@dataclass(frozen=True)
class Timbre:
    """harmonics: relative amplitude of partials 1, 2, 3, ...; times in seconds."""

    harmonics: tuple[float, ...]
    attack_s: float = 0.02
    release_s: float = 0.05
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.5
    noise: float = 0.0


TIMBRES = {
    "flute": Timbre((1.0, 0.45, 0.12, 0.05), attack_s=0.04, vibrato_cents=12, noise=0.01),
    "clarinet": Timbre((1.0, 0.05, 0.6, 0.04, 0.35, 0.03, 0.2)),
    "strings": Timbre(tuple(0.9 / k for k in range(1, 11)), attack_s=0.06, vibrato_cents=18),
    "oboe": Timbre((0.5, 1.0, 0.8, 0.5, 0.3, 0.2, 0.1), attack_s=0.03),
    "hum": Timbre((1.0, 0.35, 0.15, 0.06), attack_s=0.05, release_s=0.08, vibrato_cents=30,
                  vibrato_hz=5.2, noise=0.015),
    "organ": Timbre((1.0, 0.7, 0.5, 0.35, 0.2), attack_s=0.01, release_s=0.02),
}


def render_notes(notes: Iterable[Note], sample_rate: int, timbre: str = "flute",
                 level: float = 0.3, legato: float = 0.92, seed: int = 0) -> np.ndarray:
    """Render notes (pitch MIDI, onset_s, duration_s) to mono float32 audio.

    Each note, release included, sounds for `legato` of its duration, so repeated notes are
    re-attacked after a short silence.
    """
    spec = TIMBRES[timbre]
    notes = list(notes)
    end_s = max((n.end_s for n in notes), default=0.0) + spec.release_s + 0.05
    out = np.zeros(int(end_s * sample_rate) + 1, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for note in notes:
        start = int(note.onset_s * sample_rate)
        release_s = min(spec.release_s, 0.3 * note.duration_s)
        sounding_s = note.duration_s * legato - release_s
        n = int((sounding_s + release_s) * sample_rate)
        t = np.arange(n) / sample_rate
        vibrato = spec.vibrato_cents / 100 * np.sin(2 * np.pi * spec.vibrato_hz * t
                                                    + rng.uniform(0, 2 * np.pi))
        f0 = midi_to_hz(note.pitch) * 2.0 ** (vibrato / 12)
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        tone = np.zeros(n)
        for k, amplitude in enumerate(spec.harmonics, start=1):
            if midi_to_hz(note.pitch) * k < 0.45 * sample_rate:
                tone += amplitude * np.sin(k * phase)
        tone += spec.noise * rng.standard_normal(n) * len(spec.harmonics)
        envelope = (np.clip(t / spec.attack_s, 0, 1)
                    * np.clip((sounding_s + release_s - t) / release_s, 0, 1))
        out[start:start + n] += tone * envelope
    peak = np.max(np.abs(out)) or 1.0
    return (out * (level / peak)).astype(np.float32)
