"""The window: the widgets, the frame timer, and the wiring to a source.

Every frame (a QTimer, FRAME_RATE_HZ) the window pulls what is new from the running source:
the detections waiting in its queue (a log row, a lamp flash, the overlay), the pitch history,
the theme scores and the input level. It never calls into the worker and never waits for it.
A few times a second it also asks the source for its status (latency, overflows, ...).

Each detection also goes to the outputs the user chose (detector.outputs: JSON, a CSV cue
sheet, OSC, MIDI), and every frame the theme scores do (OSC sends them at its own rate).

"Learn theme…" learns a theme (detector.learn) from the last seconds the source played (its
`recent` ring) or from a part of an audio file, shows the notes heard to name and keep, writes
the MIDI template to the user's theme folder and loads it, so its lamp appears.

Errors a user can act on (a file that is not a theme, a device that cannot open) become one
line in the message bar above the roll, never a traceback, and never cost the other themes.
"""

from __future__ import annotations

import html
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QTextDocument
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QMainWindow, QScrollArea,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from detector.audio import AUDIO_SUFFIXES, read_excerpt
from detector.errors import RenamedTheme, ThemeDetectorError, reason
from detector.learn import learn_theme, template_path, write_midi
from detector.live import InputSettings
from detector.outputs import OutputOptions, Sink, open_outputs
from detector.themes import Theme, keep_names_apart, load_themes, numbered_from
from gui.controls import SourcePanel
from gui.detection_log import DetectionLog
from gui.lamps import ThemeLamps
from gui.learning import Confirm, LearnDialog, ask_to_keep, ask_to_replace
from gui.meters import CpuLoad, StatusLine, front_end
from gui.overlay import place_theme
from gui.palette import DIM_TEXT, ERROR, TEXT, dark_palette, theme_colors, unknown_colors
from gui.player import DEFAULT_BLOCK_SIZE, FilePlayer
from gui.roll import PitchRoll
from gui.sources import LiveSource, Source, SourceFactory
from gui.window_check import window_problem

#: Frames per second the display aims for (the timer's rate): smooth scrolling with a margin over
#: 30; each frame costs the worker a little (see benchmarks/gui.py). Keep it at most 60.
FRAME_RATE_HZ = 40
#: Seconds between status-line updates.
STATUS_INTERVAL_S = 0.25
#: How long (s) the display's thread may run Python while the worker waits for the GIL (Python's
#: default is 5 ms, two 128-frame blocks at 48 kHz). Qt's own drawing holds the GIL regardless.
GIL_SWITCH_INTERVAL_S = 0.0005
#: Messages the bar keeps on screen (the newest).
MESSAGES_SHOWN = 4


class MessageBar(QWidget):
    """Errors and warnings, one line each, newest last, until the user dismisses them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[str] = []   # plain text
        self._html: list[str] = []
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setToolTip("dismiss")
        dismiss.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self._label, 1)
        layout.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def show_error(self, text: str) -> None:
        self._add(text, ERROR.name())

    def show_note(self, text: str) -> None:
        self._add(text, TEXT.name())

    def _add(self, text: str, color: str) -> None:
        self._lines.append(text)
        self._html.append(f"<span style='color:{color}'>{html.escape(text)}</span>")
        shown = self._html[-MESSAGES_SHOWN:]
        earlier = len(self._html) - len(shown)
        if earlier:  # not dropped unseen: they are counted, and all are in the tooltip
            shown = [f"<span style='color:{DIM_TEXT.name()}'>{earlier} earlier message(s): hover to "
                     "read them all</span>", *shown]
        self._label.setText("<br>".join(shown))
        self._label.setToolTip("<br>".join(map(html.escape, self._lines)))
        self.setVisible(True)

    def shown(self) -> str:
        """What the bar shows now, as plain text, one message a line."""
        document = QTextDocument()
        document.setHtml(self._label.text())
        return document.toPlainText()

    def text(self) -> str:
        """Every message since the last dismissal, one a line."""
        return "\n".join(self._lines)

    def clear(self) -> None:
        self._lines.clear()
        self._html.clear()
        self._label.clear()
        self._label.setToolTip("")
        self.setVisible(False)


class MainWindow(QMainWindow):
    """The live display. `listen`, `play_file` or `start` a source; `load_theme_files` (or drop
    theme files on the window) to add themes; `learn_recent` or `learn_file` to learn one.

    outputs: where detections and scores go besides the window (open_outputs); the window
    closes them when it closes.
    """

    def __init__(self, themes: Sequence[Theme] = (), mode: str = "auto",
                 outputs: Sink = Sink()) -> None:
        super().__init__()
        self.mode = mode  # the melody front end of every source it starts (see Detector)
        self.outputs = outputs
        self.setWindowTitle("theme-detector")
        # The application's, not only the window's: a dialog is a window of its own, and takes
        # no palette from the window that opens it.
        QApplication.setPalette(dark_palette())
        self.setAcceptDrops(True)
        self.controls = SourcePanel()
        self.messages = MessageBar()
        self.roll = PitchRoll()
        self.lamps = ThemeLamps()
        self.log = DetectionLog()
        self.status_line = StatusLine()
        self._build_layout()
        self.controls.listen_requested.connect(self.listen)
        self.controls.file_requested.connect(self.play_file)
        self.controls.stop_requested.connect(self.stop)
        self.controls.themes_requested.connect(self.load_theme_files)
        self.controls.learn_requested.connect(self.ask_to_learn)
        self.log.error.connect(self.messages.show_error)
        self.source: Source | None = None
        self._factory: SourceFactory | None = None
        self._running = False
        self._error_shown = False
        self._outputs_failed = 0  # how many of outputs.failed the message bar has shown
        self._cpu = CpuLoad()
        self.frames = 0
        self._frames_at_status, self._status_at = 0, time.monotonic()
        self.themes: list[Theme] = []
        self.set_themes(themes)
        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / FRAME_RATE_HZ))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build_layout(self) -> None:
        self.lamp_area = lamps = QScrollArea()
        lamps.setWidget(self.lamps)
        lamps.setWidgetResizable(True)
        lamps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(lamps)
        below.addWidget(self.log)
        below.setSizes([500, 500])  # the log as wide as the lamps: its theme column needs room
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(self.roll)
        main.addWidget(below)
        main.setSizes([450, 300])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.controls)
        layout.addWidget(self.messages)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self.statusBar().addWidget(self.status_line, 1)
        self.resize(1280, 800)

    # ---------------------------------------------------------------- themes

    def set_themes(self, themes: Sequence[Theme]) -> None:
        """Listen for these themes from now on (a running source restarts with them)."""
        restart = self._running and self._factory is not None
        self.stop()  # the old source's last detections are logged against the old themes
        self.themes = list(themes)
        self._names = [theme.name for theme in self.themes]
        self._colors = theme_colors(self.themes)
        self._index = {theme.name: k for k, theme in enumerate(self.themes)}
        self.lamps.set_themes(self._names, self._colors)
        if restart:
            self.start(self._factory)

    def show_theme_problems(self, errors: Sequence[Exception], loaded: Sequence[Theme]) -> None:
        """In the message bar: the theme files that did not load, the loaded themes whose
        colour Qt does not know, and (as notes) those renamed since their name was taken."""
        for problem in errors:
            show = self.messages.show_note if isinstance(problem, RenamedTheme) else self.messages.show_error
            show(str(problem))
        for problem in unknown_colors(loaded):
            self.messages.show_error(problem)

    def load_theme_files(self, paths: Sequence[str | Path]) -> None:
        """Add the themes in these files; each file that is not a theme is reported and skipped.
        A theme from a file already loaded, under the same name, replaces its earlier version in
        its place (so an edited file can be reloaded, its lamp's colour and count kept); one
        whose name another file's theme has is numbered, as `load_themes` does."""
        found, errors = load_themes(list(paths))
        themes, fresh, replaced = list(self.themes), [], []
        for theme in found:
            earlier = next((k for k, loaded in enumerate(themes) if loaded.source == theme.source
                            and (loaded.name == theme.name or numbered_from(loaded.name, theme.name))), None)
            if earlier is None:
                fresh.append(theme)
            else:  # in its place, under the name it had: every lamp keeps its colour and count
                themes[earlier] = replace(theme, name=themes[earlier].name)
                replaced.append(themes[earlier].name)
        fresh, renamed = keep_names_apart(fresh, loaded=themes)
        self.show_theme_problems(errors + renamed, found)
        if found:
            self.set_themes(themes + fresh)
            names = sorted([*replaced, *(theme.name for theme in fresh)])
            note = f"loaded {len(found)} theme(s): {', '.join(names)}"
            if replaced:
                note += f" (replacing their earlier version: {', '.join(sorted(replaced))})"
            if self._running and self.source.file:
                note += f"; {Path(self.source.file).name} plays again from its start with them"
            self.messages.show_note(note)

    # ---------------------------------------------------------------- learning a theme

    def ask_to_learn(self) -> None:
        """The "Learn theme…" button: ask where from, learn, ask whether to keep it."""
        dialog = LearnDialog(self, can_use_recent=self.source is not None)
        if dialog.exec() != LearnDialog.DialogCode.Accepted:
            return
        request = dialog.request()
        if request.file:
            self.learn_file(request.file, request.start_s, request.end_s)
        else:
            self.learn_recent(request.seconds)

    def learn_recent(self, seconds: float, confirm: Confirm | None = None) -> Path | None:
        """Learn a theme from the last `seconds` the current source played."""
        if self.source is None:
            self.messages.show_error("nothing has played yet to learn a theme from")
            return None
        recent = self.source.recent
        return self.learn(recent.last(seconds), recent.sample_rate, "Learned theme", confirm)

    def learn_file(self, path: str | Path, start_s: float = 0.0, end_s: float | None = None,
                   confirm: Confirm | None = None) -> Path | None:
        """Learn a theme from an audio file between start_s and end_s (default: its end)."""
        try:
            audio, sample_rate = read_excerpt(path, start_s, end_s)
        except ThemeDetectorError as error:
            self.messages.show_error(str(error))
            return None
        return self.learn(audio, sample_rate, Path(path).stem, confirm)

    def learn(self, audio: np.ndarray, sample_rate: int, name: str, confirm: Confirm | None = None
              ) -> Path | None:
        """Learn a theme from audio; if `confirm` (default: ask_to_keep, a dialog) names it,
        write its MIDI template to the user's theme folder (asking first if one of that name is
        there) and load it. The file written, or None (and why in the message bar, unless the
        user dropped it)."""
        try:
            learned = learn_theme(audio, sample_rate, name, self.mode)
        except ThemeDetectorError as error:
            self.messages.show_error(str(error))
            return None
        kept_name = (confirm or (lambda theme: ask_to_keep(self, theme)))(learned)
        if kept_name is None:
            return None
        learned = replace(learned, theme=replace(learned.theme, name=kept_name))
        path = template_path(kept_name)
        if path.exists() and not ask_to_replace(self, path):
            self.messages.show_note(f"'{kept_name}' not saved: {path} is kept as it was; learn the "
                                    "theme again to save it under another name")
            return None
        try:
            write_midi(learned, path)
        except OSError as error:
            self.messages.show_error(f"{path}: cannot be written ({reason(error)})")
            return None
        self.load_theme_files([path])
        return path

    # ---------------------------------------------------------------- sources

    def start(self, factory: SourceFactory) -> bool:
        """Stop the current source and start the one `factory(themes)` makes; False (and the
        reason in the message bar) if it cannot be made."""
        self.stop()
        try:
            source = factory(self.themes)
            source.start()
        except ThemeDetectorError as error:
            self.messages.show_error(str(error))
            return False
        self.source, self._factory, self._error_shown = source, factory, False
        self.roll.attach(source.detector)
        self._running = True
        self.controls.set_running(True)
        return True

    def listen(self, settings: InputSettings = InputSettings()) -> bool:
        """Listen to an input device."""
        return self.start(lambda themes: LiveSource(themes, settings, self.mode))

    def play_file(self, path: str | Path, aloud: bool = False) -> bool:
        """Play an audio file through the detector in real time (and aloud if asked)."""
        block_size = self.controls.chosen_block_size() or DEFAULT_BLOCK_SIZE
        return self.start(lambda themes: FilePlayer.open(path, themes, block_size=block_size,
                                                         audible=aloud, mode=self.mode))

    @property
    def running(self) -> bool:
        """True from a source's start until it is stopped or has finished."""
        return self._running

    def stop(self) -> None:
        """Stop the source; the display keeps what it shows, and the log what was found."""
        if self.source is not None and self._running:
            self.source.stop()
            self._take_detections(self.source)
        self._running = False
        self.controls.set_running(False)

    # ---------------------------------------------------------------- every frame

    def refresh(self) -> None:
        """One frame: pull new detections and the latest state from the source, redraw."""
        source = self.source
        if source is None:
            return
        self._take_detections(source)
        display = source.detector.display
        self.roll.refresh(source.detector)
        self.lamps.refresh(display.theme_score, display.theme_progress)
        self.outputs.scores(self._names, display.theme_score, source.detector.time_s)
        for stopped in self.outputs.failed[self._outputs_failed:]:
            self.messages.show_error(stopped)
        self._outputs_failed = len(self.outputs.failed)
        self.controls.meter.refresh(display.level_db)
        self.frames += 1
        if time.monotonic() - self._status_at >= STATUS_INTERVAL_S:
            self._show_status(source)

    def _take_detections(self, source: Source) -> None:
        while not source.events.empty():  # only this thread takes from the queue
            detection = source.events.get_nowait()
            index = self._index[detection.theme]
            color = self._colors[index]
            self.log.add(detection, source.file, source.name, color)
            self.outputs.emit(detection, source.file)
            self.lamps.flash(index)
            # With more themes than the panel shows, a lamp lit out of sight is scrolled to.
            lamp_rect = self.lamps.lamp_rect(index)
            self.lamp_area.ensureVisible(int(lamp_rect.center().x()), int(lamp_rect.center().y()),
                                         0, int(lamp_rect.height()) // 2 + 4)
            label = f"{detection.theme}  {detection.transpose:+d} st  ×{detection.tempo:.2f}"
            self.roll.show_detection(place_theme(self.themes[index], detection), color, label)

    def _show_status(self, source: Source) -> None:
        now = time.monotonic()
        fps = (self.frames - self._frames_at_status) / (now - self._status_at)
        self._frames_at_status, self._status_at = self.frames, now
        status = source.status()
        detector = source.detector
        mode = front_end(detector.mode, detector.display.ensemble)
        self.status_line.show_status(source.name, detector.time_s, mode, status, self._cpu.sample(), fps)
        while not source.notices.empty():
            self.messages.show_note(source.notices.get_nowait())
        if status.error and not self._error_shown:
            self._error_shown = True
            self.messages.show_error(status.error)
        if status.finished and self._running:
            self.stop()

    # ---------------------------------------------------------------- drag and drop, closing

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Theme files (MIDI, note lists, MusicXML, ABC, libraries) are loaded; an audio file,
        of any format `scan` reads, is played."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        audio = [p for p in paths if Path(p).suffix.lower() in AUDIO_SUFFIXES]
        themes = [p for p in paths if p not in audio]
        if themes:
            self.load_theme_files(themes)
        if audio:
            self.play_file(audio[0], self.controls.aloud.isChecked())
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the source (its last detections still go out), then close the outputs."""
        self.timer.stop()
        self.stop()
        self.outputs.close()
        super().closeEvent(event)


def application() -> QApplication:
    """The Qt application, quitting on Ctrl-C; a clear error where there is no display.

    It also shortens the interpreter's GIL switch interval (GIL_SWITCH_INTERVAL_S): the display's
    Python should make the analysis worker wait a fraction of a block for the GIL, not 5 ms.
    """
    problem = window_problem()
    if problem:  # Qt would abort the process
        raise ThemeDetectorError(f"{problem}; use `scan` or `listen` in a terminal")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("theme-detector")
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    # Qt's loop runs no Python between events; the frame timer lets the handler run soon.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    return app


def run(theme_paths: Sequence[str], file: str | None = None, aloud: bool = True,
        mode: str = "auto", options: OutputOptions = OutputOptions()) -> int:
    """`theme-detector gui`: open the window with these themes and outputs; play `file` if
    given, otherwise listen to the default input. OutputError before any window opens if an
    output cannot be opened."""
    app = application()
    themes, errors = load_themes(list(theme_paths))
    window = MainWindow(themes, mode, open_outputs(options, [theme.name for theme in themes]))
    window.show_theme_problems(errors, themes)
    if not themes:  # the window still opens (a theme can be learned in it), but says so
        window.messages.show_error(f"no usable themes in {', '.join(map(str, theme_paths))}: "
                                   "nothing can be detected until some are loaded")
    window.show()
    if file:
        window.play_file(file, aloud)
    else:
        window.listen()
    return _exit_status(app, window)


def run_demo(aloud: bool = True, mode: str = "auto",
             options: OutputOptions = OutputOptions()) -> int:
    """`theme-detector demo` with a display: the demo performance played through the window
    (and its detections to the outputs)."""
    from detector.demo import builtin_themes, demo_performance

    app = application()
    sample_rate = 44100
    themes = builtin_themes()
    audio, occurrences = demo_performance(themes, sample_rate)
    window = MainWindow(themes, mode, open_outputs(options, [theme.name for theme in themes]))
    window.messages.show_note(f"The demo plays {len(occurrences)} of these themes, transposed and "
                              "at other tempi, among other music: watch the lamps.")
    window.show()
    window.start(lambda chosen: FilePlayer.from_array(audio, sample_rate, chosen, "demo performance",
                                                      audible=aloud, mode=mode))
    return _exit_status(app, window)


def _exit_status(app: QApplication, window: MainWindow) -> int:
    """Run the window until it closes: Qt's status, or 1 if an output stopped on the way (as
    scan and listen)."""
    return app.exec() or (1 if window.outputs.failed else 0)
