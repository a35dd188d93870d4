"""The live display's speed: frames per second with 100 themes, and what drawing costs the worker.

    python -m benchmarks.gui [--seconds 72] [--out benchmarks/results]

Qt's offscreen platform (QT_QPA_PLATFORM=offscreen, set here), the window at its default size
(1280x800), 100 themes (the 5 built-in ones and 95 random melody-like ones from
benchmarks.melodies), and the demo performance rendered at 48 kHz, played by gui.player's
FilePlayer in real time in 128-frame blocks: the live path's threads and pacing, without a
sound card. Worker lag, per block = when its analysis finished - when its last sample would
have arrived from a sound card.

One playback, cut into SEGMENT_S segments that take turns (so a change in the machine's other
load falls on every condition alike):
- no display: the window open but its frame timer stopped, nothing drawn;
- display: the frame timer at gui.app.FRAME_RATE_HZ, as users run it;
- display at 30 Hz: the slowest the display may draw, for the trade-off;
- display flat out: the frame timer at 0 ms: the roll redraws whenever a pitch frame is new
  (100 a second) and the timer spins in between, the worst the display can do to the worker.
Frames per second count the pitch roll's paint events (frames actually drawn: paints of the
pyqtgraph view's viewport); GUI ms per frame is the GUI thread's CPU time (time.thread_time) per
frame drawn, GUI CPU % the same per second.
The detections are checked against the same audio run through a Detector directly, in the same
blocks.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402

from benchmarks.melodies import random_themes  # noqa: E402
from benchmarks.report import RESULTS_DIR, finish, table, verdict  # noqa: E402
from detector.demo import builtin_themes, demo_performance  # noqa: E402
from detector.engine import Detector  # noqa: E402
from detector.framing import HOP_S  # noqa: E402
from detector.themes import Theme  # noqa: E402
from gui.app import FRAME_RATE_HZ, MainWindow, application  # noqa: E402
from gui.player import FilePlayer  # noqa: E402

SAMPLE_RATE = 48000
BLOCK_SIZE = 128
N_THEMES = 100
SEGMENT_S = 4.0
MIN_FPS = 30.0
#: condition -> frame timer interval in ms (None: stopped)
CONDITIONS = {"no display": None, "display": round(1000 / FRAME_RATE_HZ),
              f"display at {MIN_FPS:.0f} Hz": round(1000 / MIN_FPS), "display flat out": 0}


class PaintCounter(QObject):
    """Counts the paint events a widget receives: the frames it actually drew."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


@dataclass
class Tally:
    """What one condition accumulated over its segments."""

    lags_s: list[np.ndarray] = field(default_factory=list)
    frames: int = 0
    gui_cpu_s: float = 0.0
    wall_s: float = 0.0

    def summary(self) -> dict[str, float]:
        """Lag percentiles, frames per second, and GUI time per frame (0 when hardly any drawn)."""
        lags_ms = 1000 * np.concatenate(self.lags_s)
        drawing = self.frames >= self.wall_s  # at least a frame a second
        return {"blocks": int(lags_ms.size), "lag_p50_ms": float(np.percentile(lags_ms, 50)),
                "lag_p99_ms": float(np.percentile(lags_ms, 99)), "lag_max_ms": float(lags_ms.max()),
                "frames_per_s": self.frames / self.wall_s,
                "gui_ms_per_frame": 1000 * self.gui_cpu_s / self.frames if drawing else 0.0,
                "gui_thread_cpu": self.gui_cpu_s / self.wall_s}


class Schedule:
    """Switches the window between the conditions every SEGMENT_S and tallies each segment."""

    def __init__(self, window: MainWindow, counter: PaintCounter) -> None:
        self.window, self.counter = window, counter
        self.tallies = {name: Tally() for name in CONDITIONS}
        self.player: FilePlayer | None = None
        self._turn = 0
        self._current: str | None = None

    def next_segment(self) -> None:
        """Close the running segment's tally and start the next condition."""
        now, cpu_s = time.monotonic(), time.thread_time()
        if self._current is not None and self.player is not None:
            tally = self.tallies[self._current]
            lags = self.player.lags_s()
            tally.lags_s.append(lags[self._blocks:])
            tally.frames += self.counter.paints - self._paints
            tally.gui_cpu_s += cpu_s - self._cpu_s
            tally.wall_s += now - self._wall_s
        self._current = list(CONDITIONS)[self._turn % len(CONDITIONS)]
        self._turn += 1
        interval_ms = CONDITIONS[self._current]
        if interval_ms is None:
            self.window.timer.stop()
        else:
            self.window.timer.start(interval_ms)
        self._blocks = self.player.lags_s().size if self.player is not None else 0
        self._paints, self._cpu_s, self._wall_s = self.counter.paints, cpu_s, now


def themes_for_benchmark() -> list[Theme]:
    return builtin_themes() + random_themes(N_THEMES - 5)


def detections_offline(audio: np.ndarray, themes: Sequence[Theme]) -> list[tuple[str, float]]:
    detector = Detector(themes, SAMPLE_RATE)
    found = []
    for start in range(0, len(audio), BLOCK_SIZE):
        found += detector.process(audio[start:start + BLOCK_SIZE])
    return [(d.theme, round(d.time_s, 3)) for d in found]


def run(audio: np.ndarray, themes: Sequence[Theme], screenshot: Path
        ) -> tuple[dict[str, dict[str, float]], list[tuple[str, float]]]:
    """Play the audio through the window, switching conditions; per-condition summaries and the
    detections the window logged."""
    app = application()
    window = MainWindow(themes)
    counter = PaintCounter()
    window.roll.viewport().installEventFilter(counter)  # a QGraphicsView paints on its viewport
    window.show()
    app.processEvents()
    schedule = Schedule(window, counter)

    def make(chosen: Sequence[Theme]) -> FilePlayer:
        schedule.player = FilePlayer.from_array(audio, SAMPLE_RATE, chosen, "benchmark",
                                                block_size=BLOCK_SIZE)
        return schedule.player

    window.start(make)
    schedule.next_segment()
    switcher = QTimer()
    switcher.timeout.connect(schedule.next_segment)
    switcher.start(round(1000 * SEGMENT_S))
    finisher = QTimer()
    finisher.timeout.connect(lambda: app.quit() if schedule.player.status().finished else None)
    finisher.start(20)
    app.exec()
    switcher.stop()
    schedule.next_segment()  # the last, partial segment
    window.timer.start(round(1000 / FRAME_RATE_HZ))
    window.refresh()
    app.processEvents()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(screenshot))
    logged = [(d.theme, round(d.time_s, 3)) for d, _ in window.log.table.entries()]
    window.close()
    return {name: tally.summary() for name, tally in schedule.tallies.items()}, logged


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=72.0,
                        help="audio played (default 72: the whole demo)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="where gui.json and the screenshot go")
    args = parser.parse_args(argv)
    themes = themes_for_benchmark()
    audio, _ = demo_performance(builtin_themes(), SAMPLE_RATE)
    audio = audio[:int(args.seconds * SAMPLE_RATE)]
    screenshot = args.out / "gui_100_themes.png"
    runs, logged = run(audio, themes, screenshot)
    expected = detections_offline(audio, themes)
    rows = [(name, f"{r['frames_per_s']:.0f}",
             f"{r['gui_ms_per_frame']:.1f}" if r["gui_ms_per_frame"] else "-",
             f"{100 * r['gui_thread_cpu']:.0f}", f"{r['lag_p50_ms']:.2f}", f"{r['lag_p99_ms']:.2f}",
             f"{r['lag_max_ms']:.1f}", str(r["blocks"])) for name, r in runs.items()]
    print(f"{N_THEMES} themes, {len(audio) / SAMPLE_RATE:.0f} s of audio at {SAMPLE_RATE} Hz in "
          f"{BLOCK_SIZE}-frame blocks, paced in real time; conditions in turn, {SEGMENT_S:g} s each; "
          "offscreen Qt\n")
    print(table(("condition", "fps", "GUI ms/frame", "GUI CPU %", "lag p50 ms", "lag p99 ms", "lag max ms",
                 "blocks"), rows))
    alone, shown = runs["no display"], runs["display"]
    targets = {
        f"at least {MIN_FPS:.0f} fps with {N_THEMES} themes": shown["frames_per_s"] >= MIN_FPS,
        "worker lag p99 with the display within 1 ms of no display":
            shown["lag_p99_ms"] <= alone["lag_p99_ms"] + 1.0,
        f"worker lag with the display always under one {1000 * HOP_S:.0f} ms hop":
            shown["lag_max_ms"] < 1000 * HOP_S,
        "the window logged what a Detector finds in the same audio": logged == expected,
    }
    verdicts = "\n".join(f"{verdict(met):8s} {target}" for target, met in targets.items())
    path = finish(args.out, "gui.json", {"n_themes": N_THEMES, "audio_s": len(audio) / SAMPLE_RATE,
                                         "sample_rate": SAMPLE_RATE, "block_size": BLOCK_SIZE,
                                         "segment_s": SEGMENT_S, "conditions": runs,
                                         "detections": logged, "targets": targets}, "\n" + verdicts)
    print(f"\nwrote {path} and {screenshot}")


if __name__ == "__main__":
    main()
