"""A synthetic hummed voice: what a person humming or singing "oo" into a microphone gives.

FluidSynth's choir samples are too steady to stand for a real voice, so this module builds one
from a note list in numpy: a harmonic source whose partials are shaped by vowel formants, with
what makes a voice hard to pitch-track: vibrato (about 5.5 Hz, ±30 cents), slow random drift
of the intonation (within ±30 cents), portamento between legato notes and breath noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Vowel formants (centre Hz, bandwidth Hz, gain) for a hum ("mm"), "oo" and "ah".
VOWELS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "mm": ((250.0, 120.0, 1.0), (1000.0, 250.0, 0.08), (2500.0, 300.0, 0.03)),
    "oo": ((300.0, 100.0, 1.0), (870.0, 150.0, 0.35), (2240.0, 200.0, 0.05)),
    "ah": ((730.0, 130.0, 1.0), (1090.0, 150.0, 0.6), (2440.0, 200.0, 0.2)),
}
CONTROL_RATE_HZ = 500.0  # pitch and loudness curves are built at this rate, then interpolated
VIBRATO_HZ = 5.5
VIBRATO_CENTS = 30.0
DRIFT_CENTS = 30.0
PORTAMENTO_S = 0.04  # time constant of the glide between legato notes
LEGATO_GAP_S = 0.15  # notes closer than this are sung in one breath, gliding from one to the next
ATTACK_S, RELEASE_S = 0.04, 0.08
BREATH_DB = -28.0  # breath noise power relative to the voice
MAX_PARTIAL_HZ = 5000.0


def hum(
    notes: Sequence[tuple[float, float, float, int]],
    sample_rate: int,
    rng: np.random.Generator,
    vowel: str = "oo",
    tail_s: float = 1.0,
) -> np.ndarray:
    """Sing notes (MIDI pitch, onset_s, duration_s, velocity) in time order; mono float32.

    The audio lasts until the last note's end plus tail_s. Its peak is about 0.5.
    """
    end_s = max(onset + duration for _, onset, duration, _ in notes) + tail_s
    n_control = int(end_s * CONTROL_RATE_HZ) + 1
    pitch, gate = _pitch_and_gate(notes, n_control)
    pitch += _vibrato_cents(n_control, rng) / 100.0 + _drift_cents(n_control, rng) / 100.0
    loudness = _envelope(gate)

    n_samples = int(end_s * sample_rate)
    control_times_s = np.arange(n_control) / CONTROL_RATE_HZ
    sample_times_s = np.arange(n_samples) / sample_rate
    f0_hz = 440.0 * 2.0 ** ((np.interp(sample_times_s, control_times_s, pitch) - 69.0) / 12.0)
    amplitude = np.interp(sample_times_s, control_times_s, loudness)

    voice = _harmonics(f0_hz, sample_rate, VOWELS[vowel]) * amplitude
    breath = _breath(n_samples, rng) * amplitude
    breath *= np.sqrt(np.mean(voice**2) / max(np.mean(breath**2), 1e-12) * 10.0 ** (BREATH_DB / 10.0))
    audio = voice + breath
    return (0.5 * audio / max(np.max(np.abs(audio)), 1e-9)).astype(np.float32)


def _pitch_and_gate(notes: Sequence[tuple[float, float, float, int]], n_control: int) -> tuple[np.ndarray, np.ndarray]:
    """Pitch curve (MIDI, with portamento) and voicing gate (0/1), at the control rate.

    Between notes the pitch holds the previous note, and inside one breath (gap under
    LEGATO_GAP_S) the gate stays open, so a one-pole smoother makes the glide.
    """
    target = np.full(n_control, float(notes[0][0]))
    gate = np.zeros(n_control)
    for index, (note_pitch, onset_s, duration_s, _) in enumerate(notes):
        first = int(onset_s * CONTROL_RATE_HZ)
        target[first:] = note_pitch
        end_s = onset_s + duration_s
        if index + 1 < len(notes) and notes[index + 1][1] - end_s < LEGATO_GAP_S:
            end_s = notes[index + 1][1]
        gate[first:int(end_s * CONTROL_RATE_HZ)] = 1.0
    return _one_pole(target, PORTAMENTO_S), gate


def _envelope(gate: np.ndarray) -> np.ndarray:
    """Loudness 0-1 from the gate: faster attack than release, like a voice starting and stopping."""
    attack = 1.0 - np.exp(-1.0 / (ATTACK_S * CONTROL_RATE_HZ))
    release = 1.0 - np.exp(-1.0 / (RELEASE_S * CONTROL_RATE_HZ))
    loudness = np.empty_like(gate)
    level = 0.0
    for index, value in enumerate(gate):
        level += (attack if value > level else release) * (value - level)
        loudness[index] = level
    return loudness


def _vibrato_cents(n_control: int, rng: np.random.Generator) -> np.ndarray:
    """Vibrato around VIBRATO_HZ (its rate wanders by ±10 %), depth ±VIBRATO_CENTS."""
    rate_hz = VIBRATO_HZ * (1.0 + 0.1 * _smooth_noise(n_control, 0.5, rng))
    phase = 2.0 * np.pi * np.cumsum(rate_hz) / CONTROL_RATE_HZ + rng.uniform(0.0, 2.0 * np.pi)
    return VIBRATO_CENTS * np.sin(phase)


def _drift_cents(n_control: int, rng: np.random.Generator) -> np.ndarray:
    """Slow intonation drift (changes over about a second) within ±DRIFT_CENTS."""
    return DRIFT_CENTS * _smooth_noise(n_control, 1.0, rng)


def _smooth_noise(n_control: int, time_constant_s: float, rng: np.random.Generator) -> np.ndarray:
    """Low-pass filtered noise at the control rate, scaled to peak at exactly ±1."""
    noise = _one_pole(rng.standard_normal(n_control), time_constant_s)
    noise -= noise.mean()
    return noise / max(np.max(np.abs(noise)), 1e-12)


def _one_pole(signal: np.ndarray, time_constant_s: float) -> np.ndarray:
    """First-order low-pass at the control rate, started at the signal's first value."""
    coefficient = 1.0 - np.exp(-1.0 / (time_constant_s * CONTROL_RATE_HZ))
    smoothed = np.empty_like(signal)
    level = signal[0]
    for index, value in enumerate(signal):
        level += coefficient * (value - level)
        smoothed[index] = level
    return smoothed


def _harmonics(f0_hz: np.ndarray, sample_rate: int, formants: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Sum of the partials of f0_hz (per sample), each weighted by the vowel's spectral envelope.

    The glottal source falls about 12 dB per octave (1/k^2); the formants are resonance peaks.
    """
    phase = 2.0 * np.pi * np.cumsum(f0_hz) / sample_rate
    voice = np.zeros_like(f0_hz)
    for k in range(1, int(MAX_PARTIAL_HZ / f0_hz.min()) + 1):
        partial_hz = k * f0_hz
        envelope = sum(gain / (1.0 + ((partial_hz - centre) / bandwidth) ** 2) for centre, bandwidth, gain in formants)
        voice += np.where(partial_hz < MAX_PARTIAL_HZ, envelope / k**2 + 0.02 / k, 0.0) * np.sin(k * phase)
    return voice


def _breath(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Breath noise: white noise with its lows removed (first difference), unit-free."""
    return np.diff(rng.standard_normal(n_samples + 1))
