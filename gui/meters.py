"""Meters: the input level bar, the CPU load, and the status line that shows them with the
analysis front end in use and the source's latency, overflow and sanitised-sample counts."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

from gui.palette import BACKGROUND, DIM_TEXT, PANEL
from gui.sources import SourceStatus

#: The level bar's range in dBFS.
FLOOR_DB, CEILING_DB = -60.0, 0.0
#: How fast the bar falls (dB per second); it rises at once, like a peak meter.
FALL_DB_PER_S = 30.0
_ZONES = ((-12.0, QColor("#4caf50")), (-3.0, QColor("#e0c341")), (CEILING_DB, QColor("#e05a47")))


class LevelMeter(QWidget):
    """A horizontal input level bar (dBFS) with peak-meter ballistics; repaints only when the
    shown level moves by a quarter of a decibel or more."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(120)
        self.setToolTip("input level, dBFS")
        self.level_db = FLOOR_DB
        self._last = time.monotonic()

    def sizeHint(self) -> QSize:
        return QSize(200, 14)

    def refresh(self, level_db: float) -> None:
        now = time.monotonic()
        fallen = self.level_db - FALL_DB_PER_S * (now - self._last)
        self._last = now
        shown = min(CEILING_DB, max(FLOOR_DB, level_db, fallen))
        if abs(shown - self.level_db) >= 0.25:
            self.level_db = shown
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = QRectF(self.rect()).adjusted(0, 2, 0, -2)
        painter.fillRect(area, PANEL)
        span = CEILING_DB - FLOOR_DB
        start = FLOOR_DB
        for zone_top, color in _ZONES:
            top = min(self.level_db, zone_top)
            if top > start:
                left = area.left() + area.width() * (start - FLOOR_DB) / span
                width = area.width() * (top - start) / span
                painter.fillRect(QRectF(left, area.top(), width, area.height()), color)
            start = zone_top
        painter.setPen(DIM_TEXT)
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        painter.drawText(area.adjusted(4, 0, -4, 0), right, f"{self.level_db:.0f} dB")
        painter.end()


class CpuLoad:
    """This process's CPU time per second of wall time since the last sample (1.0 = one core
    busy), worker and display together."""

    def __init__(self) -> None:
        self._cpu_s = time.process_time()
        self._wall_s = time.monotonic()

    def sample(self) -> float:
        cpu_s, wall_s = time.process_time(), time.monotonic()
        load = (cpu_s - self._cpu_s) / max(wall_s - self._wall_s, 1e-6)
        self._cpu_s, self._wall_s = cpu_s, wall_s
        return load


def front_end(mode: str, ensemble: bool) -> str:
    """The detector's mode and, in "auto", how it reads the signal now: "ensemble" (harmonic
    salience: a melody inside accompaniment) or "melody" (YIN: a single line). `ensemble` is
    `detector.display.ensemble`, the reading of the latest pitch frame."""
    if mode != "auto":
        return mode
    return f"auto ({'ensemble' if ensemble else 'melody'})"


class StatusLine(QLabel):
    """One line: source, position, front end, latency, CPU, overflows, dropped frames, sanitised
    samples, frames per second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(f"color: {DIM_TEXT.name()}; background: {BACKGROUND.name()}")
        self.setText("stopped: pick an input and press Listen, or open an audio file")

    def show_status(self, source_name: str, position_s: float, mode: str, status: SourceStatus,
                    cpu_load: float, fps: float) -> None:
        """mode: what `front_end` says."""
        state = "finished" if status.finished else f"{position_s:.1f} s"
        self.setText(
            f"{source_name}: {state}  │  mode: {mode}  │  latency {1000 * status.latency_s:.0f} ms  │  "
            f"CPU {100 * cpu_load:.0f} %  │  overflows {status.overflows}  │  "
            f"dropped {status.dropped_frames}  │  sanitised {status.sanitised_samples}  │  "
            f"{fps:.0f} fps")
