"""Detection, the one event type, and the one place that turns it into each output format."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

#: The JSON-lines fields, in order. Other programs read them: the names and meanings are stable.
JSON_FIELDS = ("file", "theme", "time_s", "start_s", "end_s", "score", "transpose", "tempo")
#: The CSV cue sheet's columns, in order: the same values, with the passage's duration, the
#: columns a cue list or an editor wants first (`file` is empty for live input).
CUE_FIELDS = ("file", "theme", "start_s", "end_s", "duration_s", "transpose", "tempo", "score",
              "time_s")


@dataclass(frozen=True)
class Detection:
    """A theme heard once.

    theme: the theme's name.
    time_s: stream time at which the detection was announced (samples consumed / sample rate):
        what a live listener would have seen, also when scanning a file.
    start_s, end_s: the matched passage as estimated, in stream time; end_s is where the last
        note matched so far is expected to end, so it can be a little after time_s.
    score: confidence, 0-1.
    transpose: semitones from the template to the performance, nearest integer
        (+3 is a minor third up; octave shifts included, so -12 is an octave down).
    tempo: performed tempo / template tempo (2.0 is twice as fast).
    progress: the fraction of the template's notes matched when announced, 0-1.
    """

    theme: str
    time_s: float
    start_s: float
    end_s: float
    score: float
    transpose: int
    tempo: float
    progress: float = 1.0

    def as_record(self, file: str | None = None) -> dict:
        """The stable JSON-lines record; `file` is included when scanning files."""
        record = {
            "theme": self.theme,
            "time_s": round(self.time_s, 3),
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "score": round(self.score, 3),
            "transpose": self.transpose,
            "tempo": round(self.tempo, 3),
        }
        if file is not None:
            record = {"file": file, **record}
        return record

    def to_json(self, file: str | None = None) -> str:
        return json.dumps(self.as_record(file), ensure_ascii=False)

    def as_cue(self, file: str | None = None) -> dict:
        """One cue-sheet row (CUE_FIELDS): the JSON values, `file` ("" for live input) and
        `duration_s`, the length of the matched passage so far."""
        return {**self.as_record(file), "file": file or "",
                "duration_s": round(self.end_s - self.start_s, 3)}

    @classmethod
    def from_cue(cls, row: dict[str, str]) -> Detection:
        """The detection a cue-sheet row (`as_cue`) holds, its progress unknown (1.0); ValueError
        naming the column that is missing or not a number."""
        numbers = {}
        for field, kind in (("time_s", float), ("start_s", float), ("end_s", float),
                            ("score", float), ("transpose", int), ("tempo", float)):
            try:
                numbers[field] = kind(row[field])
            except KeyError:
                raise ValueError(f"no {field} column") from None
            except (TypeError, ValueError):
                raise ValueError(f"{field} {row[field]!r} is not a number") from None
        if not row.get("theme"):
            raise ValueError("a row without a theme")
        return cls(theme=row["theme"], **numbers)

    def osc_args(self) -> list[str | float | int]:
        """The arguments of an OSC `/theme/detected` message, in order:
        theme (string), score, transpose (int32), tempo, start_s, end_s, time_s (float32)."""
        return [self.theme, float(self.score), int(self.transpose), float(self.tempo),
                float(self.start_s), float(self.end_s), float(self.time_s)]

    def describe(self) -> str:
        """One human-readable line, e.g. for the command line's default output."""
        return (
            f"{self.time_s:8.2f}s  {self.theme}  "
            f"(heard from {self.start_s:.2f}s, {self.transpose:+d} semitones, "
            f"tempo x{self.tempo:.2f}, score {self.score:.2f})"
        )


def cue_sheet_writer(stream: TextIO) -> csv.DictWriter:
    """A CSV writer for cue-sheet rows (`Detection.as_cue`), its header (CUE_FIELDS) written.
    Open the stream with newline=""."""
    writer = csv.DictWriter(stream, fieldnames=CUE_FIELDS)
    writer.writeheader()
    return writer


def write_cue_sheet(entries: Iterable[tuple[Detection, str | None]], stream: TextIO) -> None:
    """A CSV cue sheet: a header of CUE_FIELDS, then one row per (detection, file)."""
    writer = cue_sheet_writer(stream)
    for detection, file in entries:
        writer.writerow(detection.as_cue(file))
