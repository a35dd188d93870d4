"""The controls: input device, sample rate and block size pickers, Listen / Stop, opening an
audio file (optionally played aloud), loading themes, learning one, and the input level meter.

The panel only asks: it emits a signal with what the user chose, and the window acts on it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from detector.audio import AUDIO_SUFFIXES, input_devices, reread_devices
from detector.errors import AudioInputError
from detector.live import InputSettings
from detector.themes import THEME_SUFFIXES
from gui.meters import LevelMeter

SAMPLE_RATES_HZ = (22050, 44100, 48000, 88200, 96000)
BLOCK_SIZES = (64, 128, 256, 512, 1024, 2048)
# The file dialogs offer what `scan` and --themes take.
_THEME_FILTER = "Themes (" + " ".join(f"*{s}" for s in THEME_SUFFIXES) + ");;All files (*)"
AUDIO_FILTER = "Audio (" + " ".join(f"*{s}" for s in AUDIO_SUFFIXES) + ");;All files (*)"


class DevicePicker(QComboBox):
    """The input devices, read again when the list is opened and before listening (a JACK
    server started after the window shows up then), while nothing plays: re-reading ends every
    stream (`reread_devices`). The choice is kept by name."""

    def __init__(self) -> None:
        super().__init__()
        self.playing = False  # a source is running (the window says so): no re-reading then
        # A long device name ("USB Audio CODEC: Audio (hw:2,0)") must not widen the window:
        # the box shows 24 characters, the list opened from it each name whole.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(24)
        self._fill()

    def refresh(self) -> None:
        """Read the devices again if nothing plays and PortAudio may (`reread_devices`)."""
        if not self.playing and reread_devices():
            chosen = self.currentText().split(": ", 1)[-1]
            self.clear()
            self._fill()
            self.setCurrentIndex(max(0, self.findText(chosen, Qt.MatchFlag.MatchEndsWith)))

    def showPopup(self) -> None:
        self.refresh()
        super().showPopup()

    def _fill(self) -> None:
        self.setToolTip("audio input (see `theme-detector devices`)")
        self.addItem("default input", None)
        try:
            devices = input_devices()
        except AudioInputError as error:
            self.setToolTip(str(error))
            return
        for device in devices:
            self.addItem(f"{device.index}: {device.name} ({device.channels} in)", device.index)


class SourcePanel(QWidget):
    """What to listen to, and the input level."""

    listen_requested = Signal(object)       # InputSettings
    file_requested = Signal(str, bool)      # path, play aloud
    stop_requested = Signal()
    themes_requested = Signal(list)         # paths of theme files
    learn_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = DevicePicker()
        self.sample_rate = QComboBox()
        self.sample_rate.addItem("device rate", None)
        for rate in SAMPLE_RATES_HZ:
            self.sample_rate.addItem(f"{rate} Hz", rate)
        self.sample_rate.setToolTip("sample rate")
        self.block_size = QComboBox()
        self.block_size.addItem("auto block", 0)
        for size in BLOCK_SIZES:
            self.block_size.addItem(f"{size} frames", size)
        self.block_size.setToolTip("frames per audio block (also for files)")
        self.listen = QPushButton("Listen")
        self.stop = QPushButton("Stop")
        self.stop.setEnabled(False)
        open_file = QPushButton("Open audio file…")
        self.aloud = QCheckBox("play aloud")
        self.aloud.setChecked(True)
        load_themes = QPushButton("Load themes…")
        learn = QPushButton("Learn theme…")
        learn.setToolTip("learn a theme from what was just played, or from an audio file")
        self.meter = LevelMeter()
        self.listen.clicked.connect(self._listen_clicked)
        self.stop.clicked.connect(self.stop_requested.emit)
        open_file.clicked.connect(self._choose_audio_file)
        load_themes.clicked.connect(self._choose_theme_files)
        learn.clicked.connect(self.learn_requested.emit)
        # Two rows, live input above, files and themes below: in one row the controls alone
        # kept the window over 1,100 pixels wide.
        live, files = QHBoxLayout(), QHBoxLayout()
        for widget in (QLabel("Input"), self.device, self.sample_rate, self.block_size, self.listen,
                       self.stop, QLabel("Level"), self.meter):
            live.addWidget(widget)
        live.setStretch(live.indexOf(self.meter), 1)
        for widget in (open_file, self.aloud, load_themes, learn):
            files.addWidget(widget)
        files.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(live)
        layout.addLayout(files)

    def _listen_clicked(self) -> None:
        self.device.refresh()
        self.listen_requested.emit(self.input_settings())

    def input_settings(self) -> InputSettings:
        return InputSettings(device=self.device.currentData(), sample_rate=self.sample_rate.currentData(),
                             block_size=self.block_size.currentData())

    def chosen_block_size(self) -> int:
        """Frames per block, 0 when left to the machine."""
        return int(self.block_size.currentData())

    def set_running(self, running: bool) -> None:
        self.listen.setEnabled(not running)
        self.stop.setEnabled(running)
        self.device.playing = running

    def _choose_audio_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Play an audio file through the detector", "",
                                              AUDIO_FILTER)
        if path:
            self.file_requested.emit(path, self.aloud.isChecked())

    def _choose_theme_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Load themes", "", _THEME_FILTER)
        if paths:
            self.themes_requested.emit(paths)
