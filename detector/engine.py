"""Detector: the block processor that turns audio into theme detections.

    audio block -> mono, sanitised -> tracker (f0 per 10 ms frame: YIN for a single line,
    harmonic-sum salience for a melody inside an ensemble) -> NoteSegmenter (notes as they
    sound) -> Matcher (every theme) -> Detection

    and, in an ensemble, each further line the tracker reads (its top line, where a tune over
    its accompaniment is, and its bass line; the first is the predominant line, where a
    brought-out voice is) -> NoteSegmenter -> Matcher -> Detection

    and, in auto mode while it reads an ensemble, YIN's reading of the same frames (melody
    mode's) -> NoteSegmenter -> a branch of the main line's Matcher, joined back into it once
    the music reads as one line again (solo_branch.py) -> Detection

    and, when some theme has harmony, the same mono block -> ChromaTracker (CENS per 0.1 s)
    -> HarmonyMatcher (the themes with harmony, in all 12 keys; in parts, spread over the
    chroma hop) -> Detection

Chroma tells chords apart but not melodies, so melodic themes never go through the harmony
path, and without a theme with harmony it does not exist.

A host (the live callback's worker, a file scan, a test, a GUI) hands it blocks of any size;
the result is the same whatever the block size, because every stage keeps its own state and
works sample by sample, frame by frame, note by note. Its clock is samples consumed / sample
rate, so a file scanned as fast as possible reports the times a live listener would have seen.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from detector.chroma import ChromaTracker
from detector.events import Detection
from detector.framing import FramedTracker
from detector.harmony import HarmonyMatcher
from detector.matching import (ALTERNATIVE_COST, CHORD_NOTE_COST, MIN_PROGRESS,
                               SCORE_THRESHOLD, Matcher)
from detector.notes import hz_to_midi
from detector.pitch import PitchTracker
from detector.salience import MelodyTracker
from detector.sanitize import as_float_frames, mix_to_mono
from detector.segmenter import NoteSegmenter
from detector.solo_branch import SoloBranch
from detector.themes import Theme


#: Seconds of pitch frames the display history keeps (a scrolling roll shows ~10 s).
HISTORY_S = 12.0
#: Notes of two lines whose onsets are this close began together (see Detector._alternatives).
SIMULTANEOUS_S = 0.1
#: A chord note this close (semitones) to the note announced is that note.
SAME_PITCH_SEMITONES = 0.5
_NO_CHORD = np.zeros(0)


class PitchHistory:
    """The latest pitch frames in a preallocated ring, for a scrolling display.

    Row k of the ring holds frame number k modulo capacity: `time_s` (frame centre, stream
    seconds), `midi` (NaN when unvoiced), `periodicity` (0-1, the tracker's confidence) and
    `ensemble` (whether the frame was read as an ensemble: its confidence is then the share
    of the spectrum the melody explains, on a scale of its own). `frames_written` counts
    every frame ever written; a reader copies the rows it has not drawn yet.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.time_s = np.zeros(capacity)
        self.midi = np.full(capacity, np.nan)
        self.periodicity = np.zeros(capacity)
        self.ensemble = np.zeros(capacity, dtype=np.bool_)
        self.frames_written = 0

    def append(self, tracker: FramedTracker, n_frames: int) -> None:
        """Copy the tracker's first n_frames rows in (the oldest go when the ring is full)."""
        _copy_frames(tracker.end_sample, tracker.f0_hz, tracker.voiced, tracker.periodicity,
                     tracker.ensemble, n_frames, tracker.sample_rate, tracker.frame_delay_s,
                     self.frames_written, self.time_s, self.midi, self.periodicity, self.ensemble)
        self.frames_written += n_frames


@numba.njit(cache=True, nogil=True)
def _copy_frames(end_sample, f0_hz, voiced, periodicity, ensemble, n_frames, sample_rate, delay_s,
                 written, out_time_s, out_midi, out_periodicity, out_ensemble):
    """The per-block copy into the display ring, compiled: no Python work per frame."""
    capacity = out_time_s.shape[0]
    for k in range(max(0, n_frames - capacity), n_frames):
        row = (written + k) % capacity
        out_time_s[row] = end_sample[k] / sample_rate - delay_s
        out_midi[row] = 69.0 + 12.0 * math.log2(f0_hz[k] / 440.0) if voiced[k] else np.nan
        out_periodicity[row] = periodicity[k]
        out_ensemble[row] = ensemble[k]


@dataclass
class DisplayState:
    """What a display needs, updated by every `process` call (read it from any thread; a
    torn read shows a mixture of two neighbouring blocks, never garbage).

    f0_hz, periodicity, voiced, level_db: the latest pitch frame.
    ensemble: whether that frame was read as a melody inside an ensemble (salience) rather
        than as a single line (YIN): fixed by the mode, or chosen by the signal in "auto".
    theme_score, theme_progress: per theme, 0-1 (arrays owned by the matcher; with further lines
        or harmony themes, the best of the paths', updated per block).
    history: the last HISTORY_S seconds of frames.
    """

    history: PitchHistory
    f0_hz: float = 0.0
    periodicity: float = 0.0
    voiced: bool = False
    level_db: float = -120.0
    ensemble: bool = False
    theme_score: np.ndarray | None = None
    theme_progress: np.ndarray | None = None


MODES = ("auto", "melody", "ensemble")
#: The paths a detection can come from (see Detector._once_per_passage), beside the further
#: lines of the tracker (`FramedTracker.line_names`): the melody (in an ensemble, its
#: predominant line) and the harmony.
MELODY, HARMONY = "melody", "harmony"
#: Auto mode's second reading of the melody, melody mode's, where the music reads as an
#: ensemble (solo_branch.py).
SOLO_READING = "solo reading"


def make_tracker(mode: str, sample_rate: int) -> FramedTracker:
    """The f0 front end for a mode (see Detector)."""
    if mode == "melody":
        return PitchTracker(sample_rate)
    if mode in ("ensemble", "auto"):
        return MelodyTracker(sample_rate, auto=mode == "auto")
    raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


class Line(NamedTuple):
    """A line of the tracker (its main one, or a further one), with notes and matching of its own."""

    name: str
    segmenter: NoteSegmenter
    matcher: Matcher


class Detector:
    """Finds the given themes in a stream of audio blocks.

    Parameters
    ----------
    themes : the themes to listen for (any number; the cost grows linearly).
    sample_rate : input rate in Hz, 8000-192000.
    min_progress : share (0-1] of a theme's evidence that must be heard before it is announced:
        its bits, each note's worth by how telling its interval is; whatever the share, at least
        MIN_EVIDENCE_BITS and at most SUFFICIENT_BITS are asked (matching.py): a theme with
        fewer bits than MIN_EVIDENCE_BITS is heard whole, and a long theme is announced once it
        cannot be chance, before this share of it is heard.
    mode : "melody" (a single line: voice, solo instrument; cheapest), "ensemble" (a melody
        inside chords, bass, an orchestra) or "auto" (decides from the signal, frame by frame).
    threshold : score (0-1] a match must reach; per theme it is scaled by Theme.sensitivity.
        Below about 0.6 chance matches are announced, and one running on into the theme's real
        entry takes that entry's place (one event per passage).
    warm_up : compile the kernels now (leave True except for throwaway detectors).
    channels : the input's channel count, where the caller knows it (a device, a file): a block
        of that many channels is taken as frames however short. Otherwise the first block's
        count is taken for it, and a block that looks planar, (channels, n), is refused
        (`sanitize.as_float_frames`).

    In "ensemble" and "auto" modes the tracker's further lines (top and bass) are matched too,
    each with a segmenter and matcher of its own (`lines`). In "auto", where the music reads as
    an ensemble, melody mode's notes are matched too, on a branch of the main line's matching
    (`solo_branch`), so that a theme melody mode would find there is not lost.
    Themes with harmony are also matched on chroma (`chroma` and `harmony` are then set; they
    are None when no theme's harmony can be matched, see HarmonyMatcher). A theme found by
    two paths over one passage is announced once, by the first. Constructing it compiles (or
    loads from numba's cache) every kernel, so the first block costs what every block costs.
    """

    def __init__(self, themes: Sequence[Theme], sample_rate: int, *, mode: str = "auto",
                 min_progress: float = MIN_PROGRESS, threshold: float = SCORE_THRESHOLD,
                 warm_up: bool = True, channels: int | None = None) -> None:
        self.themes = tuple(themes)
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
            raise TypeError(f"sample rate is a number of Hz, not {sample_rate!r}")
        if not math.isfinite(sample_rate):
            raise ValueError(f"sample rate is a number of Hz, not {sample_rate!r}")
        if sample_rate != int(sample_rate):  # the clock counts whole samples
            raise ValueError(f"sample rate {sample_rate} Hz is not a whole number of Hz")
        self.sample_rate = int(sample_rate)
        for setting, value in (("threshold", threshold), ("min_progress", min_progress)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
                raise ValueError(f"{setting} is a number in (0, 1], not {value!r}")
        self.mode = mode
        self.channels = channels
        self.tracker = make_tracker(mode, self.sample_rate)
        # The main line re-attacks on the frame's level: a solo's own, and in an ensemble's frames
        # the mixture's (its own level there, the power at its harmonics, changed hits and false
        # alarms only within the noise of the benchmark sets, in a throwaway scan).
        self.segmenter = NoteSegmenter(self.sample_rate, self.tracker.frame_delay_s)
        self.matcher = Matcher(self.themes, min_progress=min_progress, threshold=threshold)
        # An ensemble's further lines (the tracker reads them too) get notes and matching of their
        # own. Each line's level is its own (the power at its harmonics, over a whole frame), so a
        # note re-attacked at one pitch is a new note, as on a line of its own, where the rise
        # stands out from the level's own jitter (a unison's partials beat); a moment on another
        # voice's note is not one. Other voices' notes still come between the theme's: their
        # matchers are told so (`ensemble_line`), and whether each note was heard in a frame read
        # as an ensemble (where auto mode read one line, the notes are the solo's).
        frame_delay_s, level_hops = self.tracker.frame_delay_s, self.tracker.line_level_hops
        self.lines = [Line(name, NoteSegmenter(self.sample_rate, frame_delay_s, excursions=False,
                                               level_window_frames=level_hops, level_jitters=True),
                           Matcher(self.themes, min_progress=min_progress, threshold=threshold,
                                   ensemble_line=True))
                      for name in self.tracker.line_names]
        # Every line with notes, the main one first; per line, pitch and onset of its latest
        # note; and a buffer for the alternatives a note is given ((pitch, price) rows).
        self._note_paths = [Line(MELODY, self.segmenter, self.matcher), *self.lines]
        self._latest_notes = np.full((len(self._note_paths), 2), np.inf)
        self._alternatives_buffer = np.zeros((len(self.lines) + self.tracker.max_chord_notes, 2))
        self.solo_branch: SoloBranch | None = None
        if mode == "auto":
            self.solo_branch = SoloBranch(self.tracker, self.matcher,
                                          Matcher(self.themes, min_progress=min_progress,
                                                  threshold=threshold))
        # Whose notes each entry of `process`'s note counts are: the note paths', then the branch's.
        self._segmenters = [path.segmenter for path in self._note_paths]
        if self.solo_branch is not None:
            self._segmenters.append(self.solo_branch.segmenter)
        self.chroma: ChromaTracker | None = None
        self.harmony: HarmonyMatcher | None = None
        if any(theme.harmony for theme in self.themes):
            chroma = ChromaTracker(self.sample_rate)
            harmony = HarmonyMatcher(self.themes, chroma.hop_s, min_progress=min_progress,
                                     threshold=threshold)
            if harmony.n_themes:
                self.chroma, self.harmony = chroma, harmony
        # The harmony's parts are matched one after another across a chroma hop (in stream
        # time, whatever the blocks): part p of a frame once p x _part_spacing more samples
        # have come. All are due before the next frame ends, so at most one frame still has
        # parts to match after a block: it is carried (its chroma, end sample, next part).
        if self.chroma is not None:
            self._part_spacing = self.chroma.settings.hop_samples // self.harmony.n_parts
            self._carried = np.zeros(self.chroma.chroma.shape[1])
            self._carried_end, self._carried_part = 0, self.harmony.n_parts  # none
        # Every path's running scores; the display shows the best of them.
        self._other_scorers = [*(line.matcher for line in self.lines),
                               *([self.harmony] if self.harmony is not None else [])]
        theme_score, theme_progress = self.matcher.theme_score, self.matcher.theme_progress
        if self._other_scorers:
            theme_score, theme_progress = np.zeros_like(theme_score), np.zeros_like(theme_progress)
        # Per theme index: (path, start_s, end_s) of its latest detection.
        self._latest: dict[int, tuple[str, float, float]] = {}
        self.samples_consumed = 0
        self.sanitised_samples = 0
        self.notes_heard = 0
        history = PitchHistory(int(HISTORY_S / self.tracker.hop_s))
        self.display = DisplayState(history=history, theme_score=theme_score,
                                    theme_progress=theme_progress)
        self._mono = np.zeros(0, dtype=np.float32)
        self.last_mono = self._mono  # the latest block as analysed: mono, sanitised (a view)
        if warm_up:
            self._warm_up()

    @property
    def time_s(self) -> float:
        """The detector's clock: seconds of audio consumed."""
        return self.samples_consumed / self.sample_rate

    def process(self, block: np.ndarray) -> list[Detection]:
        """Analyse one block: shape (n,) mono or (n, channels), any float or int dtype, the
        channels averaged (`sanitize.as_float_frames`, ValueError for another shape).

        Returns the detections announced during this block, in time order (usually none).
        """
        frames = as_float_frames(block, self.channels)
        n = frames.shape[0]
        if self.channels is None and n:
            self.channels = frames.shape[1]
        if n > self._mono.shape[0]:
            self._mono = np.zeros(n, dtype=np.float32)
        mono = self._mono[:n]
        self.sanitised_samples += mix_to_mono(frames, mono)
        self.last_mono = mono
        tracker = self.tracker
        n_frames = tracker.process(mono)
        n_notes = [self.segmenter.process(tracker.f0_hz, tracker.voiced, tracker.level_db,
                                          tracker.end_sample, n_frames)]
        for row, line in enumerate(self.lines):
            n_notes.append(line.segmenter.process(tracker.line_f0_hz[row], tracker.line_voiced[row],
                                                  tracker.line_level_db[row], tracker.end_sample,
                                                  n_frames))
        self.notes_heard += n_notes[0]
        if self.solo_branch is not None:
            n_notes.append(self.solo_branch.process(n_frames))
        scored = any(n_notes)  # scores move only when a note or a chroma frame is matched
        found = self._add_notes(n_notes, n_frames) if scored else []
        if self.chroma is not None:
            n_parts, matched = self._add_chroma(mono, self.samples_consumed + n)
            found += matched
            scored |= n_parts > 0
        if scored and self._other_scorers:
            self._best_scores()
        detections = self._once_per_passage(found) if found else []
        self.samples_consumed += n
        if n_frames:
            self.display.history.append(tracker, n_frames)
            last = n_frames - 1
            display = self.display
            display.f0_hz = float(tracker.f0_hz[last])
            display.periodicity = float(tracker.periodicity[last])
            display.voiced = bool(tracker.voiced[last])
            display.level_db = float(tracker.level_db[last])
            display.ensemble = bool(tracker.ensemble[last])
        return detections

    def _add_notes(self, n_notes: list[int], n_frames: int) -> list[tuple[int, str, Detection]]:
        """Match the notes each line's segmenter announced in this block (n_notes[i] for line i
        of `_note_paths`, and after them the solo branch's; the tracker finished n_frames
        frames), in the order they were announced, the main line first among notes announced
        together: so what a note sees of the other lines (`_alternatives`), and where the solo
        branch forks and joins, do not depend on where the blocks begin."""
        paths, branch, segmenters = self._note_paths, self.solo_branch, self._segmenters
        announced = sorted((int(segmenters[line].end_sample[k]), line, k)
                           for line, n in enumerate(n_notes) for k in range(n))
        found = []
        for end_sample, line, k in announced:
            segmenter = segmenters[line]
            pitch, onset_s = float(segmenter.pitch[k]), float(segmenter.onset_s[k])
            if branch is not None:
                branch.follow(end_sample, n_frames)
                if line == len(paths):  # the solo branch's note (see `_segmenters`)
                    matched = branch.add_note(pitch, onset_s)
                    found += self._detections(matched, end_sample / self.sample_rate, SOLO_READING)
                    continue
            path = paths[line]
            frame = self._ensemble_frame(end_sample, n_frames)
            chord = self.tracker.chord_f0_hz[:, frame] if frame is not None else _NO_CHORD
            alternatives = self._alternatives(line, pitch, onset_s, chord)
            matched = path.matcher.add_note(pitch, onset_s, alternatives, frame is not None)
            found += self._detections(matched, end_sample / self.sample_rate, path.name)
        return found

    def _ensemble_frame(self, end_sample: int, n_frames: int) -> int | None:
        """This block's frame that ended at end_sample, if the tracker read it as an ensemble
        (its notes are then in `chord_f0_hz`); None otherwise, and always for a tracker of one
        line, which never does."""
        tracker = self.tracker
        if not tracker.max_chord_notes:
            return None
        frame = int(np.searchsorted(tracker.end_sample[:n_frames], end_sample))
        return frame if frame < n_frames and tracker.ensemble[frame] else None

    def _alternatives(self, line: int, pitch: float, onset_s: float, chord: np.ndarray) -> np.ndarray:
        """The pitches that may stand for this note, as (pitch, price) rows, and remember this
        one. In an ensemble's chords the voices mostly move together: where this line took
        another voice's note, the theme's may be another line's latest note that began with
        this one (within SIMULTANEOUS_S), or one of the chord heard when it was announced
        (`_ensemble_frame`'s notes; the note's own pitch left out)."""
        latest, alternatives = self._latest_notes, self._alternatives_buffer
        latest[line, 0] = pitch
        latest[line, 1] = onset_s
        n = 0
        for other in range(latest.shape[0]):
            if other != line and abs(latest[other, 1] - onset_s) < SIMULTANEOUS_S:
                alternatives[n] = latest[other, 0], ALTERNATIVE_COST
                n += 1
        for f0_hz in chord:
            if f0_hz <= 0.0:  # the notes come first, then zeros
                break
            chord_note = hz_to_midi(f0_hz)
            if abs(chord_note - pitch) > SAME_PITCH_SEMITONES:
                alternatives[n] = chord_note, CHORD_NOTE_COST
                n += 1
        return alternatives[:n]

    def _add_chroma(self, mono: np.ndarray, block_end: int) -> tuple[int, list[tuple[int, str, Detection]]]:
        """Run the harmony path over the block, which ends at sample block_end: the carried
        frame's parts that are now due, then the block's chroma frames and theirs. Returns how
        many parts were matched, and the detections (announced when their part was due)."""
        chroma = self.chroma
        n_frames = chroma.process(mono)
        found: list[tuple[int, str, Detection]] = []
        carried = self._carried_part
        self._carried_part = self._match_parts(self._carried, self._carried_end, carried,
                                               block_end, found)
        n_parts = self._carried_part - carried
        for k in range(n_frames):
            end_sample = int(chroma.end_sample[k])
            done = self._match_parts(chroma.chroma[k], end_sample, 0, block_end, found)
            n_parts += done
            if done < self.harmony.n_parts:  # the block's last frame
                np.copyto(self._carried, chroma.chroma[k])
                self._carried_end, self._carried_part = end_sample, done
        return n_parts, found

    def _match_parts(self, frame: np.ndarray, end_sample: int, part: int, block_end: int,
                     found: list[tuple[int, str, Detection]]) -> int:
        """Match the chroma frame that ended at end_sample in the HarmonyMatcher's parts from
        `part` on that are due by block_end, adding their detections to found; returns the
        next part (n_parts when all are matched)."""
        harmony = self.harmony
        frame_s = end_sample / self.sample_rate - self.chroma.frame_delay_s
        while part < harmony.n_parts:
            due = end_sample + part * self._part_spacing
            if due > block_end:
                break
            matched = harmony.add_frame(frame, frame_s, part)
            found += self._detections(matched, due / self.sample_rate, HARMONY)
            part += 1
        return part

    def _best_scores(self) -> None:
        """The display's score and progress of each theme: the best any path has (no allocation)."""
        display = self.display
        np.copyto(display.theme_score, self.matcher.theme_score)
        np.copyto(display.theme_progress, self.matcher.theme_progress)
        for scorer in self._other_scorers:
            self._show_best(scorer)
        if self.solo_branch is not None and self.solo_branch.live:
            self._show_best(self.solo_branch.matcher)

    def _show_best(self, scorer: Matcher | HarmonyMatcher) -> None:
        """Raise the display's score and progress of each theme to scorer's where higher."""
        display = self.display
        np.maximum(display.theme_score, scorer.theme_score, out=display.theme_score)
        np.maximum(display.theme_progress, scorer.theme_progress, out=display.theme_progress)

    def _detections(self, found: list[tuple], announced_s: float,
                    path: str) -> list[tuple[int, str, Detection]]:
        """(theme index, path, Detection) for each match tuple a matcher returned."""
        return [
            (t, path, Detection(theme=self.themes[t].name, time_s=announced_s, start_s=start_s,
                                end_s=end_s, score=score, transpose=transpose, tempo=tempo,
                                progress=progress))
            for t, score, start_s, end_s, transpose, tempo, progress in found
        ]

    def _once_per_passage(self, found: list[tuple[int, str, Detection]]) -> list[Detection]:
        """The detections in time order, each theme once per passage: one whose latest
        detection came from another path over an overlapping passage is dropped (each path
        already announces an occurrence once)."""
        detections = []
        for theme, path, detection in sorted(found, key=lambda f: f[2].time_s):
            latest = self._latest.get(theme)
            if (latest is not None and latest[0] != path and detection.start_s < latest[2]
                    and latest[1] < detection.end_s):
                continue
            self._latest[theme] = (path, detection.start_s, detection.end_s)
            detections.append(detection)
        return detections

    def _warm_up(self) -> None:
        """Run every kernel once, on a throwaway detector, so compiling (or loading from numba's
        cache) happens now and not on the first live block."""
        harmonic = (self.themes[self.harmony.indices[0]],) if self.harmony else ()
        scratch = Detector(self.themes[:1] + harmonic, self.sample_rate, mode=self.mode,
                           warm_up=False)
        t = np.arange(self.sample_rate // 2) / self.sample_rate
        tone = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
        gap = np.zeros(self.sample_rate // 20, dtype=np.float32)
        scratch.process(np.concatenate([tone, gap, tone, gap, tone]))
        if scratch.solo_branch is not None:  # it forks and joins only where an ensemble is heard
            scratch.solo_branch.matcher.fork_from(scratch.matcher)
            scratch.matcher.join(scratch.solo_branch.matcher)
