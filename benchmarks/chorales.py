"""Ensemble test sets: themes inside four-part Bach chorales, rendered on sampled instruments.

A theme is the incipit (10-16 notes) of one voice of a chorale from music21's corpus: the
soprano (the theme in the top voice), the alto or tenor (an inner voice) or the bass. A clip
plays whole four-part passages one after another: a passage of another chorale, the opening of
a theme's chorale (all four voices, the theme in its voice), another chorale, ... Each
condition scores the four voices its own way:

- top_voice: four solo instruments, the soprano carrying the theme;
- inner_voice: the theme in the alto or tenor, brought out by a solo instrument (horn,
  clarinet, ...) LEAD_GAIN_DB over strings and winds, as an orchestrator does;
- bass: the theme in the bass, brought out the same way (trombone, cello, bassoon, tuba);
- orchestra: strings doubled by brass (violins and trumpet, horns, violas, trombone and double
  basses), timpani on the bass and a light snare and cymbal, the theme in the top voice;
- no_theme: passages of chorales holding no theme, scored like top_voice (false alarms).

Each voice is rendered on its own and balanced to the same power before the mix (sampled
instruments differ by 20 dB and more; players balance a chorale). The voice an orchestration
brings out is the clip's melody: the ground truth of the melody
pitch accuracy, kept with each clip as `settings["melody"]` (MIDI pitch, onset s, duration s).

No voice of a distractor passage shares a run of six pitch changes with any theme, so a
distractor can never be a theme in disguise (many chorales harmonise the same hymn tune, and
their inner voices share stock figures: whole chorales free of every theme's runs are too few).
Everything follows from (size, seed) and is cached under `benchmarks/.cache/` like the solo
sets of `benchmarks.data`.

    python -m benchmarks.chorales --size quick --seed 0     # generate (or find) a set
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile
from tqdm import tqdm

from benchmarks.data import (CACHE_DIR, DRUM_CHANNEL, MANIFEST, MIN_THEME_PITCHES, SAMPLE_RATE, THEME_NOTES,
                             Clip, NoteEvent, Occurrence, Size, TestSet, clip_rng, generator_main,
                             interval_runs, load_set, save_set)
from benchmarks.render import Part, render
from detector.notes import Note
from detector.themes import Theme, theme_from_notes

VOICES = ("soprano", "alto", "tenor", "bass")
#: (MIDI pitch, onset, duration) in quarter notes: one voice of a chorale, ties merged.
Line = tuple[tuple[int, float, float], ...]

BEAT_S = (0.42, 0.62)          # a quarter note as performed, s (a chorale's walking pace)
TEMPO_RANGE = (0.8, 1.25)      # performed / template tempo of each theme occurrence
TRANSPOSES = tuple(range(-5, 7))
DISTRACTOR_BEATS = (8, 16)     # length of a distractor passage, quarter notes
MAX_DISTRACTOR_DRAWS = 1000    # passages drawn for one free of the themes' runs, at most
GAP_S = (0.2, 0.8)             # silence between passages (a breath between phrases)
MIN_QUARTERS = 24              # a chorale shorter than this gives no distractor passage
CONDITION_NAMES = ("top_voice", "inner_voice", "bass", "orchestra", "no_theme")
THEME_VOICES = {"top_voice": (0,), "inner_voice": (1, 2), "bass": (3,), "orchestra": (0,), "no_theme": ()}

#: General MIDI programs a solo voice is drawn from, by voice (four solo instruments).
SOLO_PROGRAMS = ((73, 68, 40, 56), (71, 41, 69), (60, 41, 70), (42, 70, 58))
#: A brought-out inner voice or bass: the instrument that plays it ...
LEAD_PROGRAMS = {1: (60, 71, 65, 56), 2: (60, 71, 42, 65), 3: (57, 42, 70, 58)}
#: ... over these (string ensemble, strings, reed organ, woodwinds).
BACKGROUND_PROGRAMS = (48, 49, 19, 71, 68)
VELOCITY = 80
LEAD_GAIN_DB = 6.0             # a brought-out inner voice or bass, over each other voice
TOP_GAIN_DB = 3.0              # the soprano, over each other voice: players lead with the tune
PERCUSSION_DB = -6.0           # the percussion, under each voice
#: orchestra: per voice, the (program, velocity) of each instrument playing it.
ORCHESTRA = (((48, 85), (56, 70)),          # violins and trumpet
             ((60, 80),),                   # horns
             ((41, 80), (60, 60)),          # violas and a second horn
             ((57, 75), (43, 80)))          # trombone and double basses
TIMPANI = 47
SNARE, CRASH = 38, 49


@dataclass(frozen=True)
class ChoraleSize(Size):
    """A chorale set's size, and where in the corpus its chorales begin: the sets the melody
    network learns from (benchmarks/melody_notes.py) take none of the benchmarks' chorales."""

    first_chorale: int = 0


_FULL = ChoraleSize("full", n_themes=32, n_distractor_tunes=150, clips_per_condition=8, occurrences_per_clip=3,
                    no_theme_clips=4, no_theme_clip_s=60.0)
SIZES = {
    "quick": ChoraleSize("quick", n_themes=8, n_distractor_tunes=24, clips_per_condition=2, occurrences_per_clip=2,
                         no_theme_clips=1, no_theme_clip_s=60.0),
    "full": _FULL,
    # The corpus holds 328 chorales of four single-line voices: those after the full sets' (of
    # which 30 give a theme).
    "train": replace(_FULL, name="train", n_themes=24, n_distractor_tunes=118,
                     first_chorale=_FULL.n_themes + _FULL.n_distractor_tunes),
}


@dataclass(frozen=True)
class Chorale:
    """A four-part chorale from the corpus: its id (e.g. "bwv269") and its voices, top down."""

    chorale_id: str
    voices: tuple[Line, ...]

    @property
    def length_q(self) -> float:
        return max(onset + duration for line in self.voices for _, onset, duration in line)


class Distractors(NamedTuple):
    """What distractor passages are drawn from: the chorales, and the themes' fingerprints
    (their runs of six pitch changes, `interval_runs`), which no voice of a passage may hold."""

    chorales: tuple[Chorale, ...]
    theme_runs: frozenset[tuple[int, ...]]


class ThemeSource(NamedTuple):
    """A theme and where it is in the corpus: its chorale and the voice (0 soprano - 3 bass)."""

    theme: Theme
    chorale: Chorale
    voice: int


@dataclass(frozen=True)
class _Passage:
    """Part of a chorale as performed: each voice's notes in clip time, the voice the scoring
    brings out (the melody; in a theme's passage, the theme's voice), and the theme it holds."""

    voices: tuple[tuple[NoteEvent, ...], ...]
    beat_s: float
    occurrence: Occurrence | None = None
    lead: int = 0

    @property
    def end_s(self) -> float:
        return max(onset + duration for voice in self.voices for _, onset, duration, _ in voice)


# --- chorales from the corpus ----------------------------------------------------------------


#: The version of what `_parse_chorales` keeps, in its cache's name: a new one parses again.
PARSE_VERSION = 2


def load_chorales(n_chorales: int, cache_dir: Path = CACHE_DIR, progress: bool = True) -> list[Chorale]:
    """The first n_chorales four-part chorales of music21's corpus (parsed once, cached as JSON)."""
    path = cache_dir / "melodies" / f"chorales-{n_chorales}-v{PARSE_VERSION}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(chorale) for chorale in _parse_chorales(n_chorales, progress)]))
    return [Chorale(record["chorale_id"], tuple(tuple(tuple(note) for note in line) for line in record["voices"]))
            for record in json.loads(path.read_text())]


def _parse_chorales(n_chorales: int, progress: bool) -> list[Chorale]:
    """Chorales with exactly the four voices, each a single line, in the corpus's order, each
    once (the corpus lists a few twice)."""
    from music21 import corpus  # optional benchmark dependency, and slow to import

    chorales = []
    seen = set()
    for name in tqdm(corpus.chorales.Iterator(returnType="filename"), desc="parsing chorales", unit="chorale",
                     disable=not progress):
        if name in seen:
            continue
        seen.add(name)
        score = corpus.parse(name)
        if [part.partName for part in score.parts] != ["Soprano", "Alto", "Tenor", "Bass"]:
            continue
        lines = [tuple((note.pitch.midi, float(note.offset), float(note.quarterLength))
                       for note in part.stripTies().flatten().notes if not note.isChord and note.quarterLength > 0)
                 for part in score.parts]
        if all(lines) and max(onset + length for onset_line in lines for _, onset, length in onset_line) >= MIN_QUARTERS:
            chorales.append(Chorale(name.split("/")[-1], tuple(lines)))
            if len(chorales) == n_chorales:
                break
    return chorales


# --- themes and distractors -------------------------------------------------------------------


def choose_themes(chorales: Sequence[Chorale], size: Size, seed: int) -> tuple[dict[str, list[ThemeSource]], Distractors]:
    """Themes for each condition (by its voice) from distinct chorales, and the distractors: the
    other chorales, with the themes' runs.

    A theme's incipit must be melodic (MIN_THEME_PITCHES distinct pitches, a run of six pitch
    changes). Its runs are those of every voice of its chorale's opening, up to the incipit's
    end (a theme carries that harmony, and its passage plays it), and share none with another
    theme's: two settings of one hymn tune are not two themes.
    """
    rng = np.random.default_rng([seed, 7])
    conditions = [name for name in CONDITION_NAMES if THEME_VOICES[name]]
    per_condition = size.n_themes // len(conditions)
    themes: dict[str, list[ThemeSource]] = {name: [] for name in conditions}
    theme_runs: set[tuple[int, ...]] = set()
    used: set[str] = set()
    wanted = [name for name in conditions for _ in range(per_condition)]
    for index in rng.permutation(len(chorales)):
        if not wanted:
            break
        chorale = chorales[index]
        voice = int(rng.choice(THEME_VOICES[wanted[0]]))
        incipit = chorale.voices[voice][:int(rng.integers(THEME_NOTES[0], THEME_NOTES[1] + 1))]
        runs = opening_runs(chorale, end_q(incipit))
        if (len({pitch for pitch, _, _ in incipit}) < MIN_THEME_PITCHES
                or not interval_runs([pitch for pitch, _, _ in incipit]) or runs & theme_runs):
            continue
        themes[wanted.pop(0)].append(ThemeSource(_theme(chorale, voice, incipit, rng), chorale, voice))
        theme_runs |= runs
        used.add(chorale.chorale_id)
    if wanted:
        raise ValueError(f"found only {size.n_themes - len(wanted)} distinct themes among {len(chorales)} chorales")
    return themes, Distractors(tuple(chorale for chorale in chorales if chorale.chorale_id not in used),
                               frozenset(theme_runs))


def end_q(line: Line) -> float:
    """Where a line's last note ends, in quarter notes."""
    return line[-1][1] + line[-1][2]


def opening_runs(chorale: Chorale, until_q: float) -> set[tuple[int, ...]]:
    """The runs of six pitch changes (`interval_runs`) of every voice of the chorale's opening:
    the notes that begin before until_q."""
    return set().union(*(interval_runs([pitch for pitch, onset, _ in line if onset < until_q])
                         for line in chorale.voices))


def _theme(chorale: Chorale, voice: int, incipit: Line, rng: np.random.Generator) -> Theme:
    """The incipit as a theme at a drawn template tempo, with its harmony: every voice's notes
    under it (those that sound from its first note to its last's end, cut there), as a score of
    the passage would give them (the harmony path matches those)."""
    beat_s = float(rng.uniform(*BEAT_S))
    first_q, last_q = incipit[0][1], end_q(incipit)

    def notes(line: Line) -> list[Note]:
        return [Note(float(pitch), (max(onset, first_q) - first_q) * beat_s,
                     (min(onset + duration, last_q) - max(onset, first_q)) * beat_s)
                for pitch, onset, duration in line if onset < last_q and onset + duration > first_q]

    return theme_from_notes(f"BWV {chorale.chorale_id[3:]} {VOICES[voice]}", notes(incipit),
                            f"music21 corpus bach/{chorale.chorale_id}, {VOICES[voice]}",
                            all_notes=[note for line in chorale.voices for note in notes(line)])


# --- planning and rendering a clip ------------------------------------------------------------


def plan_clip(clip_themes: Sequence[ThemeSource], distractors: Distractors, length_s: float,
              rng: np.random.Generator) -> list[_Passage]:
    """Distractor, theme, distractor, ..., distractor; without themes, distractors for length_s.

    A distractor's melody is in the voice of the theme after it (the last one's, of the theme
    before it): the bringing out does not give away where a theme is."""
    passages: list[_Passage] = []
    now_s = 0.0
    pending = list(clip_themes)
    lead = clip_themes[0].voice if clip_themes else 0
    while True:
        lead = pending[0].voice if pending else lead
        passage = _distractor_passage(distractors, now_s, lead, rng)
        passages.append(passage)
        now_s = passage.end_s + rng.uniform(*GAP_S)
        if not pending and (clip_themes or now_s >= length_s):
            return passages
        if pending:
            passage = _theme_passage(*pending.pop(0), now_s, rng)
            passages.append(passage)
            now_s = passage.end_s + rng.uniform(*GAP_S)


def _distractor_passage(distractors: Distractors, start_s: float, lead: int, rng: np.random.Generator) -> _Passage:
    """A passage of a drawn length from a drawn chorale at a drawn place, tempo and key, none of
    whose voices holds a theme's run (chorale and place drawn again until so, at the same length:
    a long passage holds a theme's run more often, and redrawing its length would leave the
    long ones out). Passages with the stock figures the themes share are still left out."""
    beats = int(rng.integers(*DISTRACTOR_BEATS))
    for _ in range(MAX_DISTRACTOR_DRAWS):
        chorale = distractors.chorales[int(rng.integers(len(distractors.chorales)))]
        first_q = float(rng.integers(0, max(1, int(chorale.length_q) - beats)))
        passage = _perform(chorale, first_q, first_q + beats, start_s, float(rng.uniform(*BEAT_S)),
                           int(rng.choice(TRANSPOSES)))
        if not any(interval_runs([pitch for pitch, *_ in voice]) & distractors.theme_runs for voice in passage.voices):
            return replace(passage, lead=lead)
    raise ValueError(f"no distractor passage free of the themes' runs in {MAX_DISTRACTOR_DRAWS} draws "
                     f"from {len(distractors.chorales)} chorales: load more chorales (Size.n_distractor_tunes)")


def _theme_passage(theme: Theme, chorale: Chorale, voice: int, start_s: float, rng: np.random.Generator) -> _Passage:
    """The chorale's opening up to the end of the theme's incipit (all voices), at a drawn tempo and key."""
    line = chorale.voices[voice]
    incipit = line[:len(theme.notes)]
    last_q = end_q(incipit)
    template_beat_s = theme.notes[-1].end_s / (last_q - incipit[0][1])
    tempo = float(rng.uniform(*TEMPO_RANGE))
    transpose = int(rng.choice(TRANSPOSES))
    passage = _perform(chorale, 0.0, last_q, start_s, template_beat_s / tempo, transpose)
    theme_notes = passage.voices[voice]  # the incipit: the voice's notes up to last_q
    occurrence = Occurrence(theme.name, round(theme_notes[0][1], 4),
                            round(theme_notes[-1][1] + theme_notes[-1][2], 4), transpose, round(tempo, 4),
                            len(theme_notes))
    return _Passage(passage.voices, passage.beat_s, occurrence, lead=voice)


def _perform(chorale: Chorale, first_q: float, end_q: float, start_s: float, beat_s: float,
             transpose: int) -> _Passage:
    """The notes of every voice starting in [first_q, end_q), from start_s at beat_s, cut at end_q."""
    voices = tuple(tuple((float(pitch + transpose), start_s + (onset - first_q) * beat_s,
                          (min(onset + duration, end_q) - onset) * beat_s * 0.95, 0)
                         for pitch, onset, duration in line if first_q <= onset < end_q)
                   for line in chorale.voices)
    return _Passage(voices, beat_s)


@dataclass(frozen=True)
class Scoring:
    """Who plays what, as stems rendered and balanced apart: each stem's instruments and its
    level (dB) relative to a voice once every stem is balanced to the same power. The first
    stem plays the melody (each passage's brought-out voice); the others, a voice each, play
    that voice where it is not the melody; then the percussion, if any."""

    stems: tuple[tuple[tuple[Part, ...], float], ...]
    settings: dict


def orchestrate(condition: str, passages: Sequence[_Passage], rng: np.random.Generator) -> Scoring:
    """The condition's scoring of the passages, with the programs it drew."""
    melody = [note for passage in passages for note in passage.voices[passage.lead]]
    others = [[note for passage in passages if passage.lead != voice for note in passage.voices[voice]]
              for voice in range(4)]
    if condition == "orchestra":  # the melody is the soprano throughout
        def played(notes: Sequence[NoteEvent], voice: int) -> tuple[Part, ...]:
            return tuple(Part(_at(notes, velocity), program, channel) for channel, (program, velocity)
                         in enumerate(ORCHESTRA[voice]))
        stems = ((played(melody, 0), TOP_GAIN_DB), *((played(others[voice], voice), 0.0) for voice in (1, 2, 3)),
                 (tuple(_percussion(passages)), PERCUSSION_DB))
        return Scoring(stems, {"programs": "strings + brass + timpani + snare/cymbal"})
    if condition in ("inner_voice", "bass"):
        lead = int(rng.choice(LEAD_PROGRAMS[passages[0].lead]))
        background = int(rng.choice(BACKGROUND_PROGRAMS))
        stems = ((( Part(_at(melody, VELOCITY), lead),), LEAD_GAIN_DB),
                 *(((Part(_at(others[voice], VELOCITY), background),), 0.0) for voice in range(4) if others[voice]))
        return Scoring(stems, {"programs": {"lead": lead, "background": background}})
    programs = [int(rng.choice(choices)) for choices in SOLO_PROGRAMS]
    stems = (((Part(_at(melody, VELOCITY), programs[0]),), TOP_GAIN_DB),
             *(((Part(_at(others[voice], VELOCITY), programs[voice]),), 0.0) for voice in (1, 2, 3)))
    return Scoring(stems, {"programs": programs})


def lead_instrument(clip: Clip) -> str | None:
    """The solo instrument that plays a clip's melody (its General MIDI name, as music21 gives
    it): the one that brings out an inner voice or the bass, or the soprano of four solo
    instruments (TOP_GAIN_DB over the others, with or without a theme); None in the orchestra,
    whose melody is on violins and a trumpet together.

    Trackers read some instruments far better than others, and each clip draws its own: this is
    what tells a tracker's weakness from the luck of a draw."""
    programs = clip.settings["programs"]
    if isinstance(programs, str):
        return None
    from music21 import instrument  # optional benchmark dependency, and slow to import
    lead = programs["lead"] if isinstance(programs, dict) else programs[0]  # the soprano's
    return instrument.instrumentFromMidiProgram(lead).instrumentName


def mix(scoring: Scoring) -> np.ndarray:
    """The stems rendered one by one, each scaled to the same power and then by its gain, and
    summed (mono float32, SAMPLE_RATE).

    Sampled instruments differ in loudness by 20 dB and more (a tuba against a flute); players
    balance a chorale so that every voice is heard, which is what the equal power stands for."""
    rendered = [(render(list(parts), SAMPLE_RATE), gain_db) for parts, gain_db in scoring.stems]
    mixed = np.zeros(max(len(audio) for audio, _ in rendered), dtype=np.float64)
    for audio, gain_db in rendered:
        rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        mixed[:len(audio)] += audio * (10.0 ** (gain_db / 20.0) / max(rms, 1e-9))
    return mixed.astype(np.float32)


def _percussion(passages: Sequence[_Passage]) -> list[Part]:
    """Timpani on the bass note every two beats, a soft snare on each beat, a cymbal per passage."""
    timpani, kit = [], []
    for passage in passages:
        bass = passage.voices[3]
        start_s = min(note[1] for voice in passage.voices for note in voice)
        kit.append((CRASH, start_s, 0.5, 70))
        for beat_s in np.arange(start_s, passage.end_s, passage.beat_s):
            kit.append((SNARE, float(beat_s), 0.08, 40))
            sounding = [note for note in bass if note[1] <= beat_s < note[1] + note[2]]
            if sounding and round((beat_s - start_s) / passage.beat_s) % 2 == 0:
                timpani.append((41.0 + (sounding[0][0] - 41.0) % 12, float(beat_s), 0.4, 85))  # F2-E3
    return [Part(timpani, TIMPANI), Part(kit, channel=DRUM_CHANNEL)]


def _at(notes: Sequence[NoteEvent], velocity: int) -> list[NoteEvent]:
    return [(pitch, onset, duration, velocity) for pitch, onset, duration, _ in notes]


# --- sets ----------------------------------------------------------------------------------------


def build_set(size: ChoraleSize | str = "quick", seed: int = 0, cache_dir: Path = CACHE_DIR, workers: int = 2,
              progress: bool = True) -> TestSet:
    """Generate the ensemble set for (size, seed), or load it when it is already in cache_dir.

    The theme library holds every condition's themes; each clip's `settings["melody"]` is the
    line its scoring brings out, and `settings["melody_voices"]` which voices that is in.
    """
    size = SIZES[size] if isinstance(size, str) else size
    directory = cache_dir / "sets" / f"chorales-{size.name}-seed{seed}-{_digest(size)}"
    manifest = directory / MANIFEST
    if manifest.exists():
        return load_set(manifest, ChoraleSize)
    for stale in directory.parent.glob(f"chorales-{size.name}-seed{seed}-*"):
        shutil.rmtree(stale)
    chorales = load_chorales(size.first_chorale + size.n_themes + size.n_distractor_tunes, cache_dir,
                             progress)[size.first_chorale:]
    themes, distractors = choose_themes(chorales, size, seed)
    jobs = [(condition, index) for condition in CONDITION_NAMES
            for index in range(size.clips_per_condition if THEME_VOICES[condition] else size.no_theme_clips)]
    directory.mkdir(parents=True, exist_ok=True)

    def make(job: tuple[str, int]) -> Clip:
        condition, index = job
        rng = clip_rng(seed, f"chorales-{condition}", index)
        pool = themes.get(condition, [])
        sources = [pool[(index * size.occurrences_per_clip + k) % len(pool)]
                   for k in range(size.occurrences_per_clip)] if pool else []
        passages = plan_clip(sources, distractors, size.no_theme_clip_s, rng)
        scoring = orchestrate(condition, passages, rng)
        audio = mix(scoring)
        settings = scoring.settings
        peak = float(rng.uniform(0.3, 0.9))
        audio = (audio * peak / max(float(np.max(np.abs(audio))), 1e-9)).astype(np.float32)
        melody = [[pitch, round(onset, 4), round(duration, 4)]
                  for passage in passages for pitch, onset, duration, _ in passage.voices[passage.lead]]
        name = f"{condition}-{index:02d}"
        clip = Clip(name, condition, directory / f"{name}.flac", round(len(audio) / SAMPLE_RATE, 4),
                    tuple(passage.occurrence for passage in passages if passage.occurrence),
                    {**settings, "peak": round(peak, 2), "melody_voices": sorted({VOICES[passage.lead] for passage in passages}),
                     "melody": melody})
        soundfile.write(clip.audio_path, audio, SAMPLE_RATE, subtype="PCM_16")
        return clip

    with ThreadPoolExecutor(max_workers=workers) as pool:  # FluidSynth runs as a process
        clips = list(tqdm(pool.map(make, jobs), total=len(jobs), desc=f"generating chorale {size.name} set",
                          unit="clip", disable=not progress))
    library = tuple(source.theme for pool in themes.values() for source in pool)
    return save_set(TestSet(size, seed, directory, library, tuple(clips)))


def _digest(size: ChoraleSize) -> str:
    """Short hash of the size and the generator's code: a changed recipe, a new set."""
    code = b"".join((Path(__file__).parent / name).read_bytes() for name in ("chorales.py", "data.py", "render.py"))
    return hashlib.sha256(code + json.dumps(asdict(size)).encode()).hexdigest()[:10]


def main(argv: Sequence[str] | None = None) -> None:
    generator_main(argv, __doc__, SIZES, build_set)


if __name__ == "__main__":
    main()
