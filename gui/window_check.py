"""Can a window open here? Asked before Qt starts, because Qt cannot be asked.

Where Qt's platform plugin fails to start (DISPLAY names an X server that is gone, as after an
`ssh -X` session ends; the X libraries it needs are missing), QGuiApplication does not raise:
it prints why and aborts the process. So the question goes to a throwaway child process that
starts a bare QGuiApplication, and its words come back as the reason. This module
imports no Qt itself: the command line asks it before deciding whether to load the display.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: What the child runs: a QGuiApplication starts its platform plugin, or aborts saying why.
_PROBE = "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"
PROBE_TIMEOUT_S = 30.0


def display_named() -> bool:
    """Whether the environment names an X11 or Wayland display to open a window on."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def window_problem() -> str | None:
    """Why no window can open here (None: one can). Only X11 and Wayland are asked about:
    elsewhere, or with QT_QPA_PLATFORM chosen by hand, Qt is left to decide."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if not display_named():
        return "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False,
                               timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"Qt did not start within {PROBE_TIMEOUT_S:g} s on this display"
    if probe.returncode == 0:
        return None
    return f"the display cannot be used ({_qt_reason(probe.stderr)})"


def _qt_reason(stderr: str) -> str:
    """Qt's first platform message (e.g. "could not connect to display :1"), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("qt.qpa."):
            return line.split(":", 1)[1].strip()
    return lines[-1] if lines else "Qt's platform plugin did not start"
