"""Auto mode's second reading of the melody: melody mode's, where auto mode reads an ensemble.

Auto mode hears a solo with melody mode's notes (YIN's), except in the frames it reads as an
ensemble, where its main line follows the ensemble's melody. Some solos pass for an ensemble a
while (a low instrument whose melody the salience reads an octave up for a moment, an
instrument that has just changed), and a theme heard there may be lost that melody mode finds.

So where frames read as an ensemble, the main line's matching forks: the main line goes on with the
ensemble's melody, and this branch with YIN's notes, as melody mode hears them. Once the music has
read as one line again for JOIN_AFTER_S (the notes of the ensemble's frames are all announced by
then), both hear the same notes and they join: into each state of each theme, the better of the two
paths, as the matching's dynamic programme chooses between two paths into one state. While both are
live they are one line read two ways, and keep one theme per passage between them, as one matcher
does. A theme melody mode would find there is not lost to the ensemble's reading, at the cost of
matching one more line only while the music reads as an ensemble, and of a copy of the matcher's
state at each fork and join (benchmarks/ensemble.py measures both: README, Ensembles).

The branch forks and joins before the note whose announcement calls for it, whatever the
blocks, so the detections do not depend on the block size.
"""

from __future__ import annotations

import numba
import numpy as np

from detector.matching import Matcher
from detector.salience import MelodyTracker
from detector.segmenter import NoteSegmenter

JOIN_AFTER_S = 0.5  # join once the latest frame read as an ensemble is this much older than a note
_NEVER = np.iinfo(np.int64).max  # an end sample no frame reaches


class SoloBranch:
    """YIN's notes of an auto-mode tracker, matched while the music reads as an ensemble.

    matcher: the branch's (announcing as `Detector` path "solo reading"); it follows main, the
    main line's matcher (`follow`), which it forks from and joins back into.
    """

    def __init__(self, tracker: MelodyTracker, main: Matcher, matcher: Matcher) -> None:
        self.segmenter = NoteSegmenter(tracker.sample_rate, tracker.frame_delay_s)
        self.matcher = matcher
        self.live = False
        self._tracker = tracker
        self._main = main
        self._join_samples = round(JOIN_AFTER_S * tracker.sample_rate)
        # The end sample of the latest frame read as an ensemble before this block, and up to
        # its end (-1: none).
        self._latest_before_block = self._latest_by_block_end = -1

    def process(self, n_frames: int) -> int:
        """Segment YIN's reading of the tracker's latest n_frames frames; returns the notes
        announced (in `segmenter`; match them only while `live`)."""
        tracker = self._tracker
        self._latest_before_block = self._latest_by_block_end
        self._latest_by_block_end = latest_flagged_end(tracker.ensemble, tracker.end_sample, n_frames,
                                                       _NEVER, self._latest_before_block)
        return self.segmenter.process(tracker.yin_f0_hz, tracker.yin_voiced, tracker.yin_level_db,
                                      tracker.end_sample, n_frames)

    def follow(self, end_sample: int, n_frames: int) -> None:
        """Before a note announced at end_sample (a frame of this block) is matched on any
        line: fork from main where the music has come to read as an ensemble, join into it
        once it has read as one line for JOIN_AFTER_S; in between, each takes the other's last
        event, so that the two readings of one line keep one theme per passage between them."""
        tracker, main = self._tracker, self._main
        latest = latest_flagged_end(tracker.ensemble, tracker.end_sample, n_frames, end_sample,
                                    self._latest_before_block)
        live = latest >= 0 and end_sample - latest <= self._join_samples
        if live and not self.live:
            self.matcher.fork_from(main)
        elif self.live and not live:
            main.join(self.matcher)
        elif live:
            self.matcher.take_last_event(main)
            main.take_last_event(self.matcher)
        self.live = live

    def add_note(self, pitch: float, onset_s: float) -> list[tuple]:
        """Match a note of the branch's segmenter as melody mode would (no alternatives, not in
        an ensemble), while the branch is live; returns what its matcher announces."""
        return self.matcher.add_note(pitch, onset_s) if self.live else []


@numba.njit(cache=True, nogil=True)
def latest_flagged_end(flagged, end_sample, n_frames, up_to, before):
    """The end sample of the latest of the first n_frames frames that is flagged and ends at
    or before up_to; `before` if none is (compiled: it runs every block)."""
    for k in range(n_frames - 1, -1, -1):
        if flagged[k] and end_sample[k] <= up_to:
            return end_sample[k]
    return before
