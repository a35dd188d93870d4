"""The pitch roll: the last ROLL_S seconds of tracked pitch, scrolling on a semitone grid.

A pyqtgraph PlotItem: note names on the y axis (C4 is middle C), seconds before now on the x
axis (0 = now). Its content is one pyqtgraph ImageItem showing a numpy RGBA image the size of
the plot area in pixels, top row first, placed so that an image pixel is a screen pixel: the
picture is one unscaled, unflipped drawImage of a QImage that wraps the array without a copy
(uint8 RGBA, no levels, no lookup table: pyqtgraph's fast path). A fraction of a pixel of scaling,
or pyqtgraph's y-up flip of an image placed the usual way, sends every pixel through a transform
instead: three times the cost.
Each frame copies a prepared background (the semitone grid) into that image and stamps the
newest pitch frames, coloured by the tracker's confidence, with a few np.put calls on arrays
allocated once per source and size. Stamping instead of one curve per frame is what keeps it
cheap: a PlotWidget with its curves rebuilt every frame cost ~5 ms of the GUI thread a frame,
and the analysis worker waits for the GIL meanwhile (benchmarks/gui.py).

The latest detected theme is drawn over the trace where it matched (filled boxes, stamped into
the image under the trace), transposed and stretched as detected, then the notes it predicts
(outlined), labelled with its name, transposition and tempo. The outlines and the label are
pyqtgraph items made once, given the theme's notes in stream time when it is detected, and
moved as one group every frame: scrolling them is one setPos. Auto-range, mouse interaction,
menus and antialiasing are off. The view follows the pitch up and down.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QSizePolicy, QWidget

from detector.engine import Detector
from detector.notes import midi_to_name
from gui.overlay import PlacedNotes
from gui.palette import (BACKGROUND, BLACK_KEY_ROW, CONFIDENCE_COLORS, CONFIDENCE_EDGES, DIM_TEXT,
                         ENSEMBLE_CONFIDENCE_EDGES, GRID, TEXT, with_alpha)

#: Seconds of pitch the roll shows.
ROLL_S = 10.0
#: The fewest semitones the view shows; it follows the pitch and widens to fit it.
MIN_SPAN = 24.0
#: The pitch range the view may cover (piano keys A0-C8).
LOWEST_PITCH, HIGHEST_PITCH = 21, 108
#: Width of the note-name axis (pixels).
NOTE_AXIS_PX = 44
#: Pixels per semitone from which every semitone is named; from which C, E and G are.
NAME_EVERY_SEMITONE_PX, NAME_C_E_G_PX = 13.0, 4.5
#: A pitch frame is stamped as a dot this many pixels wide and high.
DOT_WIDTH_PX, DOT_HEIGHT_PX = 2, 3
_BLACK_KEYS = (1, 3, 6, 8, 10)
_MATCHED_FILL_ALPHA = 0.45
_OUTLINE_WIDTH_PX = 1.5
_TICK_PX = 4
#: A MIDI pitch below any view: where unvoiced frames (NaN) are sent to be left out.
_OUT_OF_VIEW_PITCH = 0.0


def named_pitches(low: float, high: float, px_per_semitone: float) -> list[int]:
    """The MIDI pitches in [low, high] to label on the axis: every semitone when there is room,
    else C, E and G, else only the Cs."""
    pitches = range(math.ceil(low), math.floor(high) + 1)
    if px_per_semitone >= NAME_EVERY_SEMITONE_PX:
        return list(pitches)
    named = (0, 4, 7) if px_per_semitone >= NAME_C_E_G_PX else (0,)
    return [p for p in pitches if p % 12 in named]


def _rgba_pixel(color: QColor) -> np.uint32:
    """color composited over the background, as one opaque pixel of a uint8 RGBA image viewed
    as uint32 (so np.put can stamp a whole pixel at once, whatever the byte order)."""
    alpha = color.alphaF()
    mixed = [round(alpha * a + (1 - alpha) * b) for a, b in
             zip(color.getRgb()[:3], BACKGROUND.getRgb()[:3])]
    return np.array(mixed + [255], dtype=np.uint8).view(np.uint32)[0]


def _legend_html() -> str:
    """The line above the plot: what the trace's colours and the boxes mean."""
    squares = "".join(f"<span style='color:{color.name()}'>■</span>" for color in CONFIDENCE_COLORS)
    return (f"pitch, by confidence: low {squares} high&nbsp;&nbsp;&nbsp;&nbsp; "
            "boxes: the detected theme, filled where it matched")


class PitchRoll(pg.GraphicsLayoutWidget):
    """The scrolling pitch roll. Call `attach` when the source changes, `refresh` every frame
    and `show_detection` when a theme is detected.

    plot: the pyqtgraph PlotItem; image: the ImageItem the trace is stamped into.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAntialiasing(False)
        # Nothing draws outside its bounds: repaint exactly the items that changed.
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setInteractive(False)  # no mouse events reach the scene's Python handlers
        self.setMouseTracking(False)
        self.ci.setContentsMargins(4, 4, 12, 4)
        self.ci.setSpacing(0)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        self.addLabel(_legend_html(), row=0, col=0, justify="left", color=DIM_TEXT.name(),
                      size=f"{small.pointSizeF():g}pt")
        self.plot: pg.PlotItem = self.addPlot(row=1, col=0)
        self._configure_plot(small)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self._overlay = pg.ItemGroup()  # in stream seconds: placed at -now every frame
        self._outlines = pg.PlotCurveItem(antialias=False, connect="finite")
        self.label = pg.TextItem(anchor=(1, 1))  # a detected theme's name, over its notes
        self.label.setFont(small)
        for item in (self._outlines, self.label):
            self._overlay.addItem(item)
        self._overlay.setZValue(1)
        self.plot.addItem(self._overlay)
        self._view_low, self._view_high = 48.0, 84.0
        self._palette = np.array([_rgba_pixel(c) for c in CONFIDENCE_COLORS], dtype=np.uint32)
        self._rows = 0
        self._now_s = 0.0
        self._placed: PlacedNotes | None = None
        self._overlay_fill = np.uint32(0)
        self._resize_buffers(640.0, 320.0)
        self.plot.getViewBox().sigResized.connect(self._on_view_resized)

    def _configure_plot(self, font: QFont) -> None:
        """A fixed view: no auto-range, mouse, menu or buttons; axes in the display's colours."""
        plot = self.plot
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.disableAutoRange()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(GRID)
            axis.setTextPen(TEXT)
            axis.setTickFont(font)
            # Ticks outwards (pyqtgraph's point into the plot), and the axis kept as a pixmap: the
            # image's every redraw touches the axes' edges, which then cost a blit, not a replay.
            axis.setStyle(tickLength=_TICK_PX)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.getAxis("left").setWidth(NOTE_AXIS_PX)
        time_axis = plot.getAxis("bottom")
        time_axis.setTicks([[(float(s), str(s)) for s in range(-int(ROLL_S), 1)]])
        time_axis.setStyle(hideOverlappingLabels=False)  # keep "-10" and "0" at the ends
        plot.setLabel("bottom", "seconds (0 = now)", color=DIM_TEXT.name(), size=f"{font.pointSizeF():g}pt")

    def sizeHint(self) -> QSize:
        return QSize(900, 420)

    # ---------------------------------------------------------------- buffers

    def attach(self, detector: Detector) -> None:
        """Allocate the frame buffers for this detector's pitch history and clear the overlay."""
        history = detector.display.history
        self._rows = rows = min(history.capacity, math.ceil(ROLL_S / detector.tracker.hop_s) + 2)
        self._offsets = np.arange(-rows, 0, dtype=np.int64)
        self._row_index = np.zeros(rows, dtype=np.int64)
        self._time_s = np.zeros(rows)
        self._pitch = np.zeros(rows)
        self._periodicity = np.zeros(rows)
        self._ensemble = np.zeros(rows, dtype=bool)
        self._edge = np.zeros(rows)
        self._scratch = np.zeros(rows)
        self._column = np.zeros(rows, dtype=np.int64)
        self._line = np.zeros(rows, dtype=np.int64)
        self._band = np.zeros(rows, dtype=np.int64)
        self._colors = np.zeros(rows, dtype=np.uint32)
        self._pixel = np.zeros(rows, dtype=np.int64)
        self._stamp = np.zeros(rows, dtype=np.int64)
        self._ok = np.zeros(rows, dtype=bool)
        self._test = np.zeros(rows, dtype=bool)
        self._frames_drawn = -1
        self._placed = None
        self._overlay.setVisible(False)
        self._clear_image()
        self._show_image()

    def _on_view_resized(self) -> None:
        """The plot area changed size: an image of its new size, and the ticks that fit it."""
        view = self.plot.getViewBox()
        self._resize_buffers(view.width(), view.height())
        self._frames_drawn = -1

    def _resize_buffers(self, width: float, height: float) -> None:
        """The plot area's pixels (plus a few spare ones where hidden frames are stamped); width
        and height: the plot area's size in pixels, which the layout may make fractional."""
        self._area_height = max(16.0, height)
        self._px_per_s = max(16.0, width) / ROLL_S
        self._width, self._height = math.ceil(max(16.0, width)), math.ceil(self._area_height)
        n = self._width * self._height
        self._pixels = np.zeros(n + 2 * self._width + 3, dtype=np.uint32)
        self._image_pixels = self._pixels[:n].reshape(self._height, self._width)
        self._rgba = self._pixels[:n].view(np.uint8).reshape(self._height, self._width, 4)
        self._spare = n + self._width + 1  # stamping around it stays among the spare pixels
        rows_around = DOT_HEIGHT_PX // 2
        self._stamp_offsets = [dy * self._width + dx for dy in range(-rows_around, rows_around + 1)
                               for dx in range(DOT_WIDTH_PX)]
        self._background = np.zeros((self._height, self._width), dtype=np.uint32)
        self._move_view()

    # ---------------------------------------------------------------- the static layers

    @property
    def _px_per_semitone(self) -> float:
        return self._area_height / (self._view_high - self._view_low)

    def _pitch_to_row(self, pitch: float) -> float:
        """Image row (pixels from the top) of a MIDI pitch."""
        return (self._view_high - pitch) * self._px_per_semitone

    def _move_view(self, redraw: bool = True) -> None:
        """Show the current pitch range: the view's range, the image's place, the grid, the
        note names. redraw=False: the caller clears and shows the image itself, right after."""
        self.plot.getViewBox().setRange(xRange=(-ROLL_S, 0.0), yRange=(self._view_low, self._view_high),
                                        padding=0)
        named = named_pitches(self._view_low, self._view_high, self._px_per_semitone)
        self.plot.getAxis("left").setTicks([[(p, midi_to_name(p)) for p in named]])
        self._rebuild_background()
        if redraw:
            self._clear_image()
            self._show_image()
        # Top-left at the view's, a pixel per pixel, rows downwards: the negative height undoes
        # the view's y-up flip.
        self.image.setRect(QRectF(-ROLL_S, self._view_high, self._width / self._px_per_s,
                                  -self._height / self._px_per_semitone))

    def _rebuild_background(self) -> None:
        """The grid: black-key rows, a line under every C, one a second."""
        grid = self._background
        grid.fill(_rgba_pixel(BACKGROUND))
        for pitch in range(math.ceil(self._view_low) - 1, math.floor(self._view_high) + 2):
            top = int(np.clip(round(self._pitch_to_row(pitch + 0.5)), 0, self._height))
            bottom = int(np.clip(round(self._pitch_to_row(pitch - 0.5)), 0, self._height))
            if pitch % 12 in _BLACK_KEYS:
                grid[top:bottom] = _rgba_pixel(BLACK_KEY_ROW)
            if pitch % 12 == 0 and 0 <= bottom < self._height:
                grid[bottom] = _rgba_pixel(GRID)
        for second in range(1, int(ROLL_S)):
            grid[:, round(second * self._px_per_s)] = _rgba_pixel(with_alpha(GRID, 110))

    def _clear_image(self) -> None:
        np.copyto(self._image_pixels, self._background)

    def _show_image(self) -> None:
        """Hand the image to pyqtgraph, which wraps it (no copy) and redraws it."""
        self.image.setImage(self._rgba, autoLevels=False)

    # ---------------------------------------------------------------- every frame

    def refresh(self, detector: Detector) -> None:
        """Draw the newest pitch frames from the detector's history (read without waiting for
        the worker); nothing when no frame is new."""
        history = detector.display.history
        if not self._rows or history.frames_written == self._frames_drawn:
            return
        self._frames_drawn = history.frames_written
        self._now_s = detector.time_s
        # Only the newest rows: the ring holds more than the roll shows, so the worker would
        # have to write that slack while we copy before a row we read could be overwritten.
        np.add(self._offsets, history.frames_written, out=self._row_index)
        np.remainder(self._row_index, history.capacity, out=self._row_index)
        np.take(history.time_s, self._row_index, out=self._time_s)
        np.take(history.midi, self._row_index, out=self._pitch)
        np.take(history.periodicity, self._row_index, out=self._periodicity)
        np.take(history.ensemble, self._row_index, out=self._ensemble)
        self._follow(float(np.fmin.reduce(self._pitch)), float(np.fmax.reduce(self._pitch)))
        self._clear_image()
        if self._placed is not None:
            self._fill_matched_notes()
            self._overlay.setPos(-self._now_s, 0.0)
        self._stamp_pitch()
        self._show_image()

    def _to_columns(self, time_s: np.ndarray, scratch: np.ndarray, out: np.ndarray) -> None:
        """out = image column (pixels from the left) of each stream time; scratch: floats as big."""
        np.subtract(time_s, self._now_s - ROLL_S, out=scratch)
        np.multiply(scratch, self._px_per_s, out=scratch)
        np.copyto(out, scratch, casting="unsafe")

    def _to_rows(self, pitch: np.ndarray, scratch: np.ndarray, out: np.ndarray) -> None:
        """out = image row (pixels from the top) of each finite MIDI pitch."""
        np.subtract(self._view_high, pitch, out=scratch)
        np.multiply(scratch, self._px_per_semitone, out=scratch)
        np.copyto(out, scratch, casting="unsafe")

    def _stamp_pitch(self) -> None:
        """Stamp each voiced frame in view as a dot of its confidence colour."""
        width, height = self._width, self._height
        np.isnan(self._pitch, out=self._test)
        np.copyto(self._pitch, _OUT_OF_VIEW_PITCH, where=self._test)  # unvoiced: NaN, which no int can hold
        self._to_columns(self._time_s, self._scratch, self._column)
        self._to_rows(self._pitch, self._scratch, self._line)
        self._ok.fill(True)
        for values, low, high in ((self._column, 0, width - DOT_WIDTH_PX), (self._line, 1, height - 2)):
            np.greater_equal(values, low, out=self._test)
            np.logical_and(self._ok, self._test, out=self._ok)
            np.less_equal(values, high, out=self._test)
            np.logical_and(self._ok, self._test, out=self._ok)
        np.multiply(self._line, width, out=self._pixel)
        np.add(self._pixel, self._column, out=self._pixel)
        np.logical_not(self._ok, out=self._test)
        np.copyto(self._pixel, self._spare, where=self._test)
        self._band.fill(0)
        for edge, ensemble_edge in zip(CONFIDENCE_EDGES, ENSEMBLE_CONFIDENCE_EDGES):
            self._edge.fill(edge)
            np.copyto(self._edge, ensemble_edge, where=self._ensemble)
            np.greater_equal(self._periodicity, self._edge, out=self._test)
            np.add(self._band, self._test, out=self._band)
        np.take(self._palette, self._band, out=self._colors)
        for offset in self._stamp_offsets:
            np.add(self._pixel, offset, out=self._stamp)
            np.put(self._pixels, self._stamp, self._colors)

    def _fill_matched_notes(self) -> None:
        """Fill the matched notes' boxes into the image, under the trace stamped next."""
        self._to_columns(self._matched_onset_s, self._matched_scratch, self._matched_box[0])
        self._to_columns(self._matched_end_s, self._matched_scratch, self._matched_box[1])
        self._to_rows(self._matched_high, self._matched_scratch, self._matched_box[2])
        self._to_rows(self._matched_low, self._matched_scratch, self._matched_box[3])
        np.clip(self._matched_box[:2], 0, self._width, out=self._matched_box[:2])
        np.clip(self._matched_box[2:], 0, self._height, out=self._matched_box[2:])
        for left, right, top, bottom in self._matched_box.T:
            self._image_pixels[top:bottom, left:right] = self._overlay_fill

    def _follow(self, low: float, high: float) -> None:
        """Move the view when the pitch leaves it (NaN when nothing was voiced: stay)."""
        if not (math.isfinite(low) and math.isfinite(high)):
            return
        if low >= self._view_low + 0.5 and high <= self._view_high - 0.5:
            return
        span = max(MIN_SPAN, high - low + 8.0)
        self._view_low = max(LOWEST_PITCH - 0.5, 0.5 * (low + high - span))
        self._view_high = min(HIGHEST_PITCH + 0.5, self._view_low + span)
        self._move_view(redraw=False)  # refresh clears and shows the image next

    # ---------------------------------------------------------------- detections

    @property
    def overlay_shown(self) -> bool:
        """True once a detected theme is drawn (until the source changes)."""
        return self._placed is not None

    @property
    def view_range(self) -> tuple[float, float]:
        """The pitches (MIDI) at the bottom and top of the plot area."""
        return self._view_low, self._view_high

    def show_detection(self, placed: PlacedNotes, color: QColor, label: str) -> None:
        """Draw a detected theme's notes from the next frame on: matched ones filled, the
        predicted rest outlined, the label above the theme ending over the last note matched
        (it stays in view longest), or at now if that note is still sounding."""
        self._placed = placed
        self._overlay_fill = _rgba_pixel(with_alpha(color, round(255 * _MATCHED_FILL_ALPHA)))
        matched = placed.matched
        self._matched_onset_s = placed.onset_s[matched]
        self._matched_end_s = placed.end_s[matched]
        self._matched_low = placed.pitch[matched] - 0.5
        self._matched_high = placed.pitch[matched] + 0.5
        self._matched_scratch = np.zeros(int(matched.sum()))
        self._matched_box = np.zeros((4, self._matched_scratch.size), dtype=np.int64)  # left right top bottom
        # Each box outlined as a closed path of 5 corners; a NaN row breaks the line between boxes.
        x = np.column_stack([placed.onset_s, placed.end_s, placed.end_s, placed.onset_s, placed.onset_s,
                             np.full(placed.onset_s.size, np.nan)])
        low, high = placed.pitch - 0.5, placed.pitch + 0.5
        y = np.column_stack([low, low, high, high, low, np.full(low.size, np.nan)])
        self._outlines.setData(x.ravel(), y.ravel(), pen=pg.mkPen(color, width=_OUTLINE_WIDTH_PX))
        last_matched = int(np.flatnonzero(matched)[-1]) if matched.any() else 0
        self.label.setColor(color)
        self.label.setText(label)
        # Not past now: the last note matched may still be sounding, and a label ending in the
        # future would be cut at the plot's right edge just when the theme is announced.
        self.label.setPos(min(float(placed.end_s[last_matched]), self._now_s), float(high.max()))
        self._overlay.setPos(-self._now_s, 0.0)
        self._overlay.setVisible(True)
        self._frames_drawn = -1
