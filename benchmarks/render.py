"""Render note lists to audio with FluidSynth and a General MIDI soundfont (sampled instruments).

Shared by every benchmark that needs realistic audio. FluidSynth and the soundfont come from
Debian (`scripts/bootstrap --dev` installs them); this module writes a MIDI file with mido and
runs the `fluidsynth` command on it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TICKS_PER_BEAT = 480
_SECONDS_PER_BEAT = 0.5  # the MIDI files are written at 120 bpm; note times are in seconds
_BEND_RANGE_SEMITONES = 2.0  # General MIDI's default pitch-bend range


@dataclass(frozen=True)
class Part:
    """One instrument's notes: (midi pitch, onset_s, duration_s, velocity) each, in any order.

    A fractional pitch (61.3) is played as the nearest key with a pitch bend sent just before it
    (GM's default bend range, ±2 semitones), so it suits monophonic parts: the bend holds for
    every note sounding on the channel.

    program is the General MIDI program (flute 73, violin 40, trumpet 56, clarinet 71,
    choir 52, piano 0, whistle 78, ...). Channel 9 plays drums (program is then ignored).
    """

    notes: Sequence[tuple[float, float, float, int]]
    program: int = 0
    channel: int = 0


def write_midi(parts: Sequence[Part], path: Path) -> None:
    """Write the parts as a type-1 MIDI file, one track per part, at 120 bpm."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    tempo_track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    midi.tracks.append(tempo_track)
    for part in parts:
        events = []
        bends = any(pitch != round(pitch) for pitch, *_ in part.notes)
        for pitch, onset_s, duration_s, velocity in part.notes:
            key = int(round(pitch))
            on = _ticks(onset_s)
            off = max(on + 1, _ticks(onset_s + duration_s))
            if bends:
                bend = int(round((pitch - key) / _BEND_RANGE_SEMITONES * 8192))
                events.append((on, 1, mido.Message("pitchwheel", channel=part.channel, pitch=min(bend, 8191))))
            events.append((on, 2, mido.Message("note_on", channel=part.channel, note=key, velocity=int(velocity))))
            events.append((off, 0, mido.Message("note_off", channel=part.channel, note=key, velocity=0)))
        events.sort(key=lambda event: (event[0], event[1]))
        track = mido.MidiTrack()
        if part.channel != 9:
            track.append(mido.Message("program_change", channel=part.channel, program=part.program, time=0))
        now = 0
        for tick, _, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(path)


def render(parts: Sequence[Part], sample_rate: int = 44100, gain: float = 0.5) -> np.ndarray:
    """Render parts to mono float32 audio at sample_rate with FluidSynth."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RuntimeError("FluidSynth or its soundfont is missing: run scripts/bootstrap --dev")
    with tempfile.TemporaryDirectory() as tmp:
        midi_path, wav_path = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        write_midi(parts, midi_path)
        subprocess.run(
            ["fluidsynth", "-ni", "-q", "-F", str(wav_path), "-r", str(sample_rate), "-g", str(gain),
             str(SOUNDFONT), str(midi_path)],
            check=True, capture_output=True,
        )
        audio, _ = soundfile.read(wav_path, dtype="float32", always_2d=True)
    return audio.mean(axis=1)


def _ticks(seconds: float) -> int:
    return int(round(seconds / _SECONDS_PER_BEAT * TICKS_PER_BEAT))
