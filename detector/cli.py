"""The `theme-detector` command: argument parsing and wiring, nothing else."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import math
import signal
import sys
from pathlib import Path

from detector import runs
from detector.archive import default_jobs
from detector.demo import BUILTIN_THEMES
from detector.engine import MODES
from detector.errors import ThemeDetectorError
from detector.learn import user_theme_folder
from detector.outputs import OSC_DETECTED, OSC_SCORE, OutputOptions
from gui.window_check import display_named, window_problem

EXAMPLES = """\
examples:
  theme-detector demo                              hear the built-in demo (no microphone needed)
  theme-detector scan recording.wav                look for the built-in themes in a file
  theme-detector scan --themes my_themes/ --json *.wav > detections.jsonl
  theme-detector scan archive/ --out cues/         every audio file below, a cue sheet each
  theme-detector listen --osc 127.0.0.1:9000       send detections over OSC too
  theme-detector learn clip.wav --name "My theme"  learn a theme from a recording
  theme-detector devices                           list audio inputs
  theme-detector listen --device 2 --themes library.toml
  theme-detector gui recording.wav                 watch the live display while a file plays
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theme-detector", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Hear known musical themes in audio, in any key and at any tempo.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {importlib.metadata.version('theme-detector')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    themes_help = ("a theme file, folder or .toml library (MIDI .mid, note list .txt, MusicXML, "
                   "ABC); themes with chords (a note list's [C4 E4 G4]:2) are also matched on "
                   f"their harmony; repeat for more; default: the built-in themes in {BUILTIN_THEMES}")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--themes", action="append", metavar="PATH", help=themes_help)
    output.add_argument("--json", action="store_true",
                        help="print one JSON object per detection (file, theme, time_s, start_s, "
                             "end_s, score, transpose, tempo) instead of text")

    sinks = output_options_parser()
    file_sinks = output_options_parser(live=False)
    modes = argparse.ArgumentParser(add_help=False)
    modes.add_argument("--mode", choices=MODES, default="auto",
                       help="how to read the melody: 'melody' for a single line (voice, solo "
                       "instrument), 'ensemble' for a melody inside chords, bass or an orchestra, "
                       "'auto' to decide from the sound as it goes (default: auto)")
    scan = commands.add_parser("scan", parents=[output, file_sinks, modes], help="find themes in audio files",
                               description="Scan audio files with the same online algorithm as "
                               "`listen`, as fast as the machine allows; times are what a live "
                               "listener would have seen. Folders are searched for audio files, "
                               "recursively; files are spread over the machine's cores.")
    scan.add_argument("files", nargs="+", metavar="FILE|FOLDER",
                      help="audio files (WAV, FLAC, OGG, MP3, AIFF) or folders of them")
    scan.add_argument("--out", type=Path, metavar="DIR",
                      help="write a CSV cue sheet per file (DIR/<folder>/<path>.csv) and "
                      "DIR/summary.csv")
    scan.add_argument("--resume", action="store_true",
                      help="with --out: skip files whose cue sheet is already there; the "
                      "detections those sheets hold go to the other outputs again, so that they "
                      "cover the whole archive")
    scan.add_argument("--jobs", type=_positive_int, default=default_jobs(), metavar="N",
                      help="processes scanning at once (default: all cores, here %(default)s)")
    scan.add_argument("--dask", metavar="ADDRESS",
                      help="scan on a Dask cluster instead (scheduler address, e.g. "
                      "tcp://10.0.0.5:8786; its workers need theme-detector and the files)")

    listen = commands.add_parser("listen", parents=[output, sinks, modes],
                                 help="detect themes live from an input",
                                 description="Listen to an audio input and print each theme as "
                                 "it is heard. Ctrl-C stops.")
    listen.add_argument("--device", help="input device index, or part of its name or host API "
                        "(default: the system's default input; see `theme-detector devices`)")
    listen.add_argument("--samplerate", type=_sample_rate, metavar="8000-192000",
                        help="sample rate in Hz (default: the device's)")
    listen.add_argument("--blocksize", type=_block_size, default=0, metavar="0-16384",
                        help="frames per audio callback (default 0: PortAudio chooses; with JACK, "
                        "the server's period)")
    listen.add_argument("--latency", type=_latency, default="low", metavar="low|high|SECONDS",
                        help="input latency to ask PortAudio for (default: low)")
    listen.add_argument("--channels", type=_channel_list, metavar="N[,N...]",
                        help="1-based input channels to mix to mono (default: all)")
    listen.add_argument("--duration", type=_seconds, metavar="SECONDS",
                        help="stop after this long (default: run until Ctrl-C)")

    commands.add_parser("devices", help="list audio inputs",
                        description="List the audio inputs PortAudio finds (a sound card, a JACK "
                        "or PulseAudio server): the number or name to give `listen --device`, "
                        "the host API, input channels and default sample rate.")

    demo = commands.add_parser("demo", parents=[sinks, modes],
                               help="run the built-in demo (no microphone needed)",
                               description="Play a generated performance of several built-in "
                               "themes, transposed, at other tempi and among other music, through "
                               "the detector, and print what it finds and when.")
    demo.add_argument("--json", action="store_true", help="print detections as JSON lines")
    demo.add_argument("--save", type=Path, metavar="WAV", help="also write the performance to a file")
    demo.add_argument("--no-gui", action="store_true",
                      help="print to the terminal even when a display is available (the window "
                      "opens only on a display, from a terminal, without --json or --save)")

    gui = commands.add_parser("gui", parents=[sinks, modes], help="open the live display",
                              description="Open the live display: the pitch roll, a lamp per theme, "
                              "the detection log. With FILE, play it through the detector in real "
                              "time; otherwise listen to the default input.")
    gui.add_argument("--themes", action="append", metavar="PATH", help=themes_help)
    gui.add_argument("--mute", action="store_true", help="play FILE silently")
    gui.add_argument("file", nargs="?", metavar="FILE", help="an audio file to play (WAV, FLAC, OGG, MP3)")

    learn = commands.add_parser("learn", help="learn a theme from a recording",
                                description="Pitch-track a clip of the theme played or sung "
                                "alone, find its notes, print them as a note list to check, and "
                                "write them as a MIDI theme file.")
    learn.add_argument("clip", type=Path, metavar="CLIP", help="an audio file (WAV, FLAC, OGG, MP3)")
    learn.add_argument("--name", help="the theme's name (default: the clip's file name)")
    learn.add_argument("--start", type=_seconds, default=0.0, metavar="SECONDS",
                       help="where the theme starts in the clip (default: 0)")
    learn.add_argument("--end", type=_seconds, metavar="SECONDS",
                       help="where it ends (default: the end of the clip)")
    learn.add_argument("--out", type=Path, metavar="PATH",
                       help=f"a folder or a .mid file (default: {user_theme_folder()})")
    learn.add_argument("--force", action="store_true", help="replace an existing file")
    learn.add_argument("--dry-run", action="store_true", help="print the notes, write nothing")
    for command in commands.choices.values():  # a usage error names the command's own usage
        command.set_defaults(usage_error=command.error)
    return parser


def output_options_parser(live: bool = True) -> argparse.ArgumentParser:
    """The outputs a command can send detections to, any number at once (a parent parser);
    `live`: with --osc-score-rate, for commands that play audio as it comes (not `scan`)."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("outputs (any number at once; text goes to stdout unless "
                                      "--json or a '-' file takes it)")
    group.add_argument("--json-file", metavar="FILE", help="write JSON lines to FILE ('-': stdout)")
    group.add_argument("--csv", metavar="FILE", help="write a CSV cue sheet to FILE ('-': stdout)")
    group.add_argument("--osc", action="append", type=_host_port, default=[], metavar="HOST:PORT",
                       help=f"send OSC over UDP: {OSC_DETECTED} theme score transpose tempo "
                       "start_s end_s time_s")
    if live:
        group.add_argument("--osc-score-rate", type=_score_rate, default=0.0, metavar="HZ",
                           help=f"with --osc, also send every theme's running score ({OSC_SCORE} "
                           "theme score) this often in the audio's time (listen, demo, gui; "
                           "default: 0, never)")
    group.add_argument("--midi-out", action="append", default=[], metavar="PORT",
                       help="play a note per theme on a MIDI port (an existing port's name or "
                       "part of it; otherwise a new virtual port of that name)")
    group.add_argument("--midi-channel", type=_midi_channel, default=1, metavar="1-16",
                       help="MIDI channel of the notes (default: 1)")
    group.add_argument("--midi-note", type=_midi_note, default=60, metavar="0-127",
                       help="note of the first theme; the next theme is one higher (default: 60)")
    return parser


def output_options(args: argparse.Namespace) -> OutputOptions:
    """What output_options_parser (and --json, where the command has it) parsed."""
    return OutputOptions(json=getattr(args, "json", False), json_file=args.json_file,
                         csv_file=args.csv, osc=tuple(args.osc),
                         osc_score_rate_hz=getattr(args, "osc_score_rate", 0.0),
                         midi_out=tuple(args.midi_out),
                         midi_channel=args.midi_channel - 1, midi_note_base=args.midi_note)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT, like 127.0.0.1:9000")
    return host.strip("[]"), int(port)


def _number_in(convert, low: float, high: float, description: str):
    """An argparse type: the text `convert`ed (int or float) to a finite number from low to
    high, or an error saying it is not `description`."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"'{text}' is not {description}")
        return value
    return parse


def _ranged_int(low: int, high: int):
    return _number_in(int, low, high, f"a whole number from {low} to {high}")


_midi_channel = _ranged_int(1, 16)
_midi_note = _ranged_int(0, 127)
_positive_int = _ranged_int(1, 4096)
_sample_rate = _ranged_int(8000, 192000)
_block_size = _ranged_int(0, 16384)  # up to a third of a second at 48 kHz, well inside the ring
_seconds = _number_in(float, 0.0, math.inf, "a number of seconds (0 or more)")
#: --osc-score-rate's ceiling: a display's frame rate; more only burns a core.
MAX_SCORE_RATE_HZ = 60.0
_score_rate = _number_in(float, 0.0, MAX_SCORE_RATE_HZ,
                         f"a rate from 0 to {MAX_SCORE_RATE_HZ:g} Hz (scores are sent at most "
                         f"{MAX_SCORE_RATE_HZ:g} times a second)")


def _channel_list(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of channel numbers like 1,2") from None
    if not channels or min(channels) < 1:
        raise argparse.ArgumentTypeError("channel numbers start at 1")
    twice = sorted({channel for channel in channels if channels.count(channel) > 1})
    if twice:  # it would be mixed in twice, louder than the others
        raise argparse.ArgumentTypeError(f"channel {', '.join(map(str, twice))} given twice in '{text}'")
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
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said with the command's usage, not the top level's
        args.usage_error(f"unrecognized arguments: {' '.join(unknown)}")
    theme_paths = getattr(args, "themes", None) or [str(BUILTIN_THEMES)]
    if getattr(args, "osc_score_rate", 0.0) and not args.osc:
        args.usage_error("--osc-score-rate sends scores over OSC: give --osc HOST:PORT too")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_as_interrupted)
    try:
        if args.command == "scan":
            if args.resume and args.out is None:
                args.usage_error("--resume needs --out DIR (where the cue sheets are)")
            return runs.scan(theme_paths, args.files, output_options(args), out_dir=args.out,
                             resume=args.resume, jobs=args.jobs, dask_address=args.dask,
                             mode=args.mode)
        if args.command == "learn":
            return runs.learn(args.clip, args.name, args.start, args.end, args.out,
                              force=args.force, dry_run=args.dry_run)
        if args.command == "listen":
            return runs.listen(theme_paths, output_options(args), device=args.device,
                               sample_rate=args.samplerate, block_size=args.blocksize,
                               latency=args.latency, channels=args.channels,
                               duration_s=args.duration, mode=args.mode)
        if args.command == "devices":
            return runs.devices()
        if args.command == "gui":
            return _display().run(theme_paths, args.file, aloud=not args.mute, mode=args.mode,
                                  options=output_options(args))
        if _wants_display(args):
            problem = window_problem()
            if problem is None:
                return _display().run_demo(mode=args.mode, options=output_options(args))
            print(f"theme-detector: {problem}; the demo runs in the terminal", file=sys.stderr)
        return runs.demo(output_options(args), save=args.save, mode=args.mode)
    except ThemeDetectorError as error:
        print(f"theme-detector: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _stop_as_interrupted(signum: int, frame) -> None:
    """SIGTERM (a service manager's stop, `kill`) ends a command as Ctrl-C does: `listen`
    prints its summary, `scan` writes its own."""
    raise KeyboardInterrupt


def _wants_display(args: argparse.Namespace) -> bool:
    """`demo` opens the window when a person is watching: a display, a terminal, text output."""
    return (display_named() and sys.stdout.isatty() and not (args.json or args.save or args.no_gui)
            and importlib.util.find_spec("PySide6") is not None)


def _display():
    """The GUI package, imported only when wanted (Qt takes a while to load)."""
    try:
        from gui import app
    except ImportError as error:  # e.g. Qt's system libraries are missing
        raise ThemeDetectorError(f"the display cannot start ({error}); run scripts/bootstrap, "
                                 "which installs what Qt needs") from None
    return app


if __name__ == "__main__":
    sys.exit(main())
