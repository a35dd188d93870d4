"""Learning a theme from a recording: pitch-track a clip, segment it into notes, keep them.

The clip goes through the engine's own front end (`engine.make_tracker` and `NoteSegmenter`,
exactly as `Detector.process` runs them), so a learned theme holds the notes the detector itself
hears, with their onsets; each note's length is how long its pitch then holds. The pitches are
rounded to semitones after removing the clip's overall tuning (a singer 30 cents flat is still
in tune with themselves). The result is written as a standard MIDI file, which any theme folder
or library can hold, and shown as a note list for a person to check.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from detector.audio import AUDIO_SUFFIXES
from detector.engine import make_tracker
from detector.errors import ThemeError
from detector.notes import Note, hz_to_midi, midi_to_name
from detector.sanitize import mix_to_mono
from detector.segmenter import PITCH_TOLERANCE, NoteSegmenter
from detector.themes import MIDI_SUFFIXES, THEME_SUFFIXES, Theme, theme_from_notes

#: Silence fed after the clip so that its last note ends and is announced.
TAIL_S = 0.3
#: Blocks the clip is fed in (any size gives the same notes).
BLOCK = 4096
#: A learned tempo is reported with the beat in this range (seconds): 60-200 beats a minute.
BEAT_RANGE_S = (0.3, 1.0)
TICKS_PER_BEAT = 480


@dataclass(frozen=True)
class LearnedTheme:
    """A theme learned from audio.

    theme: the notes as heard (onsets and lengths in seconds, pitches in semitones).
    tuning_cents: how far the clip's notes lay from equal temperament (removed).
    beat_s: the beat the note list is written in (the commonest time between onsets).
    """

    theme: Theme
    tuning_cents: float
    beat_s: float

    @property
    def tempo_bpm(self) -> float:
        return 60.0 / self.beat_s

    def summary(self) -> str:
        """What was heard, in a line: '15 notes, 7.2 s, tuning +1 cents'."""
        return (f"{len(self.theme.notes)} notes, {self.theme.duration_s:.1f} s, "
                f"tuning {round(self.tuning_cents):+d} cents")

    def note_list(self) -> str:
        """The theme as a note list (the .txt theme format) for a person to check: each note
        with its time to the next onset (the last: its own length) in beats, to a quarter beat."""
        notes = self.theme.notes
        lengths = [b.onset_s - a.onset_s for a, b in zip(notes, notes[1:])] + [notes[-1].duration_s]
        tokens = [f"{midi_to_name(n.pitch)}:{_beats(length / self.beat_s)}"
                  for n, length in zip(notes, lengths)]
        return f"name: {self.theme.name}\ntempo: {self.tempo_bpm:.0f}\n{' '.join(tokens)}\n"


def learn_theme(audio: np.ndarray, sample_rate: int, name: str, mode: str = "auto",
                source: str = "") -> LearnedTheme:
    """Learn a theme from audio: shape (n,) or (n, channels), any float dtype.

    mode: the tracker, as in Detector ("melody" for a solo line, "ensemble", or "auto").
    ThemeError if fewer than MIN_NOTES notes are heard.
    """
    frames = np.asarray(audio, dtype=np.float32)
    frames = frames[:, None] if frames.ndim == 1 else frames
    mono = np.zeros(frames.shape[0] + int(TAIL_S * sample_rate), dtype=np.float32)
    mix_to_mono(np.ascontiguousarray(frames), mono)
    heard, frame_s, frame_midi = _segment(mono, sample_rate, mode)
    if not heard:
        raise ThemeError(f"{source or name}: no notes heard (is the clip silent, or noise?)")
    tuning = _tuning(np.array([pitch for pitch, _ in heard]))
    onsets = [onset for _, onset in heard] + [math.inf]
    notes = [Note(float(round(pitch - tuning)), onset,
                  _held_s(pitch, onset, onsets[k + 1], frame_s, frame_midi))
             for k, (pitch, onset) in enumerate(heard)]
    theme = theme_from_notes(name, notes, source or "learned from audio")
    return LearnedTheme(theme, tuning_cents=100 * tuning, beat_s=_beat_s(theme.notes))


def _segment(mono: np.ndarray, sample_rate: int, mode: str
             ) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray]:
    """The engine's tracker and segmenter over the signal: ([(pitch, onset_s)] of each note,
    frame times_s, frame pitches in MIDI with NaN where unvoiced)."""
    tracker = make_tracker(mode, sample_rate)
    segmenter = NoteSegmenter(sample_rate, tracker.frame_delay_s)
    notes: list[tuple[float, float]] = []
    times, pitches = [], []
    for start in range(0, mono.shape[0], BLOCK):
        n_frames = tracker.process(mono[start:start + BLOCK])
        n_notes = segmenter.process(tracker.f0_hz, tracker.voiced, tracker.level_db,
                                    tracker.end_sample, n_frames)
        notes += [(float(segmenter.pitch[k]), float(segmenter.onset_s[k])) for k in range(n_notes)]
        times.append(tracker.frame_times_s(n_frames))
        voiced = tracker.voiced[:n_frames]
        f0 = np.where(voiced, tracker.f0_hz[:n_frames], np.nan)
        pitches.append(hz_to_midi(f0))
    return notes, np.concatenate(times), np.concatenate(pitches)


def _held_s(pitch: float, onset_s: float, next_onset_s: float, frame_s: np.ndarray,
            frame_midi: np.ndarray) -> float:
    """How long a note's pitch holds from its onset: to the last frame at its pitch (within the
    segmenter's tolerance) before the next note, plus one hop."""
    hop_s = float(frame_s[1] - frame_s[0]) if frame_s.shape[0] > 1 else 0.01
    inside = (frame_s >= onset_s) & (frame_s < next_onset_s)
    at_pitch = inside & (np.abs(frame_midi - pitch) <= PITCH_TOLERANCE)
    last_s = float(frame_s[at_pitch][-1]) if at_pitch.any() else onset_s
    return min(last_s + hop_s, next_onset_s) - onset_s


def _tuning(pitches: np.ndarray) -> float:
    """The clip's offset from equal temperament in semitones (-0.5..0.5): the circular mean of
    each pitch's distance from the nearest semitone."""
    angle = np.angle(np.mean(np.exp(2j * np.pi * pitches)))
    return float(angle / (2 * np.pi))


def _beat_s(notes: tuple[Note, ...]) -> float:
    """The commonest time between onsets, doubled or halved into BEAT_RANGE_S."""
    iois = np.diff([n.onset_s for n in notes])
    beat = float(np.median(iois)) if iois.size else notes[0].duration_s
    low, high = BEAT_RANGE_S
    while beat < low:
        beat *= 2
    while beat > high:
        beat /= 2
    return beat


def _beats(value: float) -> str:
    """A length in beats to the nearest quarter beat (at least one), as a note list writes it."""
    quarters = max(1, round(4 * value))
    return f"{quarters / 4:g}"


# ---------------------------------------------------------------- the template on disk

def user_theme_folder() -> Path:
    """Where learned themes go by default: $XDG_DATA_HOME/theme-detector/themes
    (~/.local/share/theme-detector/themes)."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "theme-detector" / "themes"


def template_path(name: str, out: Path | None = None) -> Path:
    """The MIDI file a theme called `name` is written to: `out` if it names a .mid file,
    otherwise '<name>.mid' in `out` (a folder) or in the user's theme folder. The file is
    named after the theme (only characters a file system refuses are replaced), because a
    theme loaded from a MIDI file takes the file's name. ThemeError if `out` names another
    kind of file (a .txt, a .wav: taken for a folder, it would be made one)."""
    if out is not None and out.suffix.lower() in MIDI_SUFFIXES:
        return out
    if out is not None and out.suffix.lower() in THEME_SUFFIXES + AUDIO_SUFFIXES and not out.is_dir():
        raise ThemeError(f"--out {out}: a learned theme is written as a MIDI file; give a folder "
                         "or a .mid file name")
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "theme"
    return (out if out is not None else user_theme_folder()) / f"{safe}.mid"


def write_midi(learned: LearnedTheme, path: Path) -> None:
    """A type-1 MIDI file: one track named after the theme, the tempo of the note list, the
    notes at their measured times (nothing quantised)."""
    seconds_per_tick = learned.beat_s / TICKS_PER_BEAT
    events = []  # (tick, 0 for off before 1 for on at the same tick, pitch)
    for note in learned.theme.notes:
        events.append((round(note.onset_s / seconds_per_tick), 1, int(note.pitch)))
        events.append((round(note.end_s / seconds_per_tick), 0, int(note.pitch)))
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    track = midi.add_track(learned.theme.name)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(learned.tempo_bpm)))
    tick = 0
    for at, on, pitch in sorted(events):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=80 if on else 0, time=at - tick))
        tick = at
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
