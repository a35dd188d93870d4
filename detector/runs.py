"""What each command does: scan files, listen live, list devices, run the demo.

The command line (cli.py) parses arguments and calls these; errors a user can act on are
raised as ThemeDetectorError and become one line on stderr there.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import soundfile
from tqdm import tqdm

from detector.audio import audio_file_info, input_devices, read_blocks
from detector.demo import builtin_themes, demo_performance
from detector.engine import Detector
from detector.errors import AudioInputError, ThemeError
from detector.events import Detection
from detector.themes import Theme, load_themes


def load_or_explain(paths: Sequence[str]) -> list[Theme]:
    """Load themes; report each bad file on stderr and go on; fail only if none load."""
    themes, errors = load_themes(list(paths))
    for error in errors:
        print(f"theme-detector: skipped: {error}", file=sys.stderr)
    if not themes:
        raise ThemeError(f"no usable themes in {', '.join(map(str, paths))}")
    print(f"theme-detector: {len(themes)} theme(s) loaded", file=sys.stderr)
    return themes


def report(detection: Detection, as_json: bool, file: str | None = None) -> None:
    """Print one detection on stdout, as a JSON line or as a line of text."""
    if as_json:
        print(detection.to_json(file), flush=True)
    else:
        prefix = f"{file}: " if file else ""
        print(prefix + detection.describe(), flush=True)


def scan_file(path: Path, themes: Sequence[Theme], progress: bool = True) -> list[Detection]:
    """Feed a file through a Detector as fast as possible; its times are stream times."""
    info = audio_file_info(path)
    detector = Detector(themes, info.sample_rate, warm_up=False)
    detections: list[Detection] = []
    with tqdm(total=round(info.duration_s, 1), unit="s", desc=path.name, leave=False,
              disable=not progress, file=sys.stderr) as bar:
        for block in read_blocks(path):
            detections += detector.process(block)
            bar.update(round(block.shape[0] / info.sample_rate, 3))
    if detector.sanitised_samples:
        print(f"theme-detector: {path}: {detector.sanitised_samples} invalid samples "
              "(NaN, Inf or absurd values) were replaced by silence", file=sys.stderr)
    return detections


def scan(theme_paths: Sequence[str], files: Sequence[str], as_json: bool) -> int:
    """`scan`: every file in turn; a file that cannot be read is reported and skipped."""
    themes = load_or_explain(theme_paths)
    failures = 0
    for name in files:
        try:
            detections = scan_file(Path(name), themes, progress=sys.stderr.isatty())
        except AudioInputError as error:
            print(f"theme-detector: skipped: {error}", file=sys.stderr)
            failures += 1
            continue
        for detection in detections:
            report(detection, as_json, name)
    return 1 if failures else 0


def listen(theme_paths: Sequence[str], as_json: bool, device: str | None, sample_rate: int | None,
           block_size: int, latency: str | float, channels: tuple[int, ...] | None,
           duration_s: float | None) -> int:
    """`listen`: print detections as they happen until Ctrl-C, `duration_s`, or the input goes.

    Detections go to stdout the moment they are announced; notices about the input (silence,
    clipping, overflows, ...) and a closing summary of the counts go to stderr. Returns 0, or 1
    when the input went away or the analysis failed, after printing every detection made.
    """
    from detector.live import InputSettings, Listener  # needs PortAudio

    themes = load_or_explain(theme_paths)
    settings = InputSettings(device=device, sample_rate=sample_rate, block_size=block_size,
                             latency=latency, channels=channels)
    listener = Listener(themes, settings)
    found = 0
    try:
        with listener:
            print(f"theme-detector: listening on {_describe_input(listener)} (Ctrl-C stops)",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + duration_s if duration_s else float("inf")
            while listener.active and time.monotonic() < deadline:
                found += _print_pending(listener, as_json, wait_s=0.1)
    except KeyboardInterrupt:
        pass
    found += _print_pending(listener, as_json, wait_s=0.0)
    stats = listener.stats
    print(f"theme-detector: stopped after {listener.detector.time_s:.1f} s of audio: "
          f"{found} detection(s); {stats.overflows} input overflow(s), {stats.dropped_frames} "
          f"frame(s) dropped, {stats.sanitised_samples} invalid sample(s) replaced by silence",
          file=sys.stderr)
    if stats.error:
        print(f"theme-detector: {stats.error}", file=sys.stderr)
        return 1
    return 0


def _describe_input(listener) -> str:
    """Device, host API, channels, rate and (when PortAudio knows it) the input latency."""
    latency_ms = 1000 * listener.input_latency_s
    return (f"{listener.device.name} [{listener.device.host_api}], channel(s) "
            f"{','.join(map(str, listener.channels))}, at {listener.sample_rate} Hz"
            + (f", input latency {latency_ms:.1f} ms" if latency_ms > 0 else ""))


def _print_pending(listener, as_json: bool, wait_s: float) -> int:
    """Print the waiting notices (stderr) and detections (stdout), waiting up to wait_s for a
    detection; return how many detections were printed."""
    for notice in _drain(listener.notices):
        print(f"theme-detector: {notice}", file=sys.stderr, flush=True)
    detections = _drain(listener.events, wait_s)
    for detection in detections:
        report(detection, as_json)
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
        print("no audio inputs found", file=sys.stderr)
        return 1
    for device in found:
        print(f"{device.index:3d}  {device.name}  [{device.host_api}]  "
              f"{device.channels} in, {device.default_rate_hz:.0f} Hz")
    return 0


def demo(as_json: bool, save: Path | None, sample_rate: int = 44100) -> int:
    """`demo`: render the built-in performance, say what is played, and detect it."""
    themes = builtin_themes()
    audio, occurrences = demo_performance(themes, sample_rate)
    if save:
        soundfile.write(save, audio, sample_rate)
    if not as_json:
        print(f"The demo performance ({len(audio) / sample_rate:.0f} s) plays, among other music:")
        for o in occurrences:
            print(f"  {o.start_s:6.2f}-{o.end_s:6.2f}s  {o.theme}, {o.transpose:+d} semitones, "
                  f"tempo x{o.tempo:.2f}, on {o.timbre}")
        print(f"Listening for {len(themes)} themes; detections as they would appear live:")
    detector = Detector(themes, sample_rate)
    block = 1024
    found = 0
    for start in range(0, len(audio), block):
        for detection in detector.process(audio[start:start + block]):
            report(detection, as_json)
            found += 1
    if not as_json:
        print(f"{found} detection(s) for {len(occurrences)} theme occurrence(s).")
    return 0
