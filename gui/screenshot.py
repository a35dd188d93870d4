"""The README's picture: the window during the built-in demo, just after a detection.

    python -m gui.screenshot [PNG] [--at SECONDS]

Runs on Qt's offscreen platform unless QT_QPA_PLATFORM says otherwise; the demo performance
plays at SPEED times real time, and at --at seconds (when the lamps of earlier detections have
gone dark, as a user would see them) the window is saved (default docs/gui.png).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

from detector.demo import builtin_themes, demo_performance
from gui.app import MainWindow, application
from gui.player import FilePlayer

SAMPLE_RATE = 44100
#: Seconds into the demo: Greensleeves (+2 semitones, x1.1) has just been detected.
DEFAULT_AT_S = 38.0
#: Fast enough to be quick, slow enough that a lamp lit 10 s of music earlier has faded.
SPEED = 3.0
DEFAULT_PNG = Path(__file__).resolve().parent.parent / "docs" / "gui.png"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("png", nargs="?", type=Path, default=DEFAULT_PNG,
                        help=f"where to save (default {DEFAULT_PNG})")
    parser.add_argument("--at", type=float, default=DEFAULT_AT_S,
                        help="seconds into the demo (default %(default)s)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = application()
    themes = builtin_themes()
    audio, _ = demo_performance(themes, SAMPLE_RATE)
    window = MainWindow(themes)
    window.show()
    window.start(lambda chosen: FilePlayer.from_array(audio, SAMPLE_RATE, chosen, "demo performance",
                                                      speed=SPEED))
    while window.running and window.source.detector.time_s < args.at:
        app.processEvents()
        time.sleep(0.005)
    window.refresh()
    app.processEvents()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(args.png))
    window.close()
    if not saved:
        raise SystemExit(f"could not write {args.png}")
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
