"""The detection log: one row per detection (time, theme, transpose, tempo, score, source),
newest at the bottom, exportable as a CSV cue sheet (detector.events.write_cue_sheet)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QHeaderView, QPushButton, QTableView,
                               QVBoxLayout, QWidget)

from detector.errors import reason
from detector.events import Detection, write_cue_sheet

_Index = QModelIndex | QPersistentModelIndex


#: The source column's width at first (pixels): "demo performance", a file name's start.
SOURCE_COLUMN_PX = 100


class DetectionTable(QAbstractTableModel):
    """The rows of the log: a detection, the file it was found in (None for live input), the
    source's name and the theme's colour."""

    HEADERS = ("time (s)", "theme", "transpose", "tempo", "score", "source")
    _NUMERIC = (0, 2, 3, 4)
    #: The text columns: elided to the room they have, whole in their tooltip.
    THEME_COLUMN, SOURCE_COLUMN = 1, 5

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[Detection, str | None, str, QColor]] = []

    def add(self, detection: Detection, file: str | None, source: str, color: QColor) -> None:
        end = len(self._rows)
        self.beginInsertRows(QModelIndex(), end, end)
        self._rows.append((detection, file, source, color))
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def entries(self) -> list[tuple[Detection, str | None]]:
        """(detection, file) per row, oldest first: what the cue sheet holds."""
        return [(detection, file) for detection, file, _, _ in self._rows]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        detection, file, source, color = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"{detection.time_s:.2f}", detection.theme, f"{detection.transpose:+d}",
                    f"×{detection.tempo:.2f}", f"{detection.score:.2f}",
                    source)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == self.THEME_COLUMN:
            return detection.theme
        if role == Qt.ItemDataRole.ToolTipRole and column == self.SOURCE_COLUMN:
            return file or source  # a file's whole path
        if role == Qt.ItemDataRole.DecorationRole and column == self.THEME_COLUMN:
            return color
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class DetectionLog(QWidget):
    """The log table with 'Export cue sheet…' and 'Clear' buttons. Emits `error` with one
    line when the cue sheet cannot be written."""

    error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = DetectionTable()
        self._view = QTableView()
        self._view.setModel(self.table)
        self._view.verticalHeader().hide()
        self._view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self._view.horizontalHeader()
        # Numbers as wide as they need, the source as wide as the user drags it, the theme the
        # rest: each on one line, elided where it does not fit (its tooltip holds it whole).
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DetectionTable.THEME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(DetectionTable.SOURCE_COLUMN, QHeaderView.ResizeMode.Interactive)
        self._view.setColumnWidth(DetectionTable.SOURCE_COLUMN, SOURCE_COLUMN_PX)
        self._view.setWordWrap(False)
        self._view.setTextElideMode(Qt.TextElideMode.ElideRight)
        export = QPushButton("Export cue sheet (CSV)…")
        export.clicked.connect(self._choose_export_file)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.table.clear)
        buttons = QHBoxLayout()
        buttons.addWidget(export)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)
        layout.addLayout(buttons)

    def add(self, detection: Detection, file: str | None, source: str, color: QColor) -> None:
        self.table.add(detection, file, source, color)
        self._view.scrollToBottom()

    def export(self, path: str | Path) -> None:
        """Write the cue sheet; OSError if the file cannot be written."""
        with open(path, "w", newline="", encoding="utf-8") as stream:
            write_cue_sheet(self.table.entries(), stream)

    def _choose_export_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export cue sheet", "cue_sheet.csv",
                                              "CSV files (*.csv)")
        if not path:
            return
        try:
            self.export(path)
        except OSError as error:
            self.error.emit(f"cannot write the cue sheet {path}: {reason(error)}")
