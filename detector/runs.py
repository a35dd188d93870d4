"""What each command does: scan files, listen live, list devices, run the demo, learn a theme.

The command line (cli.py) parses arguments and calls these; errors a user can act on are
raised as ThemeDetectorError and become one line on stderr there.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import soundfile

from detector.archive import find_audio_files, scan_archive
from detector.audio import input_devices, read_excerpt
from detector.demo import builtin_themes, demo_performance
from detector.engine import Detector
from detector.errors import OutputError, RenamedTheme, ThemeError, reason
from detector.learn import learn_theme, template_path, write_midi
from detector.outputs import OutputOptions, Outputs, open_outputs
from detector.themes import Theme, load_themes


def load_or_explain(paths: Sequence[str]) -> list[Theme]:
    """Load themes; report each bad file on stderr and go on; fail only if none load."""
    themes, errors = load_themes(list(paths))
    for error in errors:
        what = "note" if isinstance(error, RenamedTheme) else "skipped"
        print(f"theme-detector: {what}: {error}", file=sys.stderr)
    if not themes:
        raise ThemeError(f"no usable themes in {', '.join(map(str, paths))}")
    print(f"theme-detector: {len(themes)} theme(s) loaded", file=sys.stderr)
    return themes


#: What takes a Detector's construction past a moment: numba compiling the kernels, the first
#: time after an install or upgrade (its cache makes every later start quick).
COMPILING = ("compiling the analysis for this machine (the first run after an install or "
             "upgrade; up to a minute)...")


@contextmanager
def _said_if_slow(what: str, after_s: float = 2.0) -> Iterator[None]:
    """Say `what` on stderr if the block takes longer than after_s, so that a long silent
    wait is not taken for a hang."""
    timer = threading.Timer(after_s, lambda: print(f"theme-detector: {what}", file=sys.stderr,
                                                   flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def scan(theme_paths: Sequence[str], paths: Sequence[str], outputs: OutputOptions,
         out_dir: Path | None = None, resume: bool = False, jobs: int = 1,
         dask_address: str | None = None, mode: str = "auto") -> int:
    """`scan`: files and folders (walked for audio), on `jobs` processes or a Dask cluster; see
    archive.scan_archive. Returns 1 if a file could not be read or an output stopped, else 0."""
    themes = load_or_explain(theme_paths)
    items = find_audio_files(paths, cue_sheets=out_dir is not None)
    with open_outputs(outputs, [theme.name for theme in themes], [item.path for item in items]) as sinks:
        failures = scan_archive(items, themes, sinks, out_dir, resume, jobs, dask_address,
                                progress=sys.stderr.isatty(), mode=mode)
    return 1 if failures or sinks.failed else 0


def listen(theme_paths: Sequence[str], outputs: OutputOptions, device: str | None,
           sample_rate: int | None, block_size: int, latency: str | float,
           channels: tuple[int, ...] | None, duration_s: float | None, mode: str = "auto") -> int:
    """`listen`: print detections as they happen until Ctrl-C, `duration_s`, or the input goes.

    Detections go to stdout the moment they are announced; notices about the input (silence,
    clipping, overflows, ...) and a closing summary of the counts go to stderr. Returns 0, or 1
    when the input went away, the analysis failed or an output stopped, after printing every
    detection made.
    """
    from detector.live import InputSettings, Listener  # needs PortAudio

    themes = load_or_explain(theme_paths)
    settings = InputSettings(device=device, sample_rate=sample_rate, block_size=block_size,
                             latency=latency, channels=channels)
    with _said_if_slow(COMPILING):
        listener = Listener(themes, settings, mode)
    names = [theme.name for theme in themes]
    sinks = open_outputs(outputs, names)
    poll_s = min(0.1, 1 / outputs.osc_score_rate_hz) if outputs.osc_score_rate_hz else 0.1
    found = 0
    try:
        with listener:
            until = f"Ctrl-C stops, or {duration_s:g} s" if duration_s is not None else "Ctrl-C stops"
            print(f"theme-detector: listening on {_describe_input(listener)} ({until})",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + duration_s if duration_s is not None else float("inf")
            while listener.active and time.monotonic() < deadline:
                found += _deliver_pending(listener, sinks, names, wait_s=poll_s)
    except KeyboardInterrupt:
        pass
    found += _deliver_pending(listener, sinks, names, wait_s=0.0)
    sinks.close()
    stats = listener.stats
    print(f"theme-detector: stopped after {listener.detector.time_s:.1f} s of audio: "
          f"{found} detection(s); {stats.overflows} input overflow(s), {stats.dropped_frames} "
          f"frame(s) dropped, {stats.sanitised_samples} invalid sample(s) replaced by silence",
          file=sys.stderr)
    if stats.error:
        print(f"theme-detector: {stats.error}", file=sys.stderr)
        return 1
    return 1 if sinks.failed else 0


def _describe_input(listener) -> str:
    """Device, host API, channels, rate and (when PortAudio knows it) the input latency."""
    latency_ms = 1000 * listener.input_latency_s
    return (f"{listener.device.name} [{listener.device.host_api}], channel(s) "
            f"{','.join(map(str, listener.channels))}, at {listener.sample_rate} Hz"
            + (f", input latency {latency_ms:.1f} ms" if latency_ms > 0 else ""))


def _deliver_pending(listener, sinks: Outputs, names: list[str], wait_s: float) -> int:
    """Print the waiting notices (stderr), deliver the waiting detections and the themes' running
    scores to the outputs, waiting up to wait_s for a detection; return how many were delivered."""
    for notice in _drain(listener.notices):
        print(f"theme-detector: {notice}", file=sys.stderr, flush=True)
    detections = _drain(listener.events, wait_s)
    for detection in detections:
        sinks.emit(detection)
    detector = listener.detector
    sinks.scores(names, detector.display.theme_score, detector.time_s)
    return len(detections)


def _drain(waiting: queue.Queue, wait_s: float = 0.0) -> list:
    """What the queue holds, after waiting up to wait_s for the first item."""
    items = []
    try:
        items.append(waiting.get(timeout=wait_s) if wait_s else waiting.get_nowait())
        while True:
            items.append(waiting.get_nowait())
    except queue.Empty:
        return items


def devices() -> int:
    """`devices`: the inputs, with host API, channels and default rate."""
    found = input_devices()
    if not found:
        print("theme-detector: no audio inputs found (is a sound card, or a JACK or PulseAudio "
              "server, available?)", file=sys.stderr)
        return 1
    for device in found:
        print(f"{device.index:3d}  {device.name}  [{device.host_api}]  "
              f"{device.channels} in, {device.default_rate_hz:.0f} Hz")
    print("theme-detector: give `listen --device` an index, or part of a name or host API, from "
          "this list", file=sys.stderr)
    return 0


def demo(outputs: OutputOptions, save: Path | None, sample_rate: int = 44100,
         mode: str = "auto") -> int:
    """`demo`: render the built-in performance, say what is played, and detect it."""
    themes = builtin_themes()
    audio, occurrences = demo_performance(themes, sample_rate)
    if save:
        try:
            soundfile.write(save, audio, sample_rate)
        except (soundfile.LibsndfileError, TypeError, OSError) as error:  # TypeError: no format
            raise OutputError(f"{save}: cannot be written as audio ({error}); give a .wav or "
                              ".flac file in a folder that exists") from None
    if outputs.text:
        print(f"The demo performance ({len(audio) / sample_rate:.0f} s) plays, among other music:")
        for o in occurrences:
            print(f"  {o.start_s:6.2f}-{o.end_s:6.2f}s  {o.theme}, {o.transpose:+d} semitones, "
                  f"tempo x{o.tempo:.2f}, on {o.timbre}")
        print(f"Listening for {len(themes)} themes; detections as they would appear live:")
    with _said_if_slow(COMPILING):
        detector = Detector(themes, sample_rate, mode=mode)
    block = 1024
    found = 0
    names = [theme.name for theme in themes]
    with open_outputs(outputs, names) as sinks:
        for start in range(0, len(audio), block):
            for detection in detector.process(audio[start:start + block]):
                sinks.emit(detection)
                found += 1
            # --osc-score-rate: at its rate in the performance's time, as fast as it is analysed
            sinks.scores(names, detector.display.theme_score, detector.time_s)
    if outputs.text:
        print(f"{found} detection(s) for {len(occurrences)} theme occurrence(s).")
    return 1 if sinks.failed else 0


def learn(clip: Path, name: str | None, start_s: float, end_s: float | None, out: Path | None,
          force: bool = False, dry_run: bool = False) -> int:
    """`learn`: the clip's notes as a note list on stdout, and as a MIDI theme file (unless
    dry_run) in `out` or the user's theme folder. Where it would be written is checked first,
    so that a clash (ThemeError rather than replace a file) costs no analysis and prints no
    notes."""
    theme_name = name or clip.stem
    path = None if dry_run else template_path(theme_name, out)
    if path is not None and path.exists() and not force:
        raise ThemeError(f"{path}: already exists; choose another --name or --out, or --force "
                         "to replace it")
    audio, sample_rate = read_excerpt(clip, start_s, end_s)
    learned = learn_theme(audio, sample_rate, theme_name, source=str(clip))
    print(learned.note_list(), end="", flush=True)
    summary = f"theme-detector: heard {learned.summary()}"
    if path is None:
        print(summary, file=sys.stderr)
        return 0
    if path.stem != theme_name:
        why = (f"--out a folder keeps '{theme_name}'" if path == out
               else f"a file name cannot hold all of '{theme_name}'")
        print(f"theme-detector: the theme will load as '{path.stem}' (a MIDI theme takes its "
              f"file's name; {why})", file=sys.stderr)
    try:
        write_midi(learned, path)
    except OSError as error:
        raise ThemeError(f"{path}: cannot be written ({reason(error)})") from None
    # A .mid named by --out is given alone: its folder may hold anything.
    themes = path if path == out else path.parent
    print(f"{summary}; wrote {path}\n  listen for it with: theme-detector listen --themes "
          f"'{themes}'", file=sys.stderr)
    return 0
