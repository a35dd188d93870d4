"""Streaming matching of the live chroma against the themes that have harmony.

A theme given as chords (Theme.harmony) is turned into a template chroma sequence at the
tracker's hop: per frame, how long each pitch class sounds in it (every note counts alike,
with the overtones that an instrument adds to the live chroma), through the same CENS steps
as the live stream (chroma.py). Its chord changes are where that sequence turns. Each live
frame then advances a streaming open-begin subsequence DTW of the live sequence against every
template under each of the 12 cyclic shifts (the 12 keys):

- local cost: 1 - cosine similarity of the live frame (rotated by the shift) and the template
  frame; silence against silence costs 0, silence against sound 1;
- steps (live, template) of (1, 1), (2, 1) and (1, 2), each cell on the way counted and a step
  off the diagonal costing STEP_PENALTY more, so a path keeps a tempo between 0.5x and 2x of
  the template's and may vary within it (rubato);
- a path may start at template frame 0 at any live frame; among the paths into a cell the one
  with the lowest mean cost per cell is kept (the length-normalised cost).

A theme is announced when, for HOLD_FRAMES frames in a row, a path has covered `min_progress`
of the template and MIN_CHORD_CHANGES of its chord changes (all, if it has fewer) at a mean
cost under MAX_COST (scaled by the theme's sensitivity), with no chord along it, the one it
is in included, costing more than CHORD_COST_RATIO times that. The bar is strict on purpose:
chroma tells chords apart but not melodies, and every passage in a key shares some of its
pitch classes with every other. The tempo is measured between the first and the latest
chord change the path crossed: over a held chord any tempo fits.
One event per occurrence, as in matching.py: a new event needs a path that starts after the
last one's end (less a smoothing window, over which two passages' chroma overlaps), and that
end moves on while paths of the announced passage still match.

A path with a chord that costs too much can never be announced: it is dead, and only its cost
is kept, for it still takes its cell from a path that matches worse on the whole. Only the
template frames that paths still alive may reach are visited (a path moves at most two
template frames a live frame), and the dead paths beyond them are dropped: in a key the music
is not in, every path dies within the template's first chord, so only its first frames are
visited. The work per live frame is then about O(12 x themes), not O(12 x total template
frames), with the same announcements in the benchmarks (docs/results-history.md). Nothing is
allocated per frame.
The themes are split into N_PARTS parts of about equal work, which may be advanced at different
moments (each part's frames in order): the Detector spreads them over a chroma hop, so that no
single audio hop carries the whole library's work. A part without themes costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from detector.chroma import (N_CLASSES, SMOOTH_DELAY_FRAMES, SMOOTH_FRAMES, cens_sequence,
                             smoothing_window)
from detector.matching import MIN_PROGRESS, SCORE_THRESHOLD
from detector.notes import Note
from detector.themes import Theme

#: Announce when the mean cost (1 - cosine) along the path is at most this (at the default
#: threshold and sensitivity 1) ... Calibrated on sampled instruments (FluidSynth): chord
#: progressions between other progressions, and Bach chorale openings as themes among other
#: chorales. At 0.08, 70 % and 80 % of them are found, with no false alarm and 10 an hour
#: (32 chorale themes); at 0.1, 88 % and 84 %, with 2 and 130 an hour.
MAX_COST = 0.08
#: ... and no chord along it costs more than this times that on average: a progression with
#: one chord replaced by another that shares two of its notes (vi for I, ii for IV) is another
#: progression, though its mean cost is low ...
CHORD_COST_RATIO = 1.2
#: ... and the path has crossed at least this many of the template's chord changes (or all of
#: them): a few chords in a row are common to many pieces ...
MIN_CHORD_CHANGES = 4
#: ... and all that holds for this many frames in a row.
HOLD_FRAMES = 5
#: Cost added to a path per step off the diagonal, so that it keeps to one tempo unless the
#: music departs from it (otherwise a path may slide over chords that share notes).
STEP_PENALTY = 0.1
#: A chord change is where the template's chroma turns by at least this (1 - cosine) across
#: CHANGE_SPAN frames either side: to a relative chord (two notes kept) it turns by ~0.2,
#: with a melody moving over one held chord by under 0.14.
CHANGE_TURN = 0.15
CHANGE_SPAN = 3
#: A harmony with fewer chord changes than this only tells which key the music is in: it is
#: not matched at all.
MIN_TEMPLATE_CHANGES = 2
#: The partials a note adds to the template, as (semitones above it, weight): the fundamental,
#: the twelfth (partial 3) and the seventeenth (partial 5), about as strong as instruments make
#: them in the log-compressed chroma (the octaves fall on the note's own pitch class).
OVERTONES = ((0, 1.0), (19, 0.4), (28, 0.2))
#: The themes are matched in this many parts (see the module docstring).
N_PARTS = 8

# Columns of the path state, one row per (live frame n, n - 1, n - 2; shift; template frame):
# the path's summed cost (penalties included), its cells and its start frame; the summed
# cost and cells of the template chord it is in, and the highest mean cost of the chords it
# went through; where it crossed its first and its latest template chord change (live frame,
# template frame; -1 before any): the tempo is measured between those, since between chord
# changes any tempo fits a held chord.
(_TOTAL, _CELLS, _START, _CHORD_TOTAL, _CHORD_CELLS, _WORST_CHORD, _FIRST_LIVE, _FIRST_ROW,
 _LAST_LIVE, _LAST_ROW) = range(10)
_N_COLS = 10


def template_chroma(harmony: Sequence[Note], hop_s: float) -> np.ndarray:
    """(n_frames, 12) CENS of notes at hop_s: frame j covers [j, j + 1) * hop_s seconds."""
    n_frames = max(1, math.ceil(max(n.end_s for n in harmony) / hop_s))
    energy = np.zeros((n_frames, N_CLASSES))
    for note in harmony:
        first = int(note.onset_s / hop_s)
        last = min(n_frames, math.ceil(note.end_s / hop_s))
        for j in range(first, last):
            overlap = min(note.end_s, (j + 1) * hop_s) - max(note.onset_s, j * hop_s)
            for semitones, weight in OVERTONES:
                energy[j, round(note.pitch + semitones) % N_CLASSES] += weight * overlap
    out = np.zeros_like(energy)
    cens_sequence(energy, smoothing_window(), out)
    return out


def change_rows(template: np.ndarray) -> np.ndarray:
    """Per template frame, whether a chord change shows there: the chroma turns by CHANGE_TURN
    or more across it (1 - cosine of the frames CHANGE_SPAN either side), and by more than
    anywhere within half a smoothing window of it."""
    n_frames = len(template)
    padded = np.concatenate([np.repeat(template[:1], CHANGE_SPAN, axis=0), template,
                             np.repeat(template[-1:], CHANGE_SPAN, axis=0)])
    turn = 1.0 - np.sum(padded[:n_frames] * padded[2 * CHANGE_SPAN:], axis=1)
    reach = int(SMOOTH_DELAY_FRAMES)
    rows = np.zeros(n_frames, dtype=np.bool_)
    for j in np.flatnonzero(turn >= CHANGE_TURN):
        before, after = turn[max(0, j - reach):j], turn[j + 1:j + 1 + reach]
        rows[j] = np.all(before < turn[j]) and np.all(after <= turn[j])
    return rows


def chord_room(is_change: np.ndarray) -> np.ndarray:
    """Per template frame, the most live frames a path there may still spend in the template
    chord it is in: two for each frame of that chord after it (a (2, 1) step per frame)."""
    room = np.zeros(len(is_change), dtype=np.float64)
    for j in range(len(is_change) - 2, -1, -1):
        room[j] = 0.0 if is_change[j + 1] else room[j + 1] + 2.0
    return room


def frames_needed(is_change: np.ndarray, min_progress: float) -> int:
    """Template frames a path must cover to be announced: min_progress of them, and past its
    MIN_CHORD_CHANGES-th chord change (all of them, if it has fewer)."""
    n_frames = len(is_change)
    changes = np.flatnonzero(is_change)
    if len(changes) < MIN_CHORD_CHANGES:
        return n_frames
    return min(n_frames, max(math.ceil(min_progress * n_frames),
                             int(changes[MIN_CHORD_CHANGES - 1]) + 1))


@numba.njit(cache=True, nogil=True, inline="always")
def _better(path, src_row, shift, src, added, n_added, best_total, best_cells):
    """(total, cells) of the path at (src_row, shift, src) extended by n_added cells costing
    `added` in all, if its mean cost per cell is below best_total / best_cells; else the best."""
    total = path[src_row, shift, src, _TOTAL] + added
    cells = path[src_row, shift, src, _CELLS] + n_added
    if total * best_cells < best_total * cells:  # also false for an empty (inf) source
        return total, cells, True
    return best_total, best_cells, False


@numba.njit(cache=True, nogil=True, inline="always")
def _never_announced(path, src_row, shift, src, chord_added, n_added, crosses, room, chord_limit):
    """Whether the path at (src_row, shift, src), extended by n_added cells costing chord_added
    (without the step's penalty), can never be announced: one of its chords costs more than
    chord_limit on average. crosses: the step crosses a chord change; room: the live frames
    the path may still spend in the chord it then is in (`chord_room`).

    A chord's mean cost is final once a path leaves it; until then only the room left can
    lower it. The source is alive (see match_frame_kernel)."""
    if crosses:
        left = path[src_row, shift, src]  # the chord it leaves is complete
        worst = max(left[_WORST_CHORD], left[_CHORD_TOTAL] / left[_CHORD_CELLS])
        chord_total, chord_cells = chord_added, n_added
    else:
        worst = path[src_row, shift, src, _WORST_CHORD]
        chord_total = path[src_row, shift, src, _CHORD_TOTAL] + chord_added
        chord_cells = path[src_row, shift, src, _CHORD_CELLS] + n_added
    return worst > chord_limit or chord_total > chord_limit * (chord_cells + room)


@numba.njit(cache=True, nogil=True, inline="always")
def _extend(path, now, src_row, shift, src, dst, total, cells, earlier_cost, c, change, live):
    """Write the path at (src_row, shift, src) extended to template frame dst of live frame
    `now`'s row: total and cells as chosen; its chord costs gain earlier_cost (the step's
    first cell, if it adds two; else 0) and c. change: the template frame of a chord change
    the step crosses (-1: none), at live frame `live`."""
    for col in range(_N_COLS):
        path[now, shift, dst, col] = path[src_row, shift, src, col]
    path[now, shift, dst, _TOTAL] = total
    path[now, shift, dst, _CELLS] = cells
    n_added = cells - path[src_row, shift, src, _CELLS]
    if change < 0:
        path[now, shift, dst, _CHORD_TOTAL] += earlier_cost + c
        path[now, shift, dst, _CHORD_CELLS] += n_added
        return
    # The chord before is complete; the step's cells begin the next one.
    chord_cost = path[now, shift, dst, _CHORD_TOTAL] / path[now, shift, dst, _CHORD_CELLS]
    path[now, shift, dst, _WORST_CHORD] = max(path[now, shift, dst, _WORST_CHORD], chord_cost)
    path[now, shift, dst, _CHORD_TOTAL] = earlier_cost + c
    path[now, shift, dst, _CHORD_CELLS] = n_added
    if path[now, shift, dst, _FIRST_ROW] < 0:
        path[now, shift, dst, _FIRST_LIVE] = live
        path[now, shift, dst, _FIRST_ROW] = change
    path[now, shift, dst, _LAST_LIVE] = live
    path[now, shift, dst, _LAST_ROW] = change


@numba.njit(cache=True, nogil=True)
def match_frame_kernel(x, n, first_theme, end_theme, template, is_silent, is_change, room, offset,
                       need, max_cost, cost_to_score, fired_end, pending, rotated, local, path,
                       reach, visited, theme_index, theme_score, theme_progress, out_theme,
                       out_shift, out_cell, out_score):
    """Advance the alignment of themes first_theme to end_theme - 1, under every shift, by live
    frame n (CENS x, 12): their n-th frame.

    template (n_template_frames, 12): the templates concatenated, theme t in rows
    offset[t]:offset[t + 1]; is_silent and is_change: the rows that are silence, and those
    where a chord change shows; room: per row, `chord_room`. need[t]: template frames a path
    must cover to be announced; max_cost[t]: the highest mean cost per cell it may have (score
    = 1 - cost_to_score * mean cost).
    fired_end[t]: the first live frame after the theme's last announced passage, moved on
    while paths that began before it (by SMOOTH_FRAMES) still match; pending[t]: the live
    frame since which a path of a new passage has qualified (-1: none).
    local (2, 12, n): local costs of live frames n and n - 1 (row = frame % 2); path
    (3, 12, n, _N_COLS): the best path into each cell at live frames n, n - 1 and n - 2
    (row = frame % 3). A dead path (`_never_announced`) keeps only its _TOTAL and _CELLS,
    and its _WORST_CHORD is inf. reach and visited (3, n_themes, 12): per row of path, theme
    and shift, the furthest template frame (from the theme's first) that a live path ends at
    (-1: none), and the furthest visited; the frames past that hold no path. A frame is
    visited only where a live path of the last two live frames may reach (two template frames
    further): a dead path beyond is dropped.
    Writes each theme's display score and progress (at theme_index[t], its index among all
    themes), and returns the number of themes to announce, listed (theme, shift, template
    row, score) in the out_ arrays.
    """
    now, back1, back2 = n % 3, (n - 1) % 3, (n - 2) % 3
    here, before = n % 2, (n - 1) % 2
    x_silent = True
    for p in range(N_CLASSES):
        x_silent = x_silent and x[p] == 0.0
    # The performance is the template `shift` semitones up: its class p + shift plays the
    # template's p.
    for shift in range(N_CLASSES):
        for p in range(N_CLASSES):
            rotated[shift, p] = x[(p + shift) % N_CLASSES]
    n_out = 0
    for t in range(first_theme, end_theme):
        first, last = offset[t], offset[t + 1]
        best_display, best_progress = 0.0, 0.0
        announce_score, goes_on = -np.inf, False
        chord_limit = CHORD_COST_RATIO * max_cost[t]
        for shift in range(N_CLASSES):
            # A path of the last two live frames can reach this far now; paths start at 0.
            reachable = min(last - first - 1,
                            max(reach[back1, t, shift], reach[back2, t, shift]) + 2)
            furthest = -1
            for g in range(first, first + reachable + 1):
                # A cell's local cost is needed where a path may enter it, now or (a (2, 1)
                # step) at the next frame, or enter the cell after it by a (1, 2) step: where a
                # path starts, or one ends at a frame before it of the last two live frames.
                j = g - first
                entered = j == 0 or (path[back1, shift, g - 1, _TOTAL] < np.inf
                                     or path[back2, shift, g - 1, _TOTAL] < np.inf
                                     or (j >= 2 and path[back1, shift, g - 2, _TOTAL] < np.inf))
                if not entered:
                    path[now, shift, g, _TOTAL] = np.inf
                    continue
                if x_silent or is_silent[g]:
                    c = 0.0 if x_silent == is_silent[g] else 1.0
                else:
                    dot = 0.0
                    for p in range(N_CLASSES):
                        dot += rotated[shift, p] * template[g, p]
                    c = 1.0 - dot
                local[here, shift, g] = c
                if j == 0:  # a path may start here at any live frame
                    path[now, shift, g, _TOTAL] = c
                    path[now, shift, g, _CELLS] = 1.0
                    if c > chord_limit * (1.0 + room[g]):
                        path[now, shift, g, _WORST_CHORD] = np.inf  # dead at birth
                        continue
                    path[now, shift, g, _START] = n
                    path[now, shift, g, _CHORD_TOTAL] = c
                    path[now, shift, g, _CHORD_CELLS] = 1.0
                    path[now, shift, g, _WORST_CHORD] = 0.0
                    for col in range(_FIRST_LIVE, _N_COLS):
                        path[now, shift, g, col] = -1.0
                    furthest = 0
                    continue
                # The best of three steps into (n, g), by mean cost per cell:
                # (1, 1), one live frame per template frame;
                total, cells, _ = _better(path, back1, shift, g - 1, c, 1.0, np.inf, 1.0)
                src_row, src, earlier, live = back1, g - 1, 0.0, n
                # (2, 1), live frame n - 1 also plays template frame g (slower);
                earlier_21 = local[before, shift, g]
                total, cells, won = _better(path, back2, shift, g - 1,
                                            earlier_21 + c + STEP_PENALTY, 2.0, total, cells)
                if won:
                    src_row, src, earlier, live = back2, g - 1, earlier_21, n - 1
                # (1, 2), live frame n also plays template frame g - 1 (faster).
                if j >= 2:
                    earlier_12 = local[here, shift, g - 1]
                    total, cells, won = _better(path, back1, shift, g - 2,
                                                earlier_12 + c + STEP_PENALTY, 2.0, total, cells)
                    if won:
                        src_row, src, earlier, live = back1, g - 2, earlier_12, n
                if total == np.inf:
                    path[now, shift, g, _TOTAL] = np.inf
                    continue
                change = j if is_change[g] else -1
                if src == g - 2 and is_change[g - 1]:
                    change = max(change, j - 1)
                n_added = cells - path[src_row, shift, src, _CELLS]
                dead = path[src_row, shift, src, _WORST_CHORD] == np.inf or _never_announced(
                    path, src_row, shift, src, earlier + c, n_added, change >= 0, room[g],
                    chord_limit)
                if dead:
                    path[now, shift, g, _TOTAL] = total
                    path[now, shift, g, _CELLS] = cells
                    path[now, shift, g, _WORST_CHORD] = np.inf
                else:
                    _extend(path, now, src_row, shift, src, g, total, cells, earlier, c, change,
                            live)
                    furthest = j
                mean_cost = total / cells
                score = 1.0 - cost_to_score * mean_cost
                covered = (j + 1) / need[t]
                display = max(0.0, score) * min(1.0, covered)
                if display > best_display:
                    best_display, best_progress = display, (j + 1) / (last - first)
                if dead:
                    continue
                # Announced: enough of the template, matched well on the whole and chord by
                # chord, the one it is in included, and past that one's blurred start (a path
                # that raced ahead of the music into the next chord matches well on the whole,
                # not there, and right after a change the two are hard to tell apart).
                chord_cells = path[now, shift, g, _CHORD_CELLS]
                chord_cost = max(path[now, shift, g, _WORST_CHORD],
                                 path[now, shift, g, _CHORD_TOTAL] / chord_cells)
                if (covered < 1.0 or mean_cost > max_cost[t] or chord_cells <= SMOOTH_DELAY_FRAMES
                        or chord_cost > chord_limit):
                    continue
                # A path that began a smoothing window or more before the announced passage's
                # end is that passage; one after may be the next (their chroma overlaps).
                if path[now, shift, g, _START] < fired_end[t] - SMOOTH_FRAMES:
                    goes_on = True  # a path of the announced passage still matches
                elif score > announce_score:
                    announce_score = score
                    out_theme[n_out], out_shift[n_out], out_cell[n_out] = t, shift, g
                    out_score[n_out] = score
            # This row last held live frame n - 3, as far as it was visited then: past where it
            # is visited now, that is stale.
            for j in range(reachable + 1, visited[now, t, shift] + 1):
                path[now, shift, first + j, _TOTAL] = np.inf
            visited[now, t, shift] = reachable
            reach[now, t, shift] = furthest
        theme_score[theme_index[t]] = best_display
        theme_progress[theme_index[t]] = best_progress
        if goes_on:  # one event per occurrence, however long it goes on
            fired_end[t] = n + 1
        if announce_score == -np.inf:
            pending[t] = -1
            continue
        # A match must hold for HOLD_FRAMES; then the best path at that frame is announced
        # (the first paths to qualify are those that raced ahead, the truest come later).
        if pending[t] < 0:
            pending[t] = n
        if n - pending[t] >= HOLD_FRAMES:
            fired_end[t] = n + 1
            pending[t] = -1
            n_out += 1
    return n_out


def balanced_parts(lengths: np.ndarray, n_parts: int) -> np.ndarray:
    """Bounds (n_parts + 1) that split consecutive items of these lengths into n_parts runs of
    about equal total length: an item goes to the part where it starts. With fewer items than
    parts, the last parts are empty (the first parts are matched first, the soonest)."""
    starts = np.cumsum(lengths) - lengths
    total = np.sum(lengths)
    bounds = np.searchsorted(starts, np.arange(n_parts + 1) * total / n_parts, side="left")
    bounds[-1] = len(lengths)
    return bounds.astype(np.int64)


class HarmonyMatcher:
    """The themes with harmony against the live chroma; call `add_frame` for each frame.

    themes: the detector's themes. Only those with harmony that changes at least
    MIN_TEMPLATE_CHANGES times are matched here (`n_themes` of them); the others cost nothing.
    hop_s: the chroma tracker's hop. min_progress, threshold: as for the Matcher; a harmony's
    score is 1 - (1 - SCORE_THRESHOLD) / MAX_COST x its mean cost, so that the default
    threshold announces at MAX_COST.

    Display state, per theme of `themes` (0 for those not matched here), updated as each
    part takes each frame: `theme_score` (0-1) and `theme_progress` (0-1), of the best path
    followed (a dead one beyond the reach of live paths is no longer followed, see
    match_frame_kernel).
    """

    def __init__(self, themes: Sequence[Theme], hop_s: float,
                 min_progress: float = MIN_PROGRESS, threshold: float = SCORE_THRESHOLD) -> None:
        self.hop_s = hop_s
        candidates = {k: template_chroma(theme.harmony, hop_s)
                      for k, theme in enumerate(themes) if theme.harmony}
        is_change = {k: change_rows(template) for k, template in candidates.items()}
        #: The indices in `themes` of those matched here.
        self.indices = np.array([k for k in candidates
                                 if is_change[k].sum() >= MIN_TEMPLATE_CHANGES], dtype=np.int64)
        self.n_themes = len(self.indices)
        harmonic = [themes[k] for k in self.indices]
        templates = [candidates[k] for k in self.indices]
        is_change = [is_change[k] for k in self.indices]
        lengths = np.array([len(t) for t in templates], dtype=np.int64)
        self._is_change = np.concatenate(is_change or [np.zeros(1, dtype=np.bool_)])
        self._room = np.concatenate([chord_room(rows) for rows in is_change] or [np.zeros(1)])
        self._offset = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        self._template = (np.concatenate(templates) if templates
                          else np.zeros((1, N_CLASSES)))
        self._is_silent = ~self._template.any(axis=1)
        self._need = np.array([frames_needed(rows, min_progress) for rows in is_change],
                              dtype=np.int64)
        sensitivity = np.array([theme.sensitivity for theme in harmonic], dtype=np.float64)
        self._cost_to_score = (1.0 - SCORE_THRESHOLD) / MAX_COST
        self._max_cost = (1.0 - threshold) * sensitivity / self._cost_to_score
        n_rows, n_harmonic = self._template.shape[0], len(harmonic)
        self._fired_end = np.zeros(max(1, n_harmonic), dtype=np.int64)
        self._pending = np.full(max(1, n_harmonic), -1, dtype=np.int64)
        self._rotated = np.zeros((N_CLASSES, N_CLASSES))
        self._local = np.zeros((2, N_CLASSES, n_rows))
        self._path = np.zeros((3, N_CLASSES, n_rows, _N_COLS))
        self._path[..., _TOTAL] = np.inf
        self._reach = np.full((3, max(1, n_harmonic), N_CLASSES), -1, dtype=np.int64)
        self._visited = np.full((3, max(1, n_harmonic), N_CLASSES), -1, dtype=np.int64)
        self.theme_score = np.zeros(len(themes))
        self.theme_progress = np.zeros(len(themes))
        self._out_theme = np.zeros(max(1, n_harmonic), dtype=np.int64)
        self._out_shift = np.zeros(max(1, n_harmonic), dtype=np.int64)
        self._out_cell = np.zeros(max(1, n_harmonic), dtype=np.int64)
        self._out_score = np.zeros(max(1, n_harmonic))
        #: Part p holds the themes part_bounds[p] to part_bounds[p + 1] - 1 (of those matched).
        self.n_parts = N_PARTS
        self.part_bounds = balanced_parts(lengths, self.n_parts)
        #: Per part, the live frames it has been given.
        self.part_frames = np.zeros(self.n_parts, dtype=np.int64)

    def add_frame(self, chroma: np.ndarray, time_s: float, part: int
                  ) -> list[tuple[int, float, float, float, int, float, float]]:
        """Advance the themes of `part` by one live CENS frame (12) whose time is time_s: the
        part's next frame.

        Returns one tuple per theme announced, as Matcher.add_note: (theme index in
        `themes`, score, start_s, end_s, transpose, tempo, progress). Usually empty.
        """
        n = int(self.part_frames[part])
        self.part_frames[part] += 1
        if self.part_bounds[part] == self.part_bounds[part + 1]:
            return []
        n_out = match_frame_kernel(
            chroma, n, self.part_bounds[part], self.part_bounds[part + 1], self._template,
            self._is_silent, self._is_change, self._room, self._offset, self._need,
            self._max_cost, self._cost_to_score, self._fired_end, self._pending, self._rotated,
            self._local, self._path, self._reach, self._visited, self.indices, self.theme_score,
            self.theme_progress, self._out_theme, self._out_shift, self._out_cell, self._out_score)
        return [self._describe(int(self._out_theme[k]), int(self._out_shift[k]),
                               int(self._out_cell[k]), float(self._out_score[k]), n, time_s)
                for k in range(n_out)]

    def _describe(self, theme: int, shift: int, cell: int, score: float, n: int,
                  time_s: float) -> tuple[int, float, float, float, int, float, float]:
        """(theme, score, start_s, end_s, transpose, tempo, progress) of a path ending at
        live frame n, whose time is time_s."""
        row = self._path[n % 3, shift, cell]
        first, last = self._offset[theme], self._offset[theme + 1]
        live_frames = n - row[_START] + 1
        template_frames = cell - first + 1
        if row[_LAST_ROW] > row[_FIRST_ROW] >= 0 and row[_LAST_LIVE] > row[_FIRST_LIVE]:
            tempo = (row[_LAST_ROW] - row[_FIRST_ROW]) / (row[_LAST_LIVE] - row[_FIRST_LIVE])
        else:
            tempo = template_frames / live_frames
        start_s = time_s - (live_frames - 0.5) * self.hop_s
        transpose = shift if shift <= 6 else shift - N_CLASSES
        return (int(self.indices[theme]), score, float(start_s), float(time_s + 0.5 * self.hop_s),
                transpose, float(tempo), float(template_frames / (last - first)))
