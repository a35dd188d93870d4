"""The `theme-detector` command: argument parsing and wiring, nothing else."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from pathlib import Path

from detector import runs
from detector.demo import BUILTIN_THEMES
from detector.errors import ThemeDetectorError

EXAMPLES = """\
examples:
  theme-detector demo                              hear the built-in demo (no microphone needed)
  theme-detector scan recording.wav                look for the built-in themes in a file
  theme-detector scan --themes my_themes/ --json *.wav > detections.jsonl
  theme-detector devices                           list audio inputs
  theme-detector listen --device 2 --themes library.toml
  theme-detector gui recording.wav                 watch the live display while a file plays
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theme-detector", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Hear known musical themes in audio, in any key and at any tempo.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    themes_help = ("a theme file, folder or .toml library (MIDI .mid, note list .txt); repeat "
                   f"for more; default: the built-in themes in {BUILTIN_THEMES}")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--themes", action="append", metavar="PATH", help=themes_help)
    output.add_argument("--json", action="store_true",
                        help="print one JSON object per detection (file, theme, time_s, start_s, "
                             "end_s, score, transpose, tempo) instead of text")

    scan = commands.add_parser("scan", parents=[output], help="find themes in audio files",
                               description="Scan audio files with the same online algorithm as "
                               "`listen`, as fast as the machine allows; times are what a live "
                               "listener would have seen.")
    scan.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3)")

    listen = commands.add_parser("listen", parents=[output], help="detect themes live from an input",
                                 description="Listen to an audio input and print each theme as "
                                 "it is heard. Ctrl-C stops.")
    listen.add_argument("--device", help="input device index or part of its name "
                        "(default: the system's default input; see `theme-detector devices`)")
    listen.add_argument("--samplerate", type=int, help="sample rate in Hz (default: the device's)")
    listen.add_argument("--blocksize", type=int, default=0,
                        help="frames per audio callback (default 0: PortAudio chooses; with JACK, "
                        "the server's period)")
    listen.add_argument("--latency", type=_latency, default="low", metavar="low|high|SECONDS",
                        help="input latency to ask PortAudio for (default: low)")
    listen.add_argument("--channels", type=_channel_list, metavar="N[,N...]",
                        help="1-based input channels to mix to mono (default: all)")
    listen.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop after this long (default: run until Ctrl-C)")

    commands.add_parser("devices", help="list audio inputs")

    demo = commands.add_parser("demo", help="run the built-in demo (no microphone needed)",
                               description="Play a generated performance of several built-in "
                               "themes, transposed, at other tempi and among other music, through "
                               "the detector, and print what it finds and when.")
    demo.add_argument("--json", action="store_true", help="print detections as JSON lines")
    demo.add_argument("--save", type=Path, metavar="WAV", help="also write the performance to a file")
    demo.add_argument("--no-gui", action="store_true",
                      help="print to the terminal even when a display is available (the window "
                      "opens only on a display, from a terminal, without --json or --save)")

    gui = commands.add_parser("gui", help="open the live display",
                              description="Open the live display: the pitch roll, a lamp per theme, "
                              "the detection log. With FILE, play it through the detector in real "
                              "time; otherwise listen to the default input.")
    gui.add_argument("--themes", action="append", metavar="PATH", help=themes_help)
    gui.add_argument("--mute", action="store_true", help="play FILE silently")
    gui.add_argument("file", nargs="?", metavar="FILE", help="an audio file to play (WAV, FLAC, OGG, MP3)")
    return parser


def _channel_list(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of channel numbers like 1,2") from None
    if not channels or min(channels) < 1:
        raise argparse.ArgumentTypeError("channel numbers start at 1")
    return channels


def _latency(text: str) -> str | float:
    if text in ("low", "high"):
        return text
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not low, high or a number of seconds") from None
    if not 0 < seconds < 10:
        raise argparse.ArgumentTypeError("latency is in seconds, between 0 and 10")
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    theme_paths = getattr(args, "themes", None) or [str(BUILTIN_THEMES)]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command == "scan":
            return runs.scan(theme_paths, args.files, as_json=args.json)
        if args.command == "listen":
            return runs.listen(theme_paths, as_json=args.json, device=args.device,
                               sample_rate=args.samplerate, block_size=args.blocksize,
                               latency=args.latency, channels=args.channels,
                               duration_s=args.duration)
        if args.command == "devices":
            return runs.devices()
        if args.command == "gui":
            return _display().run(theme_paths, args.file, aloud=not args.mute)
        if _wants_display(args):
            return _display().run_demo()
        return runs.demo(as_json=args.json, save=args.save)
    except ThemeDetectorError as error:
        print(f"theme-detector: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _wants_display(args: argparse.Namespace) -> bool:
    """`demo` opens the window when a person is watching: a display, a terminal, text output."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return (has_display and sys.stdout.isatty() and not (args.json or args.save or args.no_gui)
            and importlib.util.find_spec("PySide6") is not None)


def _display():
    """The GUI package, imported only when wanted (it needs the `gui` extra)."""
    try:
        from gui import app
    except ImportError as error:
        raise ThemeDetectorError(f"the display needs PySide6 and pyqtgraph ({error}); install them "
                                 "with: pip install 'theme-detector[gui]'") from None
    return app


if __name__ == "__main__":
    sys.exit(main())
