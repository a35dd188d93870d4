"""Deterministic test sets for the accuracy benchmark, built from real public-domain melodies.

Themes are the incipits (10-16 notes, a few seconds) of folk songs from the Essen collection in
music21's corpus; distractors are passages of *other* songs from the same collection, checked
not to share a run of six pitch changes with a theme. A clip plays distractor, theme, distractor,
theme, ..., distractor as one continuous melody line, rendered with FluidSynth (or the synthetic
voice of `benchmarks.voice`) and degraded as its condition says. Next to each clip's audio
(FLAC, 44.1 kHz) a JSON file holds its ground truth: every theme occurrence with its start and
end in seconds, its transposition and its tempo.

Everything follows from (size, seed): the same pair gives the same melodies and the same audio.
Parsed melodies and generated sets live under `benchmarks/.cache/` (git-ignored), keyed by the
size, the seed and a digest of this code, so a changed generator never reuses a stale set.

    python -m benchmarks.data --size quick --seed 0     # generate (or find) a set, print its path
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile
from tqdm import tqdm

from benchmarks.render import Part, render
from benchmarks.voice import VOWELS, hum
from detector.notes import Note
from detector.themes import Theme

SAMPLE_RATE = 44100
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
#: The file in a set's directory that lists its themes and clips.
MANIFEST = "set.json"
#: Essen folk-song collections (ABC, monophonic), read in this order until enough songs are found:
#: children's songs, then Boehme's and Erk's and Fink's German songs. (The ballad collections are
#: left out: they hold dozens of variants of each ballad, which would make confusable themes.)
CORPUS_OPUSES = tuple(f"essenFolksong/{name}" for name in ("kinder0", "boehme10", "erk10", "fink0"))

#: (MIDI pitch, onset_s, duration_s, velocity): one note as `benchmarks.render.Part` takes it.
NoteEvent = tuple[float, float, float, int]

MIN_TUNE_NOTES = 24  # shorter songs cannot give both an incipit and passages
THEME_NOTES = (10, 16)  # incipit length range, notes (inclusive)
MIN_THEME_PITCHES = 4  # an incipit with fewer distinct pitches is too plain to be a theme
SHARED_INTERVALS = 6  # a run of this many pitch changes in common makes two melodies "the same"
NOTE_S = (0.22, 0.40)  # median note length of a tune as performed, s (sets its tempo)
MAX_THEME_S = 6.0  # a theme with long notes is played faster to last at most this long
ARTICULATION = 0.92  # sounding fraction of each note's written length
DISTRACTOR_S = (3.0, 8.0)  # length of a distractor passage, s
LAST_DISTRACTOR_S = (3.0, 6.0)  # the clip's closing passage: leaves room for late announcements
GAP_S = (0.0, 0.5)  # silence between passages, s
REGISTER_SPREAD = 4  # distractors sit within this many semitones of the theme next to them

#: Lead instruments (General MIDI programs): flute, violin, trumpet, clarinet, oboe, choir aahs,
#: piano, whistle, alto sax, cello, harmonica, nylon guitar.
LEAD_PROGRAMS = (73, 40, 56, 71, 68, 52, 0, 78, 65, 42, 22, 24)
CHORD_PROGRAMS = (0, 48, 24, 19)  # piano, string ensemble, nylon guitar, church organ
BASS_PROGRAMS = (32, 33)  # acoustic bass, fingered electric bass
DRUM_CHANNEL = 9
KICK, SNARE, CLOSED_HAT = 36, 38, 42


@dataclass(frozen=True)
class Tune:
    """A monophonic song from the corpus, in written time.

    notes: (MIDI pitch, onset, duration) with onset and duration in quarter notes; rests are gaps.
    """

    tune_id: str
    title: str
    notes: tuple[tuple[int, float, float], ...]


@dataclass(frozen=True)
class Condition:
    """How the clips of one condition are performed and degraded.

    transposes: semitone shifts drawn for each theme occurrence (distractors follow its register).
    tempo_range: performed / template tempo, drawn uniformly per occurrence and passage.
    rubato: standard deviation of each note's log-length jitter (0.05 is ±5 %).
    programs: GM programs of the melody; one per clip, or one per passage if per_passage_program.
    voice_centre: hummed by the synthetic voice with the melody moved by octaves to sit near a
        median pitch drawn from this MIDI range; None plays the programs with FluidSynth.
    partial_range: fraction of the theme's notes played, drawn per occurrence; None plays all.
    edit: one note of each occurrence dropped or added.
    detune_cents: each melody note is mistuned by up to this much, uniformly.
    snr_db_range: white or pink noise at this signal-to-noise ratio, dB; None for none.
    reverberance_range: sox reverb's reverberance, %; None for none.
    has_theme: False for clips of distractors only (false alarms).
    """

    name: str
    transposes: tuple[int, ...] = (0,)
    tempo_range: tuple[float, float] = (1.0, 1.0)
    rubato: float = 0.0
    programs: tuple[int, ...] = (73,)
    per_passage_program: bool = False
    accompaniment: bool = False
    voice_centre: tuple[float, float] | None = None
    partial_range: tuple[float, float] | None = None
    edit: bool = False
    detune_cents: float = 0.0
    snr_db_range: tuple[float, float] | None = None
    reverberance_range: tuple[float, float] | None = None
    has_theme: bool = True


_SEMITONES_AND_OCTAVES = (*range(-7, 0), *range(1, 8), -12, 12, -24, 24)
CONDITIONS: tuple[Condition, ...] = (
    Condition("clean"),
    Condition("transposed", transposes=_SEMITONES_AND_OCTAVES, programs=(0, 73, 40, 71)),
    Condition("tempo", tempo_range=(0.6, 1.6), rubato=0.05),
    Condition("instruments", programs=LEAD_PROGRAMS, per_passage_program=True),
    Condition("accompaniment", programs=(73, 40, 56, 71, 65), accompaniment=True),
    Condition("noise", snr_db_range=(10.0, 30.0)),
    Condition("reverb", reverberance_range=(40.0, 90.0)),
    Condition("hummed", voice_centre=(52.0, 67.0)),
    Condition("partial", partial_range=(0.6, 0.75)),
    Condition("edits", edit=True, detune_cents=40.0),
    Condition("no_theme", has_theme=False),
)
CONDITION_NAMES = tuple(condition.name for condition in CONDITIONS)


@dataclass(frozen=True)
class Size:
    """How big a set is.

    n_themes: themes in the library. n_distractor_tunes: songs the distractors come from.
    clips_per_condition, occurrences_per_clip: for each condition with themes.
    no_theme_clips, no_theme_clip_s: clips of distractors only, and their length in seconds.
    """

    name: str
    n_themes: int
    n_distractor_tunes: int
    clips_per_condition: int
    occurrences_per_clip: int
    no_theme_clips: int
    no_theme_clip_s: float


SIZES = {
    "quick": Size("quick", n_themes=8, n_distractor_tunes=40, clips_per_condition=2, occurrences_per_clip=2,
                  no_theme_clips=1, no_theme_clip_s=60.0),
    # An hour with no theme: the target is one false alarm an hour, which minutes cannot resolve.
    "full": Size("full", n_themes=48, n_distractor_tunes=200, clips_per_condition=16, occurrences_per_clip=3,
                 no_theme_clips=60, no_theme_clip_s=60.0),
}


@dataclass(frozen=True)
class Occurrence:
    """One theme played in a clip: the ground truth a detection is scored against.

    start_s, end_s: onset of its first played note and end of its last, in clip time.
    transpose: semitones from the template (octaves included). tempo: performed / template tempo.
    n_notes: notes played (fewer than the theme's when partial). edit: "", "drop 4" or "add 7"
    (index of the note in the theme).
    """

    theme: str
    start_s: float
    end_s: float
    transpose: int
    tempo: float
    n_notes: int
    edit: str = ""


@dataclass(frozen=True)
class Clip:
    """One audio file of a set and its ground truth.

    settings: how it was made (programs, SNR, reverberance, vowel, ...), for reading the results.
    """

    name: str
    condition: str
    audio_path: Path
    duration_s: float
    occurrences: tuple[Occurrence, ...]
    settings: dict = field(default_factory=dict)

    def load_audio(self) -> np.ndarray:
        """The clip's samples, mono float32 at SAMPLE_RATE."""
        audio, _ = soundfile.read(self.audio_path, dtype="float32")
        return audio


@dataclass(frozen=True)
class TestSet:
    """A generated set: the theme library and the clips, stored in directory."""

    size: Size
    seed: int
    directory: Path
    themes: tuple[Theme, ...]
    clips: tuple[Clip, ...]

    @property
    def audio_s(self) -> float:
        """The length of all its clips, s."""
        return sum(clip.duration_s for clip in self.clips)


@dataclass(frozen=True)
class _Passage:
    """A stretch of the clip's melody line, played by one program.

    notes: as performed, in clip time. beat_s: the length of a quarter note as performed, s,
    which paces the accompaniment under it.
    """

    notes: tuple[NoteEvent, ...]
    beat_s: float
    program: int

    @property
    def start_s(self) -> float:
        return self.notes[0][1]

    @property
    def end_s(self) -> float:
        return self.notes[-1][1] + self.notes[-1][2]


# --- melodies from the corpus -----------------------------------------------------------------


def load_tunes(n_tunes: int, cache_dir: Path = CACHE_DIR) -> list[Tune]:
    """At least n_tunes usable songs (monophonic, MIN_TUNE_NOTES or more), in corpus order.

    Each collection is parsed with music21 once (15-60 s each) and cached as JSON.
    """
    tunes: list[Tune] = []
    for opus in CORPUS_OPUSES:
        tunes += _load_opus(opus, cache_dir / "melodies")
        if len(tunes) >= n_tunes:
            return tunes
    raise ValueError(f"the corpus has only {len(tunes)} usable songs in {CORPUS_OPUSES}, not {n_tunes}")


def _load_opus(opus: str, melody_dir: Path) -> list[Tune]:
    path = melody_dir / f"{opus.replace('/', '_')}.json"
    if not path.exists():
        melody_dir.mkdir(parents=True, exist_ok=True)
        records = [asdict(tune) for tune in _parse_opus(opus)]
        path.write_text(json.dumps(records))
    records = json.loads(path.read_text())
    return [Tune(r["tune_id"], r["title"], tuple(tuple(note) for note in r["notes"])) for r in records]


def _parse_opus(opus: str) -> list[Tune]:
    """The usable songs of one music21 corpus ABC collection, ties merged, grace notes left out."""
    from music21 import corpus  # optional benchmark dependency, and slow to import

    tunes = []
    for number, score in enumerate(corpus.parse(opus).scores):
        notes = list(score.stripTies().flatten().notes)
        if any(note.isChord for note in notes):
            continue
        melody = tuple((note.pitch.midi, float(note.offset), float(note.quarterLength))
                       for note in notes if note.quarterLength > 0)
        if len(melody) >= MIN_TUNE_NOTES:
            title = (score.metadata.title if score.metadata else "") or f"song {number}"
            tunes.append(Tune(f"{opus}#{number}", title.strip(), melody))
    return tunes


# --- themes and distractors -------------------------------------------------------------------


def choose_themes(tunes: Sequence[Tune], n_themes: int, rng: np.random.Generator) -> tuple[list[Theme], list[Tune]]:
    """Pick n_themes incipits from distinct songs, and the songs left over for distractors.

    A theme must be melodic (MIN_THEME_PITCHES distinct pitches, SHARED_INTERVALS pitch
    changes at least) and share neither its title (Essen lists variants of one song under one
    title) nor any run of SHARED_INTERVALS pitch changes with another theme. A leftover song
    must share neither with any theme, so a distractor can never be a theme in disguise.
    """
    themes: list[Theme] = []
    theme_runs: set[tuple[int, ...]] = set()
    titles: set[str] = set()
    for index in rng.permutation(len(tunes)):
        tune = tunes[index]
        incipit = tune.notes[:int(rng.integers(THEME_NOTES[0], THEME_NOTES[1] + 1))]
        runs = interval_runs([pitch for pitch, _, _ in incipit])
        title = tune.title.casefold()
        plain = len({pitch for pitch, _, _ in incipit}) < MIN_THEME_PITCHES or not runs
        if plain or runs & theme_runs or title in titles:
            continue
        themes.append(_theme_from_incipit(tune, incipit, rng))
        theme_runs |= runs
        titles.add(title)
        if len(themes) == n_themes:
            break
    else:
        raise ValueError(f"found only {len(themes)} distinct themes among {len(tunes)} songs")
    distractors = [tune for tune in tunes if tune.title.casefold() not in titles
                   and not interval_runs([pitch for pitch, _, _ in tune.notes]) & theme_runs]
    return themes, distractors


def interval_runs(pitches: Sequence[int]) -> set[tuple[int, ...]]:
    """Every run of SHARED_INTERVALS consecutive pitch changes (semitones): a key-free fingerprint.

    Repeated notes are left out (they are what a variant adds or removes for its words, and
    what a listener or a pitch tracker hears as one note).
    """
    intervals = [interval for interval in np.diff(np.asarray(pitches, dtype=int)).tolist() if interval]
    return {tuple(intervals[i:i + SHARED_INTERVALS]) for i in range(len(intervals) - SHARED_INTERVALS + 1)}


def _theme_from_incipit(tune: Tune, incipit: Sequence[tuple[int, float, float]], rng: np.random.Generator) -> Theme:
    """A Theme at a natural tempo (median note NOTE_S long, at most MAX_THEME_S in all), from 0 s."""
    first_q = incipit[0][1]
    length_q = incipit[-1][1] + incipit[-1][2] - first_q
    beat_s = min(_draw_beat_s(incipit, rng), MAX_THEME_S / length_q)
    notes = tuple(Note(float(pitch), (onset_q - first_q) * beat_s, duration_q * beat_s)
                  for pitch, onset_q, duration_q in incipit)
    return Theme(name=f"{tune.title} [{tune.tune_id}]", notes=notes, source=f"music21 corpus {tune.tune_id}")


def _draw_beat_s(notes: Sequence[tuple[int, float, float]], rng: np.random.Generator) -> float:
    """A quarter note's length in seconds that makes the median note NOTE_S long."""
    return float(rng.uniform(*NOTE_S) / np.median([duration_q for _, _, duration_q in notes]))


# --- planning a clip --------------------------------------------------------------------------


def _plan_clip(
    condition: Condition, clip_themes: Sequence[Theme], distractors: Sequence[Tune], length_s: float,
    rng: np.random.Generator,
) -> tuple[list[_Passage], list[Occurrence]]:
    """The melody line of one clip as passages, and the theme occurrences in it.

    With themes: distractor, theme, distractor, ..., theme, closing distractor. Without:
    distractors in random registers until length_s seconds are filled.
    """
    program = int(rng.choice(condition.programs))
    passages: list[_Passage] = []
    occurrences: list[Occurrence] = []
    time_s = float(rng.uniform(0.3, 1.0))
    for theme in clip_themes:
        transpose = _draw_transpose(condition, theme, rng)
        register = float(np.median([note.pitch for note in theme.notes])) + transpose
        program = _next_program(condition, program, rng)
        passages.append(_distractor(distractors, time_s, DISTRACTOR_S, register, condition, program, rng))
        time_s = passages[-1].end_s + rng.uniform(*GAP_S)
        program = _next_program(condition, program, rng)
        occurrence, passage = _perform_theme(theme, time_s, transpose, condition, program, rng)
        occurrences.append(occurrence)
        passages.append(passage)
        time_s = passage.end_s + rng.uniform(*GAP_S)
    if clip_themes:
        program = _next_program(condition, program, rng)
        passages.append(_distractor(distractors, time_s, LAST_DISTRACTOR_S, register, condition, program, rng))
    else:
        while time_s < length_s:
            program = _next_program(condition, program, rng)
            register = float(rng.uniform(60.0, 74.0))
            passages.append(_distractor(distractors, time_s, DISTRACTOR_S, register, condition, program, rng))
            time_s = passages[-1].end_s + rng.uniform(*GAP_S)
    return passages, occurrences


def _draw_transpose(condition: Condition, theme: Theme, rng: np.random.Generator) -> int:
    """Semitones to shift an occurrence: drawn from the condition, or octaves to a voice's range."""
    if condition.voice_centre is None:
        return int(rng.choice(condition.transposes))
    median = float(np.median([note.pitch for note in theme.notes]))
    return 12 * round((rng.uniform(*condition.voice_centre) - median) / 12.0)


def _next_program(condition: Condition, program: int, rng: np.random.Generator) -> int:
    """The program of the next passage: a new one if the condition changes it per passage."""
    if not condition.per_passage_program:
        return program
    return int(rng.choice([other for other in condition.programs if other != program]))


def _distractor(
    distractors: Sequence[Tune], start_s: float, length_s: tuple[float, float], register: float,
    condition: Condition, program: int, rng: np.random.Generator,
) -> _Passage:
    """A passage of a random non-theme song, from a random note, about length_s long.

    It is moved to sit near `register` (median MIDI pitch) and played at the condition's tempo,
    so neither key nor tempo tells it from a theme.
    """
    tune = distractors[int(rng.integers(len(distractors)))]
    tempo = rng.uniform(*condition.tempo_range)
    beat_s = _draw_beat_s(tune.notes, rng) / tempo
    target_s = rng.uniform(*length_s)
    first = int(rng.integers(0, len(tune.notes) - MIN_TUNE_NOTES // 2))
    chosen = []
    for pitch, onset_q, duration_q in tune.notes[first:]:
        chosen.append((pitch, onset_q, duration_q))
        if (onset_q + duration_q - tune.notes[first][1]) * beat_s >= target_s:
            break
    shift = round(register + rng.uniform(-REGISTER_SPREAD, REGISTER_SPREAD) - np.median([p for p, _, _ in chosen]))
    first_q = chosen[0][1]
    written = [(float(pitch + shift), (onset_q - first_q) * beat_s, duration_q * beat_s)
               for pitch, onset_q, duration_q in chosen]
    return _Passage(_played(written, start_s, condition, rng), beat_s, program)


def _perform_theme(
    theme: Theme, start_s: float, transpose: int, condition: Condition, program: int, rng: np.random.Generator,
) -> tuple[Occurrence, _Passage]:
    """Play a theme at start_s, transposed, at a drawn tempo, cut short or edited as the condition says."""
    tempo = float(rng.uniform(*condition.tempo_range))
    written = [(note.pitch + transpose, note.onset_s / tempo, note.duration_s / tempo) for note in theme.notes]
    if condition.partial_range is not None:
        written = written[:math.ceil(rng.uniform(*condition.partial_range) * len(written))]
    edit = ""
    if condition.edit:
        written, edit = _edit_one_note(written, rng)
    notes = _played(written, start_s, condition, rng)
    passage = _Passage(notes, _median_beat_s(theme) / tempo, program)
    occurrence = Occurrence(theme.name, round(passage.start_s, 4), round(passage.end_s, 4), transpose,
                            round(tempo, 4), len(notes), edit)
    return occurrence, passage


def _median_beat_s(theme: Theme) -> float:
    """The theme's median note length, s: stands for its beat when pacing the accompaniment."""
    return float(np.median([note.duration_s for note in theme.notes]))


def _edit_one_note(
    written: list[tuple[float, float, float]], rng: np.random.Generator,
) -> tuple[list[tuple[float, float, float]], str]:
    """Drop an inner note (the one before it holds on), or add one (a note split into two)."""
    index = int(rng.integers(1, len(written) - 1))
    pitch, onset_s, duration_s = written[index]
    if rng.random() < 0.5:
        previous = written[index - 1]
        held = (previous[0], previous[1], onset_s + duration_s - previous[1])
        return [*written[:index - 1], held, *written[index + 1:]], f"drop {index}"
    step = np.sign(written[index + 1][0] - pitch) * min(2.0, abs(written[index + 1][0] - pitch))
    added = pitch + (step if step else float(rng.choice([-2, -1, 1, 2])))
    split = [(pitch, onset_s, duration_s / 2), (added, onset_s + duration_s / 2, duration_s / 2)]
    return [*written[:index], *split, *written[index + 1:]], f"add {index}"


def _played(
    written: Sequence[tuple[float, float, float]], start_s: float, condition: Condition, rng: np.random.Generator,
) -> tuple[NoteEvent, ...]:
    """Written notes (pitch, onset_s, duration_s from 0) as performed from start_s.

    Rubato stretches each note and shifts those after it; each note sounds for ARTICULATION of
    its length, is detuned if the condition says so and gets a velocity of 85-110.
    """
    played = []
    shift_s = 0.0
    for pitch, onset_s, duration_s in written:
        stretched_s = duration_s * float(np.exp(rng.normal(0.0, condition.rubato))) if condition.rubato else duration_s
        detune = rng.uniform(-condition.detune_cents, condition.detune_cents) / 100.0 if condition.detune_cents else 0.0
        played.append((round(pitch + detune, 3), start_s + onset_s + shift_s, stretched_s * ARTICULATION,
                       int(rng.integers(85, 111))))
        shift_s += stretched_s - duration_s
    return tuple(played)


# --- accompaniment ----------------------------------------------------------------------------

_TRIADS = tuple((root, (root, (root + third) % 12, (root + 7) % 12)) for root in range(12) for third in (3, 4))


def accompany(passages: Sequence[_Passage], rng: np.random.Generator) -> list[Part]:
    """Block chords, a bass line and a light drum kit under the melody, over the whole clip.

    Every two beats of each passage gets the triad that best covers the melody notes sounding
    then, voiced just below the melody's lowest note there, so the melody stays the top voice.
    """
    chords, bass, drums = [], [], []
    triad, lowest = _TRIADS[0], round(passages[0].notes[0][0])
    for passage, following in zip(passages, [*passages[1:], None]):
        bar_s = 2.0 * passage.beat_s
        until_s = following.start_s if following else passage.end_s
        for bar_start_s in np.arange(passage.start_s, until_s, bar_s):
            bar_end_s = min(bar_start_s + bar_s, until_s)
            sounding = [note for note in passage.notes if bar_start_s <= note[1] < bar_end_s]
            if sounding:
                triad = _best_triad(sounding)
                lowest = min(round(note[0]) for note in sounding)
            beat_s, second_beat_s = passage.beat_s, bar_start_s + passage.beat_s
            chords += [(pitch, bar_start_s, 0.95 * (bar_end_s - bar_start_s), 60) for pitch in _voicing(triad, lowest)]
            root = 36 + triad[0]  # C2-B2
            bass += [(root, bar_start_s, 0.9 * beat_s, 65), (root + 7, second_beat_s, 0.9 * beat_s, 58)]
            drums += [(KICK, bar_start_s, 0.1, 70), (SNARE, second_beat_s, 0.1, 55)]
            drums += [(CLOSED_HAT, hat_s, 0.05, 45) for hat_s in np.arange(bar_start_s, bar_end_s, beat_s / 2)]
    return [Part(chords, int(rng.choice(CHORD_PROGRAMS)), channel=13),
            Part(bass, int(rng.choice(BASS_PROGRAMS)), channel=14),
            Part(drums, channel=DRUM_CHANNEL)]


def _best_triad(notes: Sequence[NoteEvent]) -> tuple[int, tuple[int, int, int]]:
    """The major or minor triad whose pitch classes cover the most sounding time of the notes."""
    weights = np.zeros(12)
    for pitch, _, duration_s, _ in notes:
        weights[round(pitch) % 12] += duration_s
    return max(_TRIADS, key=lambda triad: sum(weights[pitch_class] for pitch_class in triad[1]))


def _voicing(triad: tuple[int, tuple[int, int, int]], lowest_melody: int) -> list[int]:
    """The triad's pitches, each the highest of its class at least 3 semitones below the melody."""
    top = lowest_melody - 3
    return [top - (top - pitch_class) % 12 for pitch_class in triad[1]]


# --- audio --------------------------------------------------------------------------------------


def render_clip(
    condition: Condition, passages: Sequence[_Passage], rng: np.random.Generator,
) -> tuple[np.ndarray, dict]:
    """The clip's audio (mono float32, SAMPLE_RATE) and the settings drawn for it."""
    settings: dict = {}
    if condition.voice_centre is not None:
        settings["vowel"] = str(rng.choice(sorted(VOWELS)))
        audio = hum([note for passage in passages for note in passage.notes], SAMPLE_RATE, rng, settings["vowel"])
    else:
        settings["programs"] = sorted({passage.program for passage in passages})
        parts = _melody_parts(passages)
        if condition.accompaniment:
            parts += accompany(passages, rng)
        audio = render(parts, SAMPLE_RATE)
    if condition.reverberance_range is not None:
        settings["reverberance"] = round(float(rng.uniform(*condition.reverberance_range)), 1)
        audio = add_reverb(audio, settings["reverberance"])
    if condition.snr_db_range is not None:
        settings["snr_db"] = round(float(rng.uniform(*condition.snr_db_range)), 1)
        settings["noise"] = str(rng.choice(["white", "pink"]))
        audio = add_noise(audio, settings["snr_db"], settings["noise"], rng)
    settings["peak"] = round(float(rng.uniform(0.3, 0.9)), 2)
    return (audio * settings["peak"] / max(float(np.max(np.abs(audio))), 1e-9)).astype(np.float32), settings


def _melody_parts(passages: Sequence[_Passage]) -> list[Part]:
    """One Part per program of the melody line, each on its own channel (skipping drums)."""
    programs = sorted({passage.program for passage in passages})
    channels = [channel for channel in range(16) if channel != DRUM_CHANNEL]
    return [Part([note for passage in passages if passage.program == program for note in passage.notes],
                 program, channels[index]) for index, program in enumerate(programs)]


def add_noise(audio: np.ndarray, snr_db: float, color: str, rng: np.random.Generator) -> np.ndarray:
    """audio plus white or pink ("pink": power falls 3 dB per octave) noise at snr_db.

    The ratio is of mean powers over the whole clip.
    """
    noise = rng.standard_normal(len(audio))
    if color == "pink":
        spectrum = np.fft.rfft(noise)
        spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
        spectrum[0] = 0.0
        noise = np.fft.irfft(spectrum, len(audio))
    noise *= np.sqrt(np.mean(audio**2) / np.mean(noise**2) / 10.0 ** (snr_db / 10.0))
    return audio + noise


def add_reverb(audio: np.ndarray, reverberance: float) -> np.ndarray:
    """audio through sox's reverb (room scale 100 %, reverberance in %), with its tail kept."""
    with tempfile.TemporaryDirectory() as tmp:
        dry, wet = Path(tmp) / "dry.wav", Path(tmp) / "wet.wav"
        soundfile.write(dry, 0.25 * audio / max(float(np.max(np.abs(audio))), 1e-9), SAMPLE_RATE, subtype="FLOAT")
        subprocess.run(["sox", "-G", str(dry), str(wet), "pad", "0", "1", "reverb", f"{reverberance:.1f}"],
                       check=True, capture_output=True)
        reverberated, _ = soundfile.read(wet, dtype="float32")
    return reverberated


# --- sets ----------------------------------------------------------------------------------------


def build_set(
    size: Size | str = "quick", seed: int = 0, conditions: Sequence[str] = CONDITION_NAMES,
    cache_dir: Path = CACHE_DIR, workers: int = 2, progress: bool = True,
) -> TestSet:
    """Generate the set for (size, seed, conditions), or load it when it is already in cache_dir.

    A clip's content depends only on the seed, its condition's name and its index, so a set
    made of fewer conditions holds the very same clips for those conditions. Generating a set
    deletes the older sets of the same size and seed (made by an earlier version of the code).
    """
    size = SIZES[size] if isinstance(size, str) else size
    unknown = set(conditions) - set(CONDITION_NAMES)
    if unknown:
        raise ValueError(f"unknown conditions {sorted(unknown)}; known: {', '.join(CONDITION_NAMES)}")
    directory = cache_dir / "sets" / f"{size.name}-seed{seed}-{_digest(size, conditions)}"
    manifest = directory / MANIFEST
    if manifest.exists():
        return load_set(manifest)
    for stale in directory.parent.glob(f"{size.name}-seed{seed}-*"):
        shutil.rmtree(stale)
    tunes = load_tunes(size.n_themes + size.n_distractor_tunes, cache_dir)
    themes, distractors = choose_themes(tunes, size.n_themes, np.random.default_rng(seed))
    jobs = [(condition, index, clip_themes) for condition in CONDITIONS if condition.name in conditions
            for index, clip_themes in enumerate(_assign_themes(condition, themes, size, seed))]
    directory.mkdir(parents=True, exist_ok=True)

    def make(job: tuple[Condition, int, list[Theme]]) -> Clip:
        condition, index, clip_themes = job
        return _make_clip(condition, index, clip_themes, distractors, size, seed, directory)

    with ThreadPoolExecutor(max_workers=workers) as pool:  # FluidSynth and sox run as processes
        clips = list(tqdm(pool.map(make, jobs), total=len(jobs), desc=f"generating {size.name} set",
                          unit="clip", disable=not progress))
    return save_set(TestSet(size, seed, directory, tuple(themes), tuple(clips)))


def _assign_themes(condition: Condition, themes: Sequence[Theme], size: Size, seed: int) -> list[list[Theme]]:
    """Themes for each clip of a condition: all themes in a shuffled order, then again, as needed."""
    if not condition.has_theme:
        return [[] for _ in range(size.no_theme_clips)]
    rng = clip_rng(seed, condition.name, -1)
    order = [themes[i] for _ in range(math.ceil(size.clips_per_condition * size.occurrences_per_clip / len(themes)))
             for i in rng.permutation(len(themes))]
    per_clip = size.occurrences_per_clip
    return [order[index * per_clip:(index + 1) * per_clip] for index in range(size.clips_per_condition)]


def _make_clip(
    condition: Condition, index: int, clip_themes: Sequence[Theme], distractors: Sequence[Tune], size: Size,
    seed: int, directory: Path,
) -> Clip:
    """Plan, render and store one clip with its ground truth (audio as FLAC, truth as JSON)."""
    rng = clip_rng(seed, condition.name, index)
    passages, occurrences = _plan_clip(condition, clip_themes, distractors, size.no_theme_clip_s, rng)
    audio, settings = render_clip(condition, passages, rng)
    name = f"{condition.name}-{index:02d}"
    clip = Clip(name, condition.name, directory / f"{name}.flac", round(len(audio) / SAMPLE_RATE, 4),
                tuple(occurrences), settings)
    soundfile.write(clip.audio_path, audio, SAMPLE_RATE, subtype="PCM_16")
    (directory / f"{name}.json").write_text(json.dumps(_clip_record(clip), indent=1))
    return clip


def clip_rng(seed: int, condition_name: str, index: int) -> np.random.Generator:
    """The random stream of one clip (index >= 0) or of a condition's theme order (index -1)."""
    return np.random.default_rng([seed, zlib.crc32(condition_name.encode()), index + 1])


def _digest(size: Size, conditions: Sequence[str]) -> str:
    """Short hash of the size, the conditions and the generator's code: a changed recipe, a new set."""
    code = b"".join((Path(__file__).parent / name).read_bytes() for name in ("data.py", "render.py", "voice.py"))
    recipe = json.dumps([asdict(size), sorted(conditions)]).encode()
    return hashlib.sha256(code + recipe).hexdigest()[:10]


def _clip_record(clip: Clip) -> dict:
    return {**asdict(clip), "audio_path": clip.audio_path.name}


def _set_record(test_set: TestSet) -> dict:
    return {
        "size": asdict(test_set.size),
        "seed": test_set.seed,
        "sample_rate": SAMPLE_RATE,
        "themes": [{"name": theme.name, "source": theme.source, "notes": _note_records(theme.notes),
                    "harmony": _note_records(theme.harmony)}
                   for theme in test_set.themes],
        "clips": [_clip_record(clip) for clip in test_set.clips],
    }


def _note_records(notes: Sequence[Note]) -> list[list[float]]:
    return [[note.pitch, round(note.onset_s, 4), round(note.duration_s, 4)] for note in notes]


def save_set(test_set: TestSet) -> TestSet:
    """Write the set's manifest (set.json) into its directory; return the set as read back from
    it, so that a set just built and one found in the cache are the same to the last digit."""
    manifest = test_set.directory / MANIFEST
    manifest.write_text(json.dumps(_set_record(test_set), indent=1))
    return load_set(manifest, type(test_set.size))


def load_set(manifest: Path, size_type: type[Size] = Size) -> TestSet:
    """Read a set back from its set.json; its size is a size_type (a generator's own, which
    may say more than Size)."""
    record = json.loads(manifest.read_text())
    themes = tuple(Theme(name=theme["name"], notes=tuple(Note(*note) for note in theme["notes"]),
                         source=theme["source"], harmony=tuple(Note(*note) for note in theme["harmony"]))
                   for theme in record["themes"])
    clips = tuple(Clip(clip["name"], clip["condition"], manifest.parent / clip["audio_path"], clip["duration_s"],
                       tuple(Occurrence(**occurrence) for occurrence in clip["occurrences"]), clip["settings"])
                  for clip in record["clips"])
    return TestSet(size_type(**record["size"]), record["seed"], manifest.parent, themes, clips)


def generator_main(argv: Sequence[str] | None, docstring: str, sizes: Sequence[str],
                   build: Callable[[str, int], TestSet]) -> None:
    """The command line of a set generator: build (or find) the set of --size and --seed, and
    say what it holds and where."""
    parser = argparse.ArgumentParser(description=docstring.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(sizes), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    test_set = build(args.size, args.seed)
    audio_s = test_set.audio_s
    print(f"{len(test_set.themes)} themes, {len(test_set.clips)} clips, {audio_s / 60:.1f} min of audio "
          f"in {test_set.directory}")


def main(argv: Sequence[str] | None = None) -> None:
    generator_main(argv, __doc__, SIZES, build_set)


if __name__ == "__main__":
    main()
