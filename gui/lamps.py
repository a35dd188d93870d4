"""Theme lamps: one per loaded theme, with its name and colour, all painted by one widget.

A lamp glows with its theme's running score, shows how far through the theme the best match
has got as a bar along its foot, and flashes and holds for HOLD_S when the theme is detected
(then fades over FADE_S). A hundred lamps cost one paintEvent, which repaints only the lamps
that changed visibly, and none at all on a frame in which none did.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.palette import BACKGROUND, PANEL, TEXT, with_alpha

LAMP_WIDTH, LAMP_HEIGHT, GAP = 180, 38, 6
#: Seconds a detected theme's lamp stays fully lit, then seconds it takes to fade.
HOLD_S, FADE_S = 4.0, 1.5
#: Scores (0-1) below this leave a lamp dark: other music reaches ~0.3-0.6 on random themes.
GLOW_FROM = 0.3
#: The smallest change of glow, progress or lit (0-1) worth a repaint: one step of 8-bit colour.
_VISIBLE_CHANGE = 1.0 / 256
_GLOW, _PROGRESS, _LIT = range(3)
_PROGRESS_BAR = 4
_STRIPE = 6


class ThemeLamps(QWidget):
    """The lamps, in a grid as wide as the widget. Call `set_themes` when the theme list
    changes, `refresh` every frame with the detector's scores, and `flash` on a detection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._names: list[str] = []
        self.detections = np.zeros(0, dtype=np.int64)
        self.set_themes([], [])

    def set_themes(self, names: Sequence[str], colors: Sequence[QColor]) -> None:
        """One lamp per theme, every lamp dark; a theme that had a lamp keeps its count of
        detections (the log still lists them), a new one starts at none."""
        counted = dict(zip(self._names, self.detections.tolist()))
        n = len(names)
        self._names = list(names)
        self._colors = list(colors)
        self._elided = list(names)
        # Rows GLOW, PROGRESS, LIT (0-1 per lamp): what the lamps should show, and what they
        # showed when last repainted; a lamp is repainted only when its column differs.
        self._state = np.zeros((3, n))
        self._painted = np.zeros((3, n))
        self._delta = np.zeros((3, n))
        self._visible = np.zeros((3, n), dtype=bool)
        self._changed = np.zeros(n, dtype=bool)
        self._lit_until = np.zeros(n)   # time.monotonic() until which a lamp is fully lit
        self.detections = np.array([counted.get(name, 0) for name in names], dtype=np.int64)
        self._relayout()

    # ---------------------------------------------------------------- state

    def flash(self, index: int) -> None:
        """A detection of theme `index`: light its lamp and count it."""
        self._lit_until[index] = time.monotonic() + HOLD_S
        self._state[_LIT, index] = 1.0
        self.detections[index] += 1
        self.update(self._lamp_rect(index, self._columns()).toAlignedRect())

    def is_lit(self, index: int) -> bool:
        """True while the lamp holds or fades after a detection."""
        return time.monotonic() < self._lit_until[index] + FADE_S

    def refresh(self, score: np.ndarray, progress: np.ndarray) -> None:
        """Take this frame's scores and progress (0-1 per theme); repaint the lamps that changed."""
        if score.shape != self._changed.shape:
            return  # the detector of a source being replaced, with the old theme list
        glow, lit = self._state[_GLOW], self._state[_LIT]
        # glow = ((score - GLOW_FROM) / (1 - GLOW_FROM)) ** 2, clipped to 0-1, in place.
        np.subtract(score, GLOW_FROM, out=glow)
        np.multiply(glow, 1.0 / (1.0 - GLOW_FROM), out=glow)
        np.clip(glow, 0.0, 1.0, out=glow)
        np.square(glow, out=glow)
        np.copyto(self._state[_PROGRESS], progress)
        # lit = 1 while holding, then fading linearly to 0 over FADE_S.
        np.subtract(self._lit_until, time.monotonic() - FADE_S, out=lit)
        np.multiply(lit, 1.0 / FADE_S, out=lit)
        np.clip(lit, 0.0, 1.0, out=lit)
        np.subtract(self._state, self._painted, out=self._delta)
        np.abs(self._delta, out=self._delta)
        np.greater(self._delta, _VISIBLE_CHANGE, out=self._visible)
        np.any(self._visible, axis=0, out=self._changed)
        if not self._changed.any():
            return
        # Asked for is as good as painted: a lamp scrolled out of sight is painted when it shows.
        np.copyto(self._painted, self._state, where=self._changed)
        changed = np.flatnonzero(self._changed)
        if changed.size > len(self._names) // 4:
            self.update()
            return
        columns = self._columns()
        for index in changed:
            self.update(self._lamp_rect(int(index), columns).toAlignedRect())

    # ---------------------------------------------------------------- layout and painting

    def _columns(self) -> int:
        return max(1, (self.width() + GAP) // (LAMP_WIDTH + GAP))

    def lamp_rect(self, index: int) -> QRectF:
        """Where theme `index`'s lamp is drawn, in this widget's coordinates."""
        return self._lamp_rect(index, self._columns())

    def lamp_at(self, point: QPointF) -> int | None:
        """The index of the lamp under point (widget coordinates), None between or past them."""
        columns = self._columns()
        row = int(point.y() // (LAMP_HEIGHT + GAP))
        for index in range(row * columns, min(len(self._names), (row + 1) * columns)):
            if self._lamp_rect(index, columns).contains(point):
                return index
        return None

    def event(self, event: QEvent) -> bool:
        """A lamp's tooltip: its theme's whole name (a lamp shows it elided to its width) and
        how often it was detected."""
        if event.type() == QEvent.Type.ToolTip:
            index = self.lamp_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.lamp_tooltip(index), self)
            return True
        return super().event(event)

    def lamp_tooltip(self, index: int) -> str:
        count = int(self.detections[index])
        return f"{self._names[index]}: detected {count} time{'s' if count != 1 else ''}"

    def _lamp_rect(self, index: int, columns: int) -> QRectF:
        row, column = divmod(index, columns)
        width = (self.width() - GAP * (columns - 1)) / columns
        return QRectF(column * (width + GAP), row * (LAMP_HEIGHT + GAP), width, LAMP_HEIGHT)

    def _relayout(self) -> None:
        """Fit the height to the rows the lamps need, and elide names to the lamp width."""
        columns = self._columns()
        rows = -(-len(self._names) // columns)
        self.setMinimumHeight(max(LAMP_HEIGHT, rows * (LAMP_HEIGHT + GAP) - GAP))
        metrics = QFontMetrics(self._bold)
        text_width = int(self._lamp_rect(0, columns).width()) - _STRIPE - 40
        self._elided = [metrics.elidedText(name, Qt.TextElideMode.ElideRight, text_width)
                        for name in self._names]
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(3 * (LAMP_WIDTH + GAP), 2 * (LAMP_HEIGHT + GAP))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        columns = self._columns()
        first_row = exposed.top() // (LAMP_HEIGHT + GAP)
        last_row = exposed.bottom() // (LAMP_HEIGHT + GAP)
        for index in range(first_row * columns, min(len(self._names), (last_row + 1) * columns)):
            rect = self._lamp_rect(index, columns)
            if rect.intersects(QRectF(exposed)):
                glow, progress, lit = self._state[:, index]
                self._paint_lamp(painter, rect, self._elided[index], self._colors[index], glow, progress,
                                 lit, int(self.detections[index]))
        painter.end()

    def _paint_lamp(self, painter: QPainter, rect: QRectF, name: str, color: QColor, glow: float,
                    progress: float, lit: float, count: int) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PANEL)
        painter.drawRoundedRect(rect, 5, 5)
        alpha = max(int(230 * glow), int(255 * lit))
        if alpha:
            painter.setBrush(with_alpha(color, alpha))
            painter.drawRoundedRect(rect, 5, 5)
        painter.setBrush(color)
        painter.drawRect(QRectF(rect.left(), rect.top() + 4, _STRIPE, rect.height() - 8))
        if progress > 0:
            bar = QRectF(rect.left() + _STRIPE, rect.bottom() - _PROGRESS_BAR,
                         progress * (rect.width() - _STRIPE), _PROGRESS_BAR)
            # A progress bar means little while the score is low: faint until the lamp glows.
            painter.setBrush(QColor(255, 255, 255, 150) if lit or glow > 0.5 else
                             with_alpha(color, int(70 + 185 * glow)))
            painter.drawRect(bar)
        if lit:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(255, 255, 255, int(255 * lit)), 2))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)
        dark_text = alpha > 150 and color.lightnessF() > 0.45
        painter.setPen(QColor("#101114") if dark_text else TEXT)
        painter.setFont(self._bold)
        text = rect.adjusted(_STRIPE + 8, 0, -8, -_PROGRESS_BAR)
        painter.drawText(text, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        if count:
            painter.drawText(text, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"×{count}")
