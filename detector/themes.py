"""Theme: a named melody to listen for, and the loaders that make themes from files.

Formats:
- MIDI files (.mid, .midi), type 0 and 1, read with mido. The melody is the track or channel the
  user names, otherwise the top voice of the most melodic non-drum track. The harmony is every
  note of the named track or channel, otherwise every non-drum note of the file.
- Note lists (.txt, .notes): note names typed by hand, e.g. ``E4 E4 F4 G4 | G4 F4 E4 D4``, and
  chords, e.g. ``[C4 E4 G4]:2``.
- Notation: MusicXML (.musicxml, .mxl, .xml) and ABC (.abc), through music21 (notation.py);
  the melody is chosen as for MIDI files, the harmony is every part.
- A folder of such files, one theme each.
- A library file (.toml) listing themes with names, sources, display colours and sensitivity.

Every theme has a melody (`notes`, one line, for the pitch path); a template in which notes
sound together for a good share of the time also keeps all of them (`harmony`, for the chroma
path of harmony.py, which matches a theme given as chords).

A bad file raises ThemeError naming the file and what is wrong; `load_themes` collects those
errors and still loads the other themes.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import partial
from pathlib import Path

import mido
import numpy as np

from detector.errors import RenamedTheme, ThemeError, reason
from detector.notation import NOTATION_SUFFIXES, read_notation
from detector.notes import Note, name_to_midi

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Fewer notes than this cannot be told apart from chance.
MIN_NOTES = 4
#: The longest theme taken: a leitmotif or a tune lasts seconds; this long is a typo in a tempo.
MAX_THEME_S = 600.0
#: A template has harmony when two or more notes sound together for this share of the time
#: any note sounds: block chords or an accompaniment, not a legato overlap or one held note.
POLYPHONY_SHARE = 0.3


@dataclass(frozen=True)
class Theme:
    """A named melody, monophonic, in the key and tempo of its template, and its harmony if it
    has any.

    notes: the melody (the top voice of a polyphonic template), in time order, onsets in
        seconds from the theme's first note (which starts at 0).
    source: where it came from (a file path, or "text" for a typed note list).
    color: display colour as '#rrggbb', or None to let the display choose.
    sensitivity: multiplies the detection margin; 1.0 is the default, higher finds more and
        risks more false alarms.
    harmony: every note of the template, in time order, onsets from its own first note, when
        it is polyphonic (see `is_polyphonic`); empty for a melody.
    """

    name: str
    notes: tuple[Note, ...]
    source: str = ""
    color: str | None = None
    sensitivity: float = 1.0
    harmony: tuple[Note, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.notes[-1].end_s - self.notes[0].onset_s


def theme_from_notes(name: str, notes: Sequence[Note], source: str = "",
                     all_notes: Sequence[Note] = (), **options) -> Theme:
    """A Theme from notes in any time base: sorted, shifted so the first onset is 0, checked.

    notes: the melody. all_notes: every note of the template, the melody's voice included,
    kept as the theme's harmony if it is polyphonic.
    """
    notes = _from_zero(notes)
    harmony = _from_zero(all_notes) if is_polyphonic(all_notes) else ()
    theme = Theme(name=name, notes=notes, source=source, harmony=harmony, **options)
    problem = theme_problem(theme)
    if problem:
        raise ThemeError(f"{source or name}: {problem}")
    return theme


def theme_problem(theme: Theme) -> str | None:
    """What makes a theme unusable, in words (None: nothing). Asked by the loaders
    (`theme_from_notes`) and of any theme a Detector is given, however it was made: a pitch
    outside MIDI's range or a length past MAX_THEME_S (a typo in a tempo) would never be
    matched, and a NaN would be matched as garbage."""
    if len(theme.notes) < MIN_NOTES:
        return f"has {len(theme.notes)} note(s); a theme needs at least {MIN_NOTES}"
    for k in range(1, len(theme.notes)):
        if theme.notes[k].onset_s < theme.notes[k - 1].onset_s:
            return f"note {k + 1} starts before note {k}: a theme's notes are in time order"
    for k, note in enumerate((*theme.notes, *theme.harmony)):
        which = f"note {k + 1}" if k < len(theme.notes) else f"note {k + 1 - len(theme.notes)} of its harmony"
        if not 0 <= note.pitch <= 127:
            return f"{which}: pitch {note.pitch} is not a MIDI note number (0-127)"
        if not math.isfinite(note.onset_s):
            return f"{which}: its onset, {note.onset_s} s, is not a time"
        if not 0 <= note.duration_s < math.inf:
            return f"{which}: its length, {note.duration_s} s, is not 0 s or more"
    lasts_s = max(note.end_s for note in theme.notes) - theme.notes[0].onset_s
    if lasts_s > MAX_THEME_S:
        return f"lasts {lasts_s:.3g} s, and a theme is at most {MAX_THEME_S:.0f} s (is its tempo right?)"
    if not 0 < theme.sensitivity < math.inf:
        return f"sensitivity is a number above 0, not {theme.sensitivity!r}"
    return None


def _from_zero(notes: Sequence[Note]) -> tuple[Note, ...]:
    """The notes in time order, shifted so the first onset is 0."""
    notes = sorted(notes, key=lambda n: n.onset_s)
    t0 = notes[0].onset_s if notes else 0.0
    return tuple(Note(n.pitch, n.onset_s - t0, n.duration_s) for n in notes)


def is_polyphonic(notes: Sequence[Note]) -> bool:
    """Do two or more notes sound together for POLYPHONY_SHARE of the time any note sounds?"""
    # Sweep the onsets (+1) and ends (-1) in time order; at equal times ends come first, so a
    # note that starts as another ends does not overlap it.
    changes = sorted([(n.onset_s, 1) for n in notes] + [(n.end_s, -1) for n in notes])
    sounding_s = together_s = 0.0
    count, last_s = 0, 0.0
    for time_s, change in changes:
        if count >= 1:
            sounding_s += time_s - last_s
        if count >= 2:
            together_s += time_s - last_s
        count, last_s = count + change, time_s
    return sounding_s > 0.0 and together_s >= POLYPHONY_SHARE * sounding_s


# ---------------------------------------------------------------- note lists typed by hand

def parse_note_list(text: str, source: str = "text", default_name: str = "theme") -> Theme:
    """A theme from a typed note list.

    Format (one theme per file)::

        # a comment: '#' at the start of a line or after a space
        name: Ode to Joy        # optional; otherwise the file name
        tempo: 120              # optional, quarter notes per minute; default 120
        E4 E4 F4 G4 | G4 F4 E4 D4 | C4 C4 D4 E4 | E4:1.5 D4:0.5 D4:2

    A note is a name with octave (C4 is middle C; sharps '#', flats 'b'), optionally ':' and a
    length in beats (default 1; '1/2' and '0.5' both work). 'r' is a rest. '|' is ignored.
    A chord is note names in brackets, on one line, with an optional length for all of them:
    ``[C4 E4 G4]:2 [A3 C4 E4]:2``. A theme may be all chords (a progression); its melody is
    then the top voice, and its notes together are its harmony.
    """
    name, tempo_bpm, tokens = default_name, 120.0, []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT_RE.sub("", raw).strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("name", "tempo"):
            if key.strip().lower() == "name":
                name = value.strip() or default_name  # "name:" left blank
            else:
                tempo_bpm = _parse_number(value, f"{source}, line {line_no}: tempo")
            continue
        if sep and _KEY_RE.fullmatch(key.strip()):
            raise ThemeError(f"{source}, line {line_no}: '{key.strip()}:' is not a key a note list "
                             "takes (name: and tempo:; a library's other keys go in a .toml)")
        tokens += [(line_no, token) for token in _TOKEN_RE.findall(line.replace("|", " "))]
    seconds_per_beat = 60.0 / tempo_bpm
    notes, beat = [], 0.0
    for line_no, token in tokens:
        where = f"{source}, line {line_no}"
        pitches, length_text = _parse_token(token, where)
        beats = _parse_number(length_text, f"{where}: '{token}'") if length_text else 1.0
        notes += [Note(float(pitch), beat * seconds_per_beat, beats * seconds_per_beat)
                  for pitch in pitches]
        beat += beats
    if not notes:
        raise ThemeError(f"{source}: no notes found (expected note names like 'E4 F#4 G4')")
    return theme_from_notes(name, top_voice(notes), source, all_notes=notes)


_COMMENT_RE = re.compile(r"(^|\s)#.*$")  # '#' opens a comment only after a space: D#4 is a note
#: A word before ':' that is a key, not a note with its length (E4:2, r:1, Bb3:1/2) nor the last
#: of a row of notes or rests (r r:2).
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z_-]{2,}")
#: A note list's tokens: a bracketed chord (spaces inside) with its length, or a note or rest.
_TOKEN_RE = re.compile(r"\[[^\]]*\]\S*|\S+")
_CHORD_RE = re.compile(r"^\[([^\]]*)\](?::(.*))?$")


def _parse_token(token: str, where: str) -> tuple[list[int], str]:
    """(MIDI pitches, length text or '') of a note ('E4:2'), a rest ('r') or a chord
    ('[C4 E4 G4]:2'). ThemeError naming `where` and the token if it is none of these."""
    if token.startswith("["):
        chord = _CHORD_RE.match(token)
        if chord is None:
            raise ThemeError(f"{where}: '{token}' is not a chord like [C4 E4 G4]:2 (a chord is "
                             "closed with ']' on the same line, then optionally ':' and a length)")
        names, length_text = chord.group(1).split(), chord.group(2) or ""
        if not names:
            raise ThemeError(f"{where}: '{token}' is an empty chord")
        try:
            return [name_to_midi(name) for name in names], length_text
        except ValueError as error:
            raise ThemeError(f"{where}: in chord '{token}': {error}") from None
    pitch_text, _, length_text = token.partition(":")
    if not pitch_text:
        raise ThemeError(f"{where}: '{token}' has no note before it (a length follows its "
                         "note, with no space: E4:2)")
    if pitch_text.lower() == "r":
        return [], length_text
    try:
        return [name_to_midi(pitch_text)], length_text
    except ValueError as error:
        raise ThemeError(f"{where}: {error}") from None


def _parse_number(text: str, where: str) -> float:
    text = text.strip()
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise ThemeError(f"{where}: '{text}' is not a number") from None
    except OverflowError:  # 1e400
        raise ThemeError(f"{where}: '{text}' is too large a number") from None
    if value <= 0:
        raise ThemeError(f"{where}: must be positive, got {text}")
    return value


# ---------------------------------------------------------------- MIDI files

def load_midi(path: Path, track: str | int | None = None, channel: int | None = None,
              name: str | None = None) -> Theme:
    """A theme from a standard MIDI file (type 0 or 1), read with mido.

    track: a track name (case-insensitive substring) or index; channel: 0-15. Without either,
    the top voice of the most melodic non-drum track (or channel, in a type-0 file) is taken.
    The harmony (kept if polyphonic) is every note of the named track/channel, otherwise every
    non-drum note of the file.
    """
    try:
        midi = mido.MidiFile(path)
    except FileNotFoundError:
        raise ThemeError(f"{path}: no such file") from None
    except EOFError:  # mido's word for a file that stops before its header or a track ends
        raise ThemeError(f"{path}: not a readable MIDI file (it ends early: empty, or cut "
                         "short)") from None
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise ThemeError(f"{path}: not a readable MIDI file ({reason(error)})") from None
    voices = _midi_voices(midi)  # (track index, track name, channel) -> notes
    if not voices:
        raise ThemeError(f"{path}: contains no notes")
    candidates = {key: notes for key, notes in voices.items() if key[2] != DRUM_CHANNEL}
    if not candidates:
        raise ThemeError(f"{path}: has only drums (channel 10); a theme needs a melody")
    if track is not None or channel is not None:
        candidates = {key: notes for key, notes in candidates.items()
                      if _track_matches(key, track) and (channel is None or key[2] == channel)}
        if not candidates:
            available = ", ".join(f"{i}:{n or '(unnamed)'} ch{c}" for i, n, c in voices)
            raise ThemeError(f"{path}: no track/channel matches track={track!r} channel={channel!r}; "
                             f"it has: {available}")
    return theme_from_voices(name or path.stem, list(candidates.values()), str(path))


def theme_from_voices(name: str, voices: list[list[Note]], source: str) -> Theme:
    """A theme from a file's voices: the melody picked among them, every note as its harmony."""
    return theme_from_notes(name, pick_melody(voices), source,
                            all_notes=[note for notes in voices for note in notes])


def pick_melody(voices: list[list[Note]]) -> list[Note]:
    """The melody among several voices: the top voice of the one that moves most."""
    return max((top_voice(notes) for notes in voices if notes), key=_melodic)


def _melodic(notes: list[Note]) -> tuple[int, float]:
    """How much a line moves (pitch changes), then how high it lies: a melody beats a drone."""
    changes = sum(a.pitch != b.pitch for a, b in zip(notes, notes[1:]))
    return changes, float(np.mean([n.pitch for n in notes]))


DRUM_CHANNEL = 9


def _track_matches(key: tuple[int, str, int], track: str | int | None) -> bool:
    if track is None:
        return True
    index, track_name, _ = key
    if isinstance(track, int) or str(track).isdigit():
        return index == int(track)
    return str(track).lower() in track_name.lower()


def _midi_voices(midi: mido.MidiFile) -> dict[tuple[int, str, int], list[Note]]:
    """Notes of every (track, channel), onsets and durations in seconds (tempo map applied)."""
    tempo_map = _tempo_map(midi)
    voices: dict[tuple[int, str, int], list[Note]] = {}
    for index, track in enumerate(midi.tracks):
        track_name, tick, sounding = "", 0, {}
        for message in track:
            tick += message.time
            if message.type == "track_name":
                track_name = message.name
            elif message.type == "note_on" and message.velocity > 0:
                sounding[(message.channel, message.note)] = tick
            elif message.type in ("note_on", "note_off"):
                start = sounding.pop((message.channel, message.note), None)
                if start is not None:
                    onset_s, end_s = tempo_map(start), tempo_map(tick)
                    voices.setdefault((index, track_name, message.channel), []).append(
                        Note(float(message.note), onset_s, max(end_s - onset_s, 1e-3)))
    return voices


def _tempo_map(midi: mido.MidiFile):
    """A function from absolute ticks to seconds, following every set_tempo in the file."""
    changes = sorted((tick, msg.tempo) for tick, msg in _absolute_messages(midi) if msg.type == "set_tempo")
    breakpoints, seconds, last_tick, tempo = [(0, 0.0, 500_000)], 0.0, 0, 500_000
    for tick, new_tempo in changes:
        seconds += mido.tick2second(tick - last_tick, midi.ticks_per_beat, tempo)
        last_tick, tempo = tick, new_tempo
        breakpoints.append((tick, seconds, tempo))

    def to_seconds(tick: int) -> float:
        # The latest breakpoint at or before the tick (a set_tempo at tick 0 replaces the default).
        start_tick, start_s, tempo_now = next(b for b in reversed(breakpoints) if b[0] <= tick)
        return start_s + mido.tick2second(tick - start_tick, midi.ticks_per_beat, tempo_now)

    return to_seconds


def _absolute_messages(midi: mido.MidiFile):
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            yield tick, message


def top_voice(notes: list[Note]) -> list[Note]:
    """The skyline: at each onset the highest note; notes under a sounding higher note go."""
    by_onset: dict[float, Note] = {}
    for note in notes:
        key = round(note.onset_s, 3)
        if key not in by_onset or note.pitch > by_onset[key].pitch:
            by_onset[key] = note
    melody: list[Note] = []
    for note in sorted(by_onset.values(), key=lambda n: n.onset_s):
        if melody and note.onset_s < melody[-1].end_s - 1e-3 and note.pitch < melody[-1].pitch:
            continue
        melody.append(note)
    return melody


# ---------------------------------------------------------------- notation (MusicXML, ABC)

def load_notation(path: Path) -> Theme:
    """A theme from a MusicXML or ABC file: the melody of its parts (see `pick_melody`) and, if
    they sound together, the harmony of all of them; named by the piece's title, or else by
    the file."""
    title, voices = read_notation(path)
    if not any(voices):
        raise ThemeError(f"{path}: contains no notes")
    return theme_from_voices(title or path.stem, voices, str(path))


# ---------------------------------------------------------------- files, folders, libraries

MIDI_SUFFIXES = (".mid", ".midi")
TEXT_SUFFIXES = (".txt", ".notes")
LIBRARY_SUFFIX = ".toml"
#: What a folder of themes is searched for.
THEME_SUFFIXES = MIDI_SUFFIXES + TEXT_SUFFIXES + NOTATION_SUFFIXES + (LIBRARY_SUFFIX,)


def load_theme_file(path: Path) -> Theme:
    """One theme from a MIDI file, a note list or a notation file, named by the file unless it
    names itself."""
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return load_midi(path)
    if suffix in NOTATION_SUFFIXES:
        return load_notation(path)
    if suffix in TEXT_SUFFIXES:
        try:
            text = path.read_text(encoding="utf-8-sig")  # Notepad's byte-order mark too
        except (OSError, UnicodeDecodeError) as error:
            raise ThemeError(f"{path}: cannot be read as text ({error})") from None
        return parse_note_list(text, str(path), default_name=path.stem)
    raise ThemeError(f"{path}: unknown theme format '{suffix}' (use .mid/.midi, .txt/.notes, "
                     f"{'/'.join(NOTATION_SUFFIXES)}, or a .toml library)")


def load_library(path: Path) -> tuple[list[Theme], list[ThemeError]]:
    """Themes listed in a TOML library file.

    Each ``[[theme]]`` has ``name`` and either ``file`` (relative to the library; with optional
    ``track`` and ``channel`` for MIDI) or ``notes`` (a note list as typed by hand), and
    optionally ``color`` ('#rrggbb'), ``sensitivity`` (default 1.0) and ``tempo`` (for notes).
    """
    themes, errors = [], []
    for number, entry in enumerate(_library_entries(path), start=1):
        try:
            themes.append(_library_entry(path, number, entry))
        except ThemeError as error:
            errors.append(error)
    return themes, errors


def _library_entries(path: Path) -> list:
    """The [[theme]] entries of a library, as TOML gives them; ThemeError if there are none."""
    try:
        library = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ThemeError(f"{path}: not a readable TOML theme library ({error})") from None
    entries = library.get("theme", [])
    if not isinstance(entries, list) or not entries:
        raise ThemeError(f"{path}: lists no themes (expected [[theme]] tables)")
    return entries


def _entry_file(library: Path, entry: object) -> Path | None:
    """The file a library entry names (relative to the library), if it names one."""
    if isinstance(entry, dict) and isinstance(entry.get("file"), str):
        return (library.parent / entry["file"]).resolve()
    return None


#: The keys a library's [[theme]] table may have (see load_library).
LIBRARY_KEYS = ("name", "file", "track", "channel", "notes", "tempo", "color", "sensitivity")


def _library_entry(path: Path, number: int, entry: object) -> Theme:
    where = f"{path}, theme #{number}"
    if not isinstance(entry, dict):
        raise ThemeError(f"{where}: is not a [[theme]] table of keys ({', '.join(LIBRARY_KEYS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"{where}: needs a name")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - set(LIBRARY_KEYS))
    if unknown:
        raise ThemeError(f"{where}: unknown key(s) {', '.join(unknown)}; a theme may have "
                         f"{', '.join(LIBRARY_KEYS)}")
    sensitivity = entry.get("sensitivity", 1.0)
    if isinstance(sensitivity, bool) or not isinstance(sensitivity, (int, float)) \
            or not 0 < sensitivity < float("inf"):
        raise ThemeError(f"{where}: sensitivity is a number above 0 (1.0 by default, higher "
                         f"finds more), not {sensitivity!r}")
    if ("notes" in entry) == ("file" in entry):
        given = "both" if "file" in entry else "neither"
        raise ThemeError(f"{where}: needs either 'file' or 'notes', not {given}")
    if "notes" in entry:
        header = f"tempo: {entry['tempo']}\n" if "tempo" in entry else ""
        theme = parse_note_list(header + str(entry["notes"]), where, default_name=name)
    else:
        theme = _library_file(path, where, entry)
    return replace(theme, name=name, color=entry.get("color"), sensitivity=float(sensitivity))


def _library_file(path: Path, where: str, entry: dict) -> Theme:
    """The theme a library entry's 'file' names (relative to the library), errors said as the
    entry's."""
    source = _entry_file(path, entry)
    if source is None:
        raise ThemeError(f"{where}: 'file' is a path in quotes, not {entry['file']!r}")
    if source.suffix.lower() == LIBRARY_SUFFIX:
        raise ThemeError(f"{where}: {entry['file']} is a library; a library lists theme files")
    try:
        if source.suffix.lower() in MIDI_SUFFIXES:
            return load_midi(source, track=entry.get("track"), channel=entry.get("channel"),
                             name=entry["name"])
        return load_theme_file(source)
    except ThemeError as error:
        raise ThemeError(f"{where}: {error}") from None


def load_themes(paths: str | Path | list[str | Path]) -> tuple[list[Theme], list[ThemeError]]:
    """Load themes from files, folders (every theme file inside) and TOML libraries.

    A file that a library among them lists is loaded as the library says (its name, track,
    sensitivity), not a second time on its own; a file given twice (on its own and in its
    folder, say) is loaded once. Returns (themes, errors): a bad file costs only its own theme.
    Names are kept unique by numbering repeats, each said by a `RenamedTheme` among the errors
    (every detection names its theme, so two themes of one name could not be told apart).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    errors: list[ThemeError] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            inside = sorted(p for p in entry.rglob("*") if p.suffix.lower() in THEME_SUFFIXES)
            if not inside:
                errors.append(ThemeError(f"{entry}: folder holds no theme files "
                                         f"({', '.join(THEME_SUFFIXES)})"))
            files += inside
        elif entry.exists():
            files.append(entry)
        else:
            errors.append(ThemeError(f"{entry}: no such file or folder"))
    listed = set().union(*(_listed_files(f) for f in files if f.suffix.lower() == LIBRARY_SUFFIX))
    themes: list[Theme] = []
    loaded: set[Path] = set()
    for file in files:
        key = file.resolve()
        if key in loaded or key in listed:
            continue
        loaded.add(key)
        try:
            if file.suffix.lower() == LIBRARY_SUFFIX:
                found, problems = load_library(file)
                themes += found
                errors += problems
            else:
                themes.append(load_theme_file(file))
        except ThemeError as error:
            errors.append(error)
    kept, renamed = keep_names_apart(themes)
    return kept, errors + renamed


def _listed_files(library: Path) -> set[Path]:
    """The files a library's entries name (none if it cannot be read: load_library says why)."""
    try:
        entries = _library_entries(library)
    except ThemeError:
        return set()
    # A library listing a library is an error of its entry: that one still loads on its own.
    return {file for file in map(partial(_entry_file, library), entries)
            if file is not None and file.suffix.lower() != LIBRARY_SUFFIX}


def keep_names_apart(themes: Sequence[Theme], loaded: Sequence[Theme] = ()
                     ) -> tuple[list[Theme], list[RenamedTheme]]:
    """The themes, each whose name is taken (by an earlier one, or by a theme `loaded` already)
    numbered with the first free number ("Name (2)"), and a notice for each renamed: every
    detection names its theme, so two of one name could not be told apart."""
    taken_by = {theme.name: theme.source for theme in loaded}
    kept, renamed = [], []
    for theme in themes:
        name = theme.name
        if name in taken_by:
            number = 2
            while f"{theme.name} ({number})" in taken_by:
                number += 1
            name = f"{theme.name} ({number})"
            renamed.append(RenamedTheme(f"{theme.source}: the name {theme.name!r} is taken (by "
                                        f"{taken_by[theme.name]}); loaded as {name!r}: give it a "
                                        "name of its own ('name:' in a note list, 'name' in a "
                                        "library)"))
        taken_by[name] = theme.source
        kept.append(theme if name == theme.name else replace(theme, name=name))
    return kept, renamed


def numbered_from(name: str, base: str) -> bool:
    """Is `name` the name `keep_names_apart` numbers `base` with ("Base (3)")?"""
    return re.fullmatch(re.escape(base) + r" \(\d+\)", name) is not None
