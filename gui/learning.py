"""The dialogs of "Learn theme…": where to learn from, the notes heard, to name and keep, and
whether to replace a theme saved under that name before.

They only ask; the window learns (detector.learn) and keeps the theme. `ask_to_keep` is the
window's default confirmation, which tests replace with their own; `ask_to_replace` they answer
by clicking it, as a user would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QPushButton, QRadioButton, QVBoxLayout, QWidget)

from detector.learn import LearnedTheme
from detector.recent import RECENT_S
from gui.controls import AUDIO_FILTER

#: How a learned theme is confirmed: its name as the user wants it kept, or None to drop it.
Confirm = Callable[[LearnedTheme], str | None]


@dataclass(frozen=True)
class LearnRequest:
    """Learn from the last `seconds` of the source, or from `file` between start_s and end_s."""

    seconds: float = 10.0
    file: str = ""
    start_s: float = 0.0
    end_s: float | None = None


class LearnDialog(QDialog):
    """Where to learn a theme from: the last seconds played, or a part of an audio file."""

    def __init__(self, parent: QWidget | None = None, can_use_recent: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Learn a theme")
        self.recent = QRadioButton("the last")
        self.recent.setEnabled(can_use_recent)
        self.seconds = _seconds_box(10.0, 1.0, RECENT_S)
        self.from_file = QRadioButton("a file")
        (self.recent if can_use_recent else self.from_file).setChecked(True)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.start = _seconds_box(0.0, 0.0, 36000.0)
        self.end = _seconds_box(0.0, 0.0, 36000.0)
        self.end.setSpecialValueText("its end")  # 0 shows as "its end"
        recent_row, file_row = QHBoxLayout(), QHBoxLayout()
        for widget in (self.recent, self.seconds, QLabel("seconds played")):
            recent_row.addWidget(widget)
        for widget in (self.from_file, self.path, browse):
            file_row.addWidget(widget)
        form = QFormLayout()
        form.addRow("from", self.start)
        form.addRow("to", self.end)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Learn the theme played alone in:"))
        layout.addLayout(recent_row)
        layout.addLayout(file_row)
        layout.addLayout(form)
        layout.addWidget(buttons)
        # Each choice's settings are editable only while it is chosen.
        self.recent.toggled.connect(self._enable_chosen)
        self._enable_chosen()

    def _enable_chosen(self) -> None:
        from_file = self.from_file.isChecked()
        self.seconds.setEnabled(not from_file)
        for widget in (self.path, self.start, self.end):
            widget.setEnabled(from_file)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Learn a theme from an audio file", "",
                                              AUDIO_FILTER)
        if path:
            self.path.setText(path)
            self.from_file.setChecked(True)

    def request(self) -> LearnRequest:
        """What the user chose."""
        if self.recent.isChecked():
            return LearnRequest(seconds=self.seconds.value())
        return LearnRequest(file=self.path.text(), start_s=self.start.value(),
                            end_s=self.end.value() or None)


def ask_to_keep(parent: QWidget | None, learned: LearnedTheme) -> str | None:
    """Show the notes heard as a note list with the name editable: the name to keep the theme
    under, or None if the user drops it."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keep this theme?")
    name = QLineEdit(learned.theme.name)
    notes = QPlainTextEdit(learned.note_list())
    notes.setReadOnly(True)
    notes.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    summary = QLabel(learned.summary())
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form = QFormLayout()
    form.addRow("Name", name)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(summary)
    layout.addWidget(notes, 1)
    layout.addWidget(buttons)
    dialog.resize(560, 260)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return name.text().strip() or learned.theme.name


def ask_to_replace(parent: QWidget | None, path: Path) -> bool:
    """Whether the theme file already at `path` may be replaced by the one just learned (as
    `learn --force`); No, the default, keeps it."""
    answer = QMessageBox.question(
        parent, "Replace theme?", f"A theme is already saved as {path}.\nReplace it with the one "
        "just learned?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _seconds_box(value: float, low: float, high: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(1)
    box.setSuffix(" s")
    box.setValue(value)
    return box
