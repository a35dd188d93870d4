"""Streaming note-level matching of the performed notes against every theme at once.

Each performed note updates an open-begin alignment (a Viterbi-style dynamic programme) of
the note stream against each theme's template: state i of a theme is the best path whose
latest matched template note is note i. A path carries its own key (the running mean of
performed minus template pitch, so any transposition and octave is free, and intonation may
drift) and its own tempo (the running mean of log inter-onset-interval ratios, so 0.45-2.2x
is free and rubato costs only what departs from the path's tempo). Steps:

- match: template note i follows i - 1; cost from pitch (semitones off the path's key, octave
  slips folded at a small price; in an ensemble, a note another line began at the same time,
  or one of the chord sounding when it was heard, may stand for it at a price, and it is then
  worth fewer bits, see below) and timing (log-IOI off the path's tempo);
  on a line of an ensemble, the path's octave is the one most of its notes were heard in, and
  the slips are those of the others: the front end hears a bass whose fundamental is weak (a
  bassoon, a trombone) an octave up on some notes and not on others, and were the first note
  to fix the octave, every later one heard in the other octave would pay a slip;
- skip: template note i - 1 was not heard (cheap when it repeats the pitch before it, since
  legato repeated notes merge);
- insert: an extra performed note (an ornament, a split note, an octave slip) is passed over
  (more cheaply on a line read out of an ensemble, where other voices' notes come between);
  in a single line, one that neither repeats nor neighbours the note before also takes
  INSERT_BITS of the path's evidence (below);
- start: any performed note may begin a path at template note 0, or at 1 (first note lost).
  On a line of an ensemble, the path begun at an earlier note waits beside the newest for its
  second note: a path per state keeps one key, and otherwise another voice's note straight
  after a theme's first would begin a path in the wrong key and end the right one.

A theme is announced when a path has heard enough of it and matched it well enough (a mean cost
per template note under 1 - threshold): usually well before the theme ends. "Enough" is
measured in bits: each template note heard at the right pitch adds the surprisal of its
interval under a background model of melodies (a repeat or a step says little, a leap much), so
2**-bits is roughly the chance that other music matches by accident. Past a lost note, the
interval heard is the one from the note before it: the next note adds that interval's
surprisal, or its own if that is less (a path passes a note over by choice, and must not earn
more by it than by hearing it). A note that one of k alternatives stood for is worth
log2(k + 1) bits less: among k + 1 pitches, one fits by chance k + 1 times as often; a waiting
path's second note, likewise, WAITED_BITS less; and an extra note a path passed over in a
single line takes INSERT_BITS away, since the notes around it could be matched in more ways
than one (plain tunes matched in other tunes' steps were most of the false alarms:
benchmarks/accuracy.py, docs/results-history.md). A theme needs MIN_PROGRESS of its bits, at least
MIN_EVIDENCE_BITS (or all of them, if it has fewer) and at most SUFFICIENT_BITS: a theme of
stock steps and repeats must be heard longer than one with a telling leap, and a long theme is
announced once it cannot be chance. A theme is held back while another theme that has heard
half of what it needs matches the same passage better, and only a whole-passage tempo of
0.45-2.2x is announced. One event per occurrence: a new event needs a path that starts after
the last one's end, which moves on while the announced passage is still being played.

The work per performed note is O(total template notes); nothing happens between notes. The
kernel is flat numba over arrays (one concatenated template, per-theme offsets); the Matcher
object owns every buffer, allocated once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from detector.themes import Theme, theme_problem

#: Fraction of a theme's evidence (bits) that must be heard before it is announced ...
MIN_PROGRESS = 0.55
#: ... and never fewer bits than this (a short or plain theme must be heard whole) ...
MIN_EVIDENCE_BITS = 22.0
#: ... but never more than this either: past it, chance is out of the question.
SUFFICIENT_BITS = 32.0
#: How often melodies move by each interval (semitones, either direction; larger: the last
#: value), roughly as in folk and popular tunes: the background a chance match comes from.
INTERVAL_PROBABILITY = (0.20, 0.10, 0.15, 0.06, 0.035, 0.03, 0.005, 0.012, 0.004, 0.003,
                        0.002, 0.001, 0.004, 0.001)
#: Announce when 1 - mean cost per template note reaches this (scaled by sensitivity).
SCORE_THRESHOLD = 0.8

PITCH_FREE = 0.3          # semitones of deviation that cost nothing
PITCH_SPAN = 0.7          # further semitones over which the cost rises to 1
OCTAVE_SLIP_COST = 0.3
TIME_FREE = 0.2           # log IOI deviation that costs nothing (~22 %)
TIME_SPAN = 0.5
TIME_REJECT = math.log(2.0)
PITCH_WEIGHT = 0.65
SKIP_COST = 0.6
SKIP_REPEAT_COST = 0.1    # skipping a template note that repeats the pitch before it
EVIDENCE_BONUS = 0.08     # cost a path may carry more than a rival per extra bit heard
MAX_SKIPPED = 6           # template notes one step may pass over (mostly repeats)
INSERT_COST = 0.45
#: ... on a line read out of an ensemble, which hears other voices' notes between the theme's
LINE_INSERT_COST = 0.2
INSERT_REPEAT_COST = 0.05 # an extra note at the last one's pitch (not limited in number)
INSERT_NEAR_COST = 0.15   # an extra note next to the last one (a split note, a scoop, a trill)
                          # or an octave off it (a tracker's commonest slip, an ensemble's overtone)
INSERT_NEAR_SEMITONES = 1.5
MAX_INSERT_RUN = 2
#: A path that waited for its second note could have taken any of the MAX_INSERT_RUN + 1 that
#: followed its first: chance fits one that many times as often, and it is worth this many bits
#: less.
WAITED_BITS = math.log2(MAX_INSERT_RUN + 1)
LOG_TEMPO_MIN = math.log(1 / 2.2)   # performed IOI / template IOI bounds for a path's tempo
LOG_TEMPO_MAX = math.log(1 / 0.45)
PRUNE_SLACK = 1.5
RIVAL_FRACTION = 0.5      # a theme is held back while a rival has heard this much of its need
RIVAL_WINDOW_S = 3.0      # ... from a start this close, and matches better
ALTERNATIVE_COST = 0.2    # another line's simultaneous note standing for the performed one
CHORD_NOTE_COST = 0.4     # a note of the chord sounding when it was heard, standing for it
#: An extra note passed over in a single line could have been any note, where a chance match
#: would have had to hit one: it takes this many bits of the path's evidence (not a repeat or a
#: neighbour of the note before, which a tracker or a player adds; nor another voice's note
#: in an ensemble, which comes between the theme's anyway). A line of an ensemble pays it too
#: where auto mode read the music as a single line: there its notes are the solo's.
INSERT_BITS = 1.0
STALE_S = 3.0             # a path with no note for this long (beyond the expected IOI) dies

# Columns of the float state matrix (one row per template note).
(_COST, _KEY_SUM, _LT_SUM, _START_S, _LAST_ONSET_S, _LAST_PITCH, _N_MATCHED, _N_TEMPO,
 _INS_RUN, _START_TPL_S, _EVIDENCE, _N_OCTAVES_UP, _N_OCTAVES_DOWN) = range(13)
_N_COLS = 13


_SURPRISAL = -np.log2(np.array(INTERVAL_PROBABILITY))  # bits of an interval of 0, 1, ... semitones


@numba.njit(cache=True, nogil=True, inline="always")
def _interval_surprisal(semitones):
    """The surprisal (bits) of a melodic interval under the background model."""
    return _SURPRISAL[min(int(round(abs(semitones))), _SURPRISAL.shape[0] - 1)]


@numba.njit(cache=True, nogil=True, inline="always")
def _pitch_cost(deviation):
    """Cost 0-1(+octave slip) of a pitch `deviation` (semitones) from the path's key."""
    slip = round(deviation / 12.0)
    deviation -= 12.0 * slip
    cost = (abs(deviation) - PITCH_FREE) / PITCH_SPAN
    cost = min(1.0, max(0.0, cost))
    if slip != 0:
        cost += OCTAVE_SLIP_COST
    return cost, slip


@numba.njit(cache=True, nogil=True, inline="always")
def _better(cost, evidence, rival_cost, rival_evidence):
    """Which of two paths into one state to keep: the cheaper, where each note of evidence
    is worth EVIDENCE_BONUS per bit (so a path that heard a note beats one that slid past it)."""
    if rival_cost == np.inf:
        return cost < np.inf
    return cost - EVIDENCE_BONUS * evidence < rival_cost - EVIDENCE_BONUS * rival_evidence


@numba.njit(cache=True, nogil=True)
def _octave_most_heard_in(n_up, n_down, n_notes):
    """Octaves from a path's key to where more than half of its n_notes were heard: +1 (n_up
    of them an octave above it), -1 (n_down below) or 0."""
    return int(2.0 * n_up > n_notes) - int(2.0 * n_down > n_notes)


@numba.njit(cache=True, nogil=True, inline="always")
def _octave_of_most(cost, key_sum, n_up, n_down, n_notes):
    """A path's (cost, key sum, notes an octave up, notes an octave down) once its octave is
    the one most of its n_notes were heard in (`_octave_most_heard_in`): the key moves there,
    those notes pay no slip and the ones in the old octave pay one (see the module)."""
    shift = _octave_most_heard_in(n_up, n_down, n_notes)
    if shift == 0:
        return cost, key_sum, n_up, n_down
    in_key = n_notes - n_up - n_down
    moved = n_up if shift > 0 else n_down
    cost += PITCH_WEIGHT * OCTAVE_SLIP_COST * (in_key - moved)
    key_sum += 12.0 * shift * n_notes
    if shift > 0:
        return cost, key_sum, 0.0, n_down + in_key
    return cost, key_sum, n_up + in_key, 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _try_step(old, src, src_note, dst, new, tpl_pitch, tpl_onset, evidence, pitch, alternatives, onset_s,
              step_cost, octave_of_most):
    """Candidate: extend the path in row src of old, at template note src_note, to template
    note dst (a row of new).

    evidence: the bits that hearing dst (at the right pitch) adds to the path.
    alternatives: (pitch, price) rows, any of which may stand for this note's pitch at its
    price; the evidence is then log2(k + 1) bits less for k alternatives (see the module).
    octave_of_most: the path takes the octave most of its notes were heard in (`_octave_of_most`).
    """
    n = old[src, _N_MATCHED]
    key = old[src, _KEY_SUM] / n
    pc, slip = _pitch_cost(pitch - tpl_pitch[dst] - key)
    stood_in = False
    for a in range(alternatives.shape[0] if pc > 0.0 else 0):  # at no cost, none does better
        alt_pc, alt_slip = _pitch_cost(alternatives[a, 0] - tpl_pitch[dst] - key)
        if alt_pc + alternatives[a, 1] < pc:
            pc, slip, pitch = alt_pc + alternatives[a, 1], alt_slip, alternatives[a, 0]
            stood_in = True
    if stood_in:
        evidence = max(0.0, evidence - math.log2(1.0 + alternatives.shape[0]))
    tpl_ioi = max(tpl_onset[dst] - tpl_onset[src_note], 1e-3)
    perf_ioi = onset_s - old[src, _LAST_ONSET_S]
    if perf_ioi <= 0.0:
        return
    log_ratio = math.log(perf_ioi / tpl_ioi)
    n_tempo = old[src, _N_TEMPO]
    if n_tempo == 0:
        if log_ratio < LOG_TEMPO_MIN or log_ratio > LOG_TEMPO_MAX:
            return
        tc = 0.0
    else:
        dev = abs(log_ratio - old[src, _LT_SUM] / n_tempo)
        if dev > TIME_REJECT:
            return
        tc = min(1.0, max(0.0, (dev - TIME_FREE) / TIME_SPAN))
    cost = old[src, _COST] + step_cost + PITCH_WEIGHT * pc + (1.0 - PITCH_WEIGHT) * tc
    key_sum = old[src, _KEY_SUM] + pitch - tpl_pitch[dst] - 12.0 * slip
    n_up = old[src, _N_OCTAVES_UP] + (slip > 0)
    n_down = old[src, _N_OCTAVES_DOWN] + (slip < 0)
    if octave_of_most:
        cost, key_sum, n_up, n_down = _octave_of_most(cost, key_sum, n_up, n_down, n + 1.0)
    # Only a note heard at the right pitch is evidence; a wrong one merely passes.
    gained = old[src, _EVIDENCE] + (evidence if pc < 0.8 else 0.0)
    if not _better(cost, gained, new[dst, _COST], new[dst, _EVIDENCE]):
        return
    new[dst, _COST] = cost
    new[dst, _KEY_SUM] = key_sum
    new[dst, _N_OCTAVES_UP] = n_up
    new[dst, _N_OCTAVES_DOWN] = n_down
    new[dst, _LT_SUM] = old[src, _LT_SUM] + log_ratio
    new[dst, _START_S] = old[src, _START_S]
    new[dst, _START_TPL_S] = old[src, _START_TPL_S]
    new[dst, _LAST_ONSET_S] = onset_s
    new[dst, _LAST_PITCH] = pitch
    new[dst, _N_MATCHED] = n + 1
    new[dst, _EVIDENCE] = gained
    new[dst, _N_TEMPO] = n_tempo + 1
    new[dst, _INS_RUN] = 0


@numba.njit(cache=True, nogil=True, inline="always")
def _insert_step(old, src, new, dst, pitch, onset_s, insert_cost, insert_bits):
    """Candidate: the path in row src of old stays at its template note, this performed note
    an extra one (into row dst of new), which costs insert_bits of its evidence unless it
    repeats or neighbours the note before (see the module). A path that has had no note for
    STALE_S, or has passed over MAX_INSERT_RUN extra notes in a row, cannot."""
    if old[src, _COST] == np.inf or old[src, _INS_RUN] >= MAX_INSERT_RUN:
        return
    if onset_s - old[src, _LAST_ONSET_S] > STALE_S:
        return
    distance = abs(pitch - old[src, _LAST_PITCH])
    run = old[src, _INS_RUN]
    evidence = old[src, _EVIDENCE]
    if distance < 0.5:  # the same pitch again: a re-articulated or tremolo-split note
        cost = old[src, _COST] + INSERT_REPEAT_COST
    else:
        near = distance < INSERT_NEAR_SEMITONES or abs(distance - 12.0) < 0.5  # an octave
        cost = old[src, _COST] + (INSERT_NEAR_COST if near else insert_cost)
        if not near:
            evidence = max(0.0, evidence - insert_bits)
        run += 1
    if not _better(cost, evidence, new[dst, _COST], new[dst, _EVIDENCE]):
        return
    for c in range(_N_COLS):
        new[dst, c] = old[src, c]
    new[dst, _COST] = cost
    new[dst, _INS_RUN] = run
    new[dst, _EVIDENCE] = evidence


@numba.njit(cache=True, nogil=True, inline="always")
def _start_path(new, dst, cost, tpl_pitch, tpl_onset, pitch, onset_s):
    if not _better(cost, 0.0, new[dst, _COST], new[dst, _EVIDENCE]):
        return
    new[dst, _COST] = cost
    new[dst, _KEY_SUM] = pitch - tpl_pitch[dst]
    new[dst, _LT_SUM] = 0.0
    new[dst, _START_S] = onset_s
    new[dst, _START_TPL_S] = tpl_onset[dst]
    new[dst, _LAST_ONSET_S] = onset_s
    new[dst, _LAST_PITCH] = pitch
    new[dst, _N_MATCHED] = 1
    new[dst, _EVIDENCE] = 0.0
    new[dst, _N_TEMPO] = 0
    new[dst, _INS_RUN] = 0
    new[dst, _N_OCTAVES_UP] = 0
    new[dst, _N_OCTAVES_DOWN] = 0


@numba.njit(cache=True, nogil=True)
def match_note_kernel(old, new, waiting_old, waiting_new, tpl_pitch, tpl_onset, theme_offset,
                      weight, needed, thresholds, fired_end_s, pitch, alternatives, onset_s,
                      theme_score, theme_progress, rival_score, rival_fraction, rival_start_s,
                      out_theme, out_state, out_score, insert_cost, insert_bits, ensemble_line):
    """Advance every theme's alignment by one performed note (pitch MIDI, onset_s; the
    (pitch, price) rows of `alternatives` may stand for it, see _try_step).

    old/new: (n_template_notes, _N_COLS) state before/after; new is overwritten.
    waiting_old/new: (n_themes, _N_COLS), likewise: per theme, the path begun at an earlier
    note than state 0's that still waits for its second note (only on an `ensemble_line`, where
    a path also takes the octave most of its notes were heard in).
    insert_cost, insert_bits: what an extra note costs, and the evidence it takes (unless it
    repeats or neighbours the one before).
    weight[g]: the evidence (bits) template note g gives when heard at the right pitch after
    note g - 1 (past a lost note, it may give less: see the module).
    needed[t]: the evidence that makes theme t announceable.
    thresholds[t]: the score needed; fired_end_s[t]: end of the theme's last event, moved on
    while paths that began before it keep advancing (the occurrence is still being played).
    Writes each theme's display score and progress, and for its best path so far the raw
    score, the fraction of the needed evidence heard and the start (rival_*, used to hold back a
    theme while another explains the same passage better), and returns the number of themes to
    announce, listed in out_theme/out_state/out_score.
    """
    n_out = 0
    for t in range(theme_offset.shape[0] - 1):
        first, last = theme_offset[t], theme_offset[t + 1]
        best_display, best_progress = 0.0, 0.0
        rival_score[t], rival_fraction[t], rival_start_s[t] = 0.0, 0.0, 0.0
        announce, announce_score = -1, 0.0
        occurrence_goes_on = False
        # A path whose cost is already past what the whole theme may cost can never be
        # announced, and one far behind the bar at its point (by PRUNE_SLACK, about one wrong
        # note) is very unlikely to be this theme: both are dropped, which keeps most states
        # empty and the work per note small even with thousands of themes.
        budget = (1.0 - thresholds[t]) * (last - first)
        # Each note begins a path at state 0, displacing the one begun before it: with
        # `ensemble_line`, that one waits (this note an extra one to it), or the one waiting already
        # does, whichever is cheaper.
        has_waiting = ensemble_line and waiting_old[t, _COST] < np.inf  # a path waits for this note
        if ensemble_line:
            waiting_new[t, _COST] = np.inf
            _insert_step(waiting_old, t, waiting_new, t, pitch, onset_s, insert_cost, insert_bits)
            _insert_step(old, first, waiting_new, t, pitch, onset_s, insert_cost, insert_bits)
        for g in range(first, last):
            i = g - first
            new[g, _COST] = np.inf
            # insert: this performed note is an extra one; the path stays where it was.
            _insert_step(old, g, new, g, pitch, onset_s, insert_cost, insert_bits)
            if i == 0:
                _start_path(new, g, 0.0, tpl_pitch, tpl_onset, pitch, onset_s)
            elif i == 1:
                _start_path(new, g, SKIP_COST, tpl_pitch, tpl_onset, pitch, onset_s)
            # match from g - 1, or skip to g from further back: over one note not heard, and
            # over any run of repeated notes (legato repeats merge into one performed note).
            skip_cost, lost_notes, bits = 0.0, 0, weight[g]
            for j in range(g - 1, max(first, g - 1 - MAX_SKIPPED) - 1, -1):
                if j < g - 1:
                    skipped = j + 1
                    if abs(tpl_pitch[skipped] - tpl_pitch[j]) < 0.5:
                        skip_cost += SKIP_REPEAT_COST
                    else:
                        lost_notes += 1
                        if lost_notes > 1:
                            break
                        skip_cost += SKIP_COST
                        # What was heard: the interval from note j (see the module).
                        bits = min(bits, _interval_surprisal(tpl_pitch[g] - tpl_pitch[j]))
                if old[j, _COST] < np.inf:
                    _try_step(old, j, j, g, new, tpl_pitch, tpl_onset, bits, pitch, alternatives,
                              onset_s, skip_cost, ensemble_line)
                if j == first and has_waiting:
                    _try_step(waiting_old, t, first, g, new, tpl_pitch, tpl_onset,
                              max(0.0, bits - WAITED_BITS), pitch, alternatives, onset_s, skip_cost,
                              ensemble_line)
            cost = new[g, _COST]
            hopeless = cost > budget or cost > (1.0 - thresholds[t]) * (i + 1) + PRUNE_SLACK
            # A path whose every step so far was at a wrong pitch is not this theme starting.
            misfit = new[g, _N_MATCHED] >= 2 and new[g, _EVIDENCE] == 0.0
            if hopeless or misfit:
                new[g, _COST] = np.inf
                continue
            if new[g, _START_S] < fired_end_s[t] and new[g, _LAST_ONSET_S] == onset_s:
                occurrence_goes_on = True  # a path of the announced passage still advances
            if new[g, _N_MATCHED] < 2:
                continue
            score = 1.0 - new[g, _COST] / (i + 1)
            progress = (i + 1) / (last - first)
            display = score * min(1.0, new[g, _EVIDENCE] / needed[t])
            if display > best_display:
                best_display, best_progress = display, progress
                rival_score[t] = score
                rival_fraction[t] = new[g, _EVIDENCE] / needed[t]
                rival_start_s[t] = new[g, _START_S]
            # Enough evidence actually heard (not skipped over), a good enough match, and a
            # tempo over the whole passage within the range a performance may take.
            elapsed_s = new[g, _LAST_ONSET_S] - new[g, _START_S]
            tempo_ok = (LOG_TEMPO_MIN <= math.log(max(elapsed_s, 1e-3)
                                                 / max(tpl_onset[g] - new[g, _START_TPL_S], 1e-3))
                        <= LOG_TEMPO_MAX)
            if (new[g, _EVIDENCE] >= needed[t] and score >= thresholds[t] and tempo_ok
                    and new[g, _START_S] >= fired_end_s[t] and score > announce_score):
                announce, announce_score = g, score
        theme_score[t] = best_display
        theme_progress[t] = best_progress
        if occurrence_goes_on:  # one event per occurrence, however long it goes on
            fired_end_s[t] = max(fired_end_s[t], onset_s)
        if announce >= 0:
            out_theme[n_out] = t
            out_state[n_out] = announce
            out_score[n_out] = announce_score
            n_out += 1
    return n_out


@numba.njit(cache=True, nogil=True)
def join_paths_kernel(paths, other_paths):
    """Into each state (row) of paths, the better (`_better`) of its path and other_paths'."""
    for g in range(paths.shape[0]):
        if _better(other_paths[g, _COST], other_paths[g, _EVIDENCE], paths[g, _COST],
                   paths[g, _EVIDENCE]):
            paths[g, :] = other_paths[g, :]


def interval_bits(pitch: np.ndarray, theme_offset: np.ndarray) -> np.ndarray:
    """Per template note, the surprisal (bits) of the interval from the note before it.

    A theme's first note says nothing (any key is allowed): 0 bits.
    """
    steps = np.abs(np.round(np.diff(pitch, prepend=pitch[:1]))).astype(np.int64)
    bits = _SURPRISAL[np.minimum(steps, len(_SURPRISAL) - 1)]
    bits[theme_offset[:-1]] = 0.0
    return bits


_NO_ALTERNATIVES = np.zeros((0, 2))


class Matcher:
    """Every theme's alignment against the note stream; call `add_note` for each note.

    Display state, updated at each note: `theme_score` (0-1, grows as a theme is heard) and
    `theme_progress` (0-1, how far through the theme the best path has got).

    ensemble_line: the notes are a line read out of an ensemble, where other voices' notes come
    between the theme's: an extra note costs LINE_INSERT_COST (not INSERT_COST), and paths
    wait for their second note (see the module).
    """

    def __init__(self, themes: Sequence[Theme], min_progress: float = MIN_PROGRESS,
                 threshold: float = SCORE_THRESHOLD, ensemble_line: bool = False) -> None:
        self.themes = tuple(themes)
        for theme in self.themes:  # what the loaders ask (theme_from_notes), asked of any caller
            if not isinstance(theme, Theme):
                raise TypeError(f"themes are Theme objects (load_themes and parse_note_list make "
                                f"them), not {type(theme).__name__} ({theme!r:.60})")
            problem = theme_problem(theme)
            if problem:
                raise ValueError(f"theme {theme.name!r}: {problem}")
        self.ensemble_line = ensemble_line
        self._insert_cost = LINE_INSERT_COST if ensemble_line else INSERT_COST
        lengths = np.array([len(theme.notes) for theme in self.themes], dtype=np.int64)
        self._offset = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        notes = [note for theme in self.themes for note in theme.notes]
        self._pitch = np.array([n.pitch for n in notes], dtype=np.float64)
        self._onset = np.array([n.onset_s for n in notes], dtype=np.float64)
        self._duration = np.array([n.duration_s for n in notes], dtype=np.float64)
        self._weight = interval_bits(self._pitch, self._offset)
        total = np.add.reduceat(self._weight, self._offset[:-1]) if len(lengths) else np.zeros(0)
        progress = np.minimum(min_progress * total, SUFFICIENT_BITS)
        self._needed = np.minimum(total, np.maximum(progress, MIN_EVIDENCE_BITS))
        # Sensitivity s lowers (s > 1) or raises (s < 1) the bar: the allowed mean cost scales with s.
        sensitivity = np.array([theme.sensitivity for theme in self.themes], dtype=np.float64)
        self._threshold = 1.0 - (1.0 - threshold) * sensitivity
        n_states = max(1, int(self._offset[-1]))
        self._old = np.full((n_states, _N_COLS), np.inf)
        self._new = np.full((n_states, _N_COLS), np.inf)
        n_themes = len(self.themes)
        self._waiting_old = np.full((max(1, n_themes), _N_COLS), np.inf)
        self._waiting_new = np.full((max(1, n_themes), _N_COLS), np.inf)
        self._fired_end_s = np.full(max(1, n_themes), -np.inf)
        self._last_event_end_s, self._last_event_score = -np.inf, 0.0
        self.theme_score = np.zeros(n_themes)
        self.theme_progress = np.zeros(n_themes)
        self._rival_score = np.zeros(n_themes)
        self._rival_fraction = np.zeros(n_themes)
        self._rival_start_s = np.zeros(n_themes)
        self._out_theme = np.zeros(max(1, n_themes), dtype=np.int64)
        self._out_state = np.zeros(max(1, n_themes), dtype=np.int64)
        self._out_score = np.zeros(max(1, n_themes))

    def add_note(self, pitch: float, onset_s: float, alternatives: np.ndarray = _NO_ALTERNATIVES,
                 in_ensemble: bool = False) -> list[tuple[int, float, float, float, int, float, float]]:
        """Advance every theme by one performed note; alternatives: (pitch, price) rows, the
        pitches of an ensemble that may stand for this one (the notes other lines began at the
        same time at ALTERNATIVE_COST, those of the chord it was heard in at CHORD_NOTE_COST).
        in_ensemble: the note was heard in an ensemble's frame (passed over, it costs no
        evidence, see INSERT_BITS). An `ensemble_line`'s note heard where auto mode read the
        music as a single line is not: there it passes over a solo's notes, which cost what
        they cost the main line (fewer false alarms on solo audio: docs/results-history.md).

        Returns one tuple per theme announced: (theme index, score, start_s, end_s,
        transpose, tempo, progress). Usually empty.
        """
        alternatives = np.ascontiguousarray(alternatives, dtype=np.float64)  # one compiled kernel
        n = match_note_kernel(
            self._old, self._new, self._waiting_old, self._waiting_new, self._pitch, self._onset,
            self._offset, self._weight, self._needed, self._threshold, self._fired_end_s, pitch,
            alternatives, onset_s,
            self.theme_score, self.theme_progress, self._rival_score, self._rival_fraction,
            self._rival_start_s, self._out_theme, self._out_state, self._out_score, self._insert_cost,
            0.0 if in_ensemble else INSERT_BITS, self.ensemble_line,
        )
        self._old, self._new = self._new, self._old
        self._waiting_old, self._waiting_new = self._waiting_new, self._waiting_old
        found = sorted((self._describe(int(self._out_theme[k]), int(self._out_state[k]),
                                       float(self._out_score[k])) for k in range(n)),
                       key=lambda f: -f[1])
        announced = []
        for detection in found:
            theme, score, start_s, end_s = detection[:4]
            if self._outshone(theme, score, start_s):
                continue  # held back: it may still be announced at a later note
            self._fired_end_s[theme] = end_s
            if self._is_new_passage(theme, score, start_s, end_s):
                announced.append(detection)
        return announced

    def fork_from(self, other: Matcher) -> None:
        """Take over other's paths and what it has announced (a matcher of the same themes and
        kind): from here on the two follow two readings of one line (see detector/solo_branch.py)."""
        self._check_twin(other)
        for mine, theirs in ((self._old, other._old), (self._waiting_old, other._waiting_old),
                             (self._fired_end_s, other._fired_end_s),
                             (self.theme_score, other.theme_score),
                             (self.theme_progress, other.theme_progress)):
            np.copyto(mine, theirs)
        self._last_event_end_s, self._last_event_score = other._last_event_end_s, other._last_event_score

    def join(self, other: Matcher) -> None:
        """Merge the paths of a matcher forked from this one (`fork_from`) into this one: into each
        state, the better of the two paths, as the dynamic programme chooses between two paths
        into one state, and each theme quiet until the later of the two last events' ends."""
        self._check_twin(other)
        join_paths_kernel(self._old, other._old)
        join_paths_kernel(self._waiting_old, other._waiting_old)
        np.maximum(self._fired_end_s, other._fired_end_s, out=self._fired_end_s)
        self.take_last_event(other)

    def take_last_event(self, other: Matcher) -> None:
        """Count other's last event as this one's too, where it is the later: two readings of
        one line (`fork_from`) keep one theme per passage between them."""
        if other._last_event_end_s > self._last_event_end_s:
            self._last_event_end_s, self._last_event_score = other._last_event_end_s, other._last_event_score

    def _check_twin(self, other: Matcher) -> None:
        if other.themes != self.themes or other.ensemble_line != self.ensemble_line:
            raise ValueError("only matchers of the same themes and kind can fork or join")

    def _outshone(self, theme: int, score: float, start_s: float) -> bool:
        """Is another theme, half heard or more, matching the same passage better?"""
        rivals = ((self._rival_fraction >= RIVAL_FRACTION) & (self._rival_score > score)
                  & (np.abs(self._rival_start_s - start_s) < RIVAL_WINDOW_S))
        rivals[theme] = False
        return bool(rivals.any())

    def _is_new_passage(self, theme: int, score: float, start_s: float, end_s: float) -> bool:
        """One passage, one theme: a detection overlapping an earlier one of another theme with
        an equal or better score is dropped (two themes that share a melody would otherwise both
        fire), and that theme is kept quiet for the passage."""
        if start_s < self._last_event_end_s and score <= self._last_event_score:
            self._fired_end_s[theme] = max(self._fired_end_s[theme], self._last_event_end_s)
            return False
        self._last_event_end_s, self._last_event_score = end_s, score
        return True

    def _describe(self, theme: int, state: int, score: float):
        """(theme, score, start_s, end_s, transpose, tempo, progress) of the path at `state`."""
        row = self._old[state]
        # The tempo over the whole passage: steadier than the mean of the local ratios.
        tempo = (self._onset[state] - row[_START_TPL_S]) / (row[_LAST_ONSET_S] - row[_START_S])
        end_s = row[_LAST_ONSET_S] + self._duration[state] / tempo
        first, last = self._offset[theme], self._offset[theme + 1]
        progress = (state - first + 1) / (last - first)
        # In the octave most of its notes were heard in (a line's key has followed them already).
        octave = _octave_most_heard_in(row[_N_OCTAVES_UP], row[_N_OCTAVES_DOWN], row[_N_MATCHED])
        transpose = int(round(row[_KEY_SUM] / row[_N_MATCHED])) + 12 * octave
        return (theme, score, float(row[_START_S]), float(end_s), transpose, float(tempo),
                float(progress))
