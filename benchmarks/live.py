"""The live path, measured through a real PortAudio stream on JACK's dummy server.

    python -m benchmarks.live [--quick] [--minutes M] [--out benchmarks/results]

Starts its own `jackd -R -d dummy -r 48000 -p 128` (128-frame blocks at 48 kHz, a 2.67 ms block
period; with real-time scheduling where the system grants it, as a musician's JACK runs;
--no-realtime leaves it out) and measures:

- Callback: the minimal Python callback (copy into a preallocated Python ring buffer, count;
  timed with time.perf_counter_ns inside it, into preallocated arrays) against rtmixer's C
  callback (what detector.live uses), each for a while with no other load and with a busy Python
  thread (pure-Python work that holds the GIL, as a GUI's Python code does). Both feed a worker
  that runs a Detector with the built-in themes. Python: the callback's own duration (p50, p99)
  and its start delay, from the moment PortAudio's JACK callback began (`time_info.currentTime`)
  to the Python code running (`stream.time` on entry), which is the wait for the GIL. Both: the
  share of the audio that arrived (blocks received / blocks the wall time held), the overflows
  PortAudio flagged, and PortAudio's own estimate of the callback's share of each period
  (`cpu_load`; times the period, the mean callback duration: the only view into the C one).
- First block: a fresh process builds a Detector for 1,000 themes (warm numba cache) and times
  its first 128-frame blocks against the steady state; once as detector.live does it (kernels
  compiled or loaded before the first block) and once without that warm-up, the stall it avoids.
- Start-up: from spawning `theme-detector listen` to its "listening on" line (warm cache).
- Live run: detector.live.Listener with 1,000 random melody-like themes at 128-frame blocks, for
  30 s (--quick) or 10 minutes, beside a GUI-like load (a thread doing Python work for 4 ms of
  every 16.7 ms frame, as a 60 Hz display might). A second process plays one of the themes every
  few seconds (transposed, 0.9-1.1x tempo) into the listener's port. Measured: overflows and
  xruns by cause, frames dropped by the ring buffer, the worker's lag (audio recorded but not
  yet analysed, sampled every 10 ms), the worker thread's CPU share, the share of the audio
  that arrived, and end-to-end latency: from the callback that delivered the last sample the
  detector had consumed when it announced (Detection.time_s * rate) to the event being taken
  from the queue. The C callback cannot be stamped, so that is counted in blocks: those the
  ring buffer received from that one to the newest, a period apart, give it to within half a
  period (it reads short if the server lost cycles in between, which the xrun count shows).

Every input overflow PortAudio flags on JACK is an xrun the server told all its clients about;
the server's log says whose: its own late wake-up, this process's client (the callback) late,
or another client (the player) late. On a virtual machine the hypervisor can stop every thread,
real-time or not, for milliseconds: "CPU stolen" (/proc/stat) shows how much it did.

Writes live.json to --out and prints tables. Figures depend on the machine and on what else runs
on it; the JSON keeps the machine facts.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from benchmarks.jack import JackServer, Player, jack_installed
from benchmarks.melodies import random_themes
from benchmarks.report import RESULTS_DIR, table, write_json
from detector.demo import builtin_themes, perform
from detector.synth import render_notes

SAMPLE_RATE = 48000
BLOCK = 128
BLOCK_S = BLOCK / SAMPLE_RATE
N_THEMES = 1_000
#: Seconds each callback case runs, quick and full.
CALLBACK_S = (10.0, 60.0)
LIVE_S_QUICK = 30.0
#: The GUI-like load: Python work for this long in every 60 Hz frame.
GUI_WORK_S = 0.004
GUI_FRAME_S = 1 / 60
#: Every this many seconds of the live run, the player starts another theme.
PLAY_EVERY_S = 6.0
STARTUP_RUNS = 3
#: Blocks counted as "the first ones": 2.7 s, the first notes of the theme included.
FIRST_BLOCKS = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (30 s live run)")
    parser.add_argument("--minutes", type=float, default=10.0, help="live run length (default 10)")
    parser.add_argument("--no-realtime", action="store_true",
                        help="run jackd without real-time scheduling (default: ask for it)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not jack_installed():
        print("benchmarks.live: needs jackd (Debian jackd2; scripts/bootstrap --dev)", file=sys.stderr)
        return 1
    live_s = LIVE_S_QUICK if args.quick else 60 * args.minutes
    callback_s = CALLBACK_S[0] if args.quick else CALLBACK_S[1]
    results: dict[str, Any] = {"sample_rate": SAMPLE_RATE, "block_frames": BLOCK,
                               "first_block": first_block_costs()}
    server = JackServer(SAMPLE_RATE, BLOCK, realtime=not args.no_realtime).start()
    results["jack_realtime"] = server.realtime_granted
    # Stopped at exit, after PortAudio has let go of it: atexit runs the handler that
    # sounddevice registers when first imported (below) before this one.
    atexit.register(server.close)
    # PortAudio looks for the JACK server when sounddevice is first imported.
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    results["startup_s"] = startup_times(server)
    results["callback"] = compare_callbacks(server, callback_s)
    results["live_run"] = live_run(server, live_s)
    print(report(results))
    path = write_json(args.out, "live.json", results)
    print(f"\nwrote {path}")
    return 0


# --- the callbacks -------------------------------------------------------------------------


class PythonRingBuffer:
    """A preallocated single-writer, single-reader ring buffer in Python: the callback writes
    (slice copies, no allocation), the worker reads; each side moves only its own counter."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros((capacity, 1), dtype=np.float32)
        self.capacity = capacity
        self.written = 0
        self.read = 0
        self.dropped_frames = 0

    def write(self, frames: np.ndarray) -> None:
        """Real-time path: copy in, or drop and count when the reader is a buffer behind."""
        n = frames.shape[0]
        if n > self.capacity - (self.written - self.read):
            self.dropped_frames += n
            return
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start:start + first] = frames[:first]
        self._data[:n - first] = frames[first:]
        self.written += n

    def read_into(self, out: np.ndarray) -> int:
        n = min(out.shape[0], self.written - self.read)
        start = self.read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start:start + first]
        out[first:n] = self._data[:n - first]
        self.read += n
        return n


class PythonCallbackInput:
    """The alternative to rtmixer: a sounddevice InputStream with a minimal Python callback,
    timed, and a worker thread running a Detector over what it records."""

    def __init__(self, device: int, themes, max_callbacks: int) -> None:
        import sounddevice as sd

        from detector.engine import Detector

        self.detector = Detector(themes, SAMPLE_RATE)
        self.ring = PythonRingBuffer(4 * SAMPLE_RATE)
        self.callbacks = 0
        self.overflows = 0
        self.work_ns = np.zeros(max_callbacks, dtype=np.int64)
        self.start_delay_s = np.zeros(max_callbacks)
        self._chunk = np.zeros((1024, 1), dtype=np.float32)
        self._running = threading.Event()
        self._worker = threading.Thread(target=self._analyse, daemon=True)
        self.stream = sd.InputStream(device=device, samplerate=SAMPLE_RATE, channels=1,
                                     dtype="float32", blocksize=0, latency="low",
                                     callback=self._callback)

    @property
    def stats(self):
        """The counters, as detector.live.Listener.stats has them."""
        from detector.live import StreamStats

        return StreamStats(callbacks=self.callbacks, overflows=self.overflows,
                           dropped_frames=self.ring.dropped_frames,
                           callback_load=float(self.stream.cpu_load))

    def _callback(self, indata, frames, time_info, status) -> None:
        """Copy and count, plus this benchmark's two stamps. No allocation, lock or print."""
        start_delay_s = self.stream.time - time_info.currentTime
        entered_ns = time.perf_counter_ns()
        if status.input_overflow:
            self.overflows += 1
        self.ring.write(indata)
        k = self.callbacks
        if k < self.work_ns.shape[0]:
            self.start_delay_s[k] = start_delay_s
            self.work_ns[k] = time.perf_counter_ns() - entered_ns
        self.callbacks = k + 1

    def _analyse(self) -> None:
        while self._running.is_set():
            n = self.ring.read_into(self._chunk)
            if n:
                self.detector.process(self._chunk[:n])
            else:
                time.sleep(0.002)

    def __enter__(self) -> "PythonCallbackInput":
        self._running.set()
        self._worker.start()
        self.stream.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stream.stop()
        self.stream.close()
        self._running.clear()
        self._worker.join()


class GilPressure:
    """A Python thread that holds the GIL doing pure-Python work for work_s of every frame_s
    (work_s >= frame_s: all the time)."""

    def __init__(self, work_s: float, frame_s: float) -> None:
        self.work_s, self.frame_s = work_s, frame_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_frame = time.perf_counter()
        while not self._stop.is_set():
            busy_until = time.perf_counter() + self.work_s
            x = 0
            while time.perf_counter() < busy_until:
                for i in range(200):
                    x += i * i
            next_frame += self.frame_s
            pause_s = next_frame - time.perf_counter()
            if pause_s > 0:
                time.sleep(pause_s)
            else:
                next_frame = time.perf_counter()

    def __enter__(self) -> "GilPressure":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def compare_callbacks(server: JackServer, seconds: float) -> list[dict[str, Any]]:
    """Each callback kind, with no load and under a busy Python thread."""
    from detector.live import InputSettings, Listener

    device, themes = _jack_device(), builtin_themes()
    rows = []
    for pressure in ("none", "busy Python thread"):
        ports = set(server.ports())
        python = PythonCallbackInput(device, themes, int(2 * seconds / BLOCK_S))
        client = _new_client(server, ports)
        rows.append({"callback": "Python callback", "gil_pressure": pressure,
                     **_measure_callback(python, pressure, seconds, server, client)})
        rtmixer = Listener(themes, InputSettings(device=device, channels=(1,)))
        rows.append({"callback": "rtmixer (C)", "gil_pressure": pressure,
                     **_measure_callback(rtmixer, pressure, seconds, server, client)})
    return rows


def _measure_callback(source, pressure: str, seconds: float, server: JackServer,
                      client: str) -> dict[str, Any]:
    """Run a source (anything with `stats` like detector.live.Listener's) under the pressure;
    `client` is this process's JACK client."""
    loads: list[float] = []
    xruns_before = server.xruns()
    with source, _pressure(pressure):
        before, stolen_before_s = source.stats, _stolen_cpu_s()
        wall_s = _sample_for(seconds, lambda: loads.append(source.stats.callback_load), every_s=0.1)
        after, stolen_s = source.stats, _stolen_cpu_s() - stolen_before_s
    row = {"seconds": wall_s, "cpu_stolen": stolen_s / (wall_s * os.cpu_count()),
           "audio_received": (after.callbacks - before.callbacks) * BLOCK_S / wall_s,
           "overflows": after.overflows - before.overflows,
           **_xrun_causes(server.xruns() - xruns_before, client),
           "cpu_load_mean": float(np.mean(loads)),
           "mean_callback_us": float(np.mean(loads)) * BLOCK_S * 1e6}
    if isinstance(source, PythonCallbackInput):
        timed = slice(before.callbacks, min(after.callbacks, source.work_ns.shape[0]))
        row |= _percentiles("work_us", source.work_ns[timed] / 1e3)
        row |= _percentiles("start_delay_ms", source.start_delay_s[timed] * 1e3)
    return row


def _client_of(port: str) -> str:
    return port.split(":", 1)[0]


def _new_client(server: JackServer, ports: set[str]) -> str:
    """The client of a port that is not among `ports`."""
    return _client_of(server.wait_for_port(lambda port: port not in ports))


def _xrun_causes(xruns: Counter[str], client: str) -> dict[str, int]:
    """The xruns split into the driver's own, this client's, and the other clients'."""
    return {"xruns_driver": xruns["driver"], "xruns_this_client": xruns[client],
            "xruns_other_clients": sum(xruns.values()) - xruns["driver"] - xruns[client]}


def _pressure(kind: str) -> contextlib.AbstractContextManager:
    return GilPressure(work_s=1.0, frame_s=1.0) if kind != "none" else contextlib.nullcontext()


# --- first block, start-up ------------------------------------------------------------------


def first_block_costs() -> dict[str, Any]:
    """The first blocks against the steady state, in fresh processes, with and without the
    warm-up that detector.live relies on."""
    return {mode: json.loads(subprocess.run(
        [sys.executable, "-c", f"from benchmarks.live import first_block_child; "
                               f"first_block_child(warm_up={mode == 'warm_up'})"],
        capture_output=True, text=True, check=True, timeout=600).stdout)
        for mode in ("warm_up", "no_warm_up")}


def first_block_child(warm_up: bool) -> None:
    """In a fresh process: build the Detector (timed), then time every 128-frame block of a
    rendered theme (a second of silence, then the notes); print JSON: the first block, the
    worst of the first FIRST_BLOCKS (the first notes reach the matcher there), and the rest."""
    from detector.engine import Detector
    from detector.inputcheck import InputCheck

    themes = random_themes(N_THEMES)
    audio = _render(themes[0], transpose=2, tempo=1.0)
    started = time.perf_counter()
    detector = Detector(themes, SAMPLE_RATE, warm_up=warm_up)
    check = InputCheck(SAMPLE_RATE)
    build_s = time.perf_counter() - started
    costs_us = []
    for start in range(0, len(audio) - BLOCK, BLOCK):
        block = audio[start:start + BLOCK, None]
        t0 = time.perf_counter_ns()
        check.process(block)
        detector.process(block)
        costs_us.append((time.perf_counter_ns() - t0) / 1e3)
    print(json.dumps({"build_s": build_s, "first_block_us": costs_us[0],
                      "first_second_max_us": max(costs_us[:FIRST_BLOCKS]),
                      **_percentiles("later_us", np.array(costs_us[FIRST_BLOCKS:]))}))


def startup_times(server: JackServer) -> dict[str, float]:
    """Seconds from spawning `theme-detector listen` to its "listening on" line."""
    exe = str(Path(sys.executable).with_name("theme-detector"))
    times = []
    for _ in range(STARTUP_RUNS):
        started = time.perf_counter()
        process = subprocess.Popen([exe, "listen", "--device", str(_jack_device()), "--duration", "0.2"],
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                   env=server.env)
        for line in process.stderr:
            if "listening on" in line:
                times.append(time.perf_counter() - started)
        process.wait()
    return {"median": float(np.median(times)), "runs": times}


# --- the live run ---------------------------------------------------------------------------


def live_run(server: JackServer, seconds: float) -> dict[str, Any]:
    """detector.live.Listener, 1,000 themes, 128-frame blocks, a GUI-like load, themes played."""
    from detector.live import InputSettings, Listener

    themes = random_themes(N_THEMES)
    before = set(server.ports())
    listener = Listener(themes, InputSettings(device=_jack_device(), channels=(1,)))
    lags_s: list[float] = []
    found: list[tuple[Any, float]] = []
    played: list[str] = []
    with tempfile.TemporaryDirectory() as folder, listener:
        port = server.wait_for_port(lambda p: p not in before and ":in_" in p)
        for source in server.connections(port):
            server.disconnect(source, port)
        player = Player(server)
        server.connect(player.port, port)
        stop = threading.Event()
        helpers = [threading.Thread(target=_play_programme,
                                    args=(player, _programme(themes, Path(folder)), played, stop)),
                   threading.Thread(target=_take_events, args=(listener, found, stop))]
        worker = next(t for t in threading.enumerate() if t.name == "theme-detector-worker")
        with GilPressure(GUI_WORK_S, GUI_FRAME_S):
            for helper in helpers:
                helper.start()
            stats_before, xruns_before = listener.stats, server.xruns()
            cpu_before_s, stolen_before_s = _thread_cpu_s(worker.native_id), _stolen_cpu_s()
            wall_s = _sample_for(seconds, lambda: lags_s.append(listener.backlog_s), every_s=0.01)
            worker_cpu_s = _thread_cpu_s(worker.native_id) - cpu_before_s
            stolen_s = _stolen_cpu_s() - stolen_before_s
            stats, xruns = listener.stats, server.xruns() - xruns_before
            stop.set()
            for helper in helpers:
                helper.join()
        player.close()
    names = [detection.theme for detection, _ in found]
    return {
        "seconds": wall_s, "themes": N_THEMES, "callbacks": stats.callbacks - stats_before.callbacks,
        "audio_received": (stats.callbacks - stats_before.callbacks) * BLOCK_S / wall_s,
        "overflows": stats.overflows - stats_before.overflows, **_xrun_causes(xruns, _client_of(port)),
        "dropped_frames": stats.dropped_frames, "sanitised_samples": stats.sanitised_samples,
        "worker_cpu_share": worker_cpu_s / wall_s, "cpu_stolen": stolen_s / (wall_s * os.cpu_count()),
        **_percentiles("worker_lag_ms", np.array(lags_s) * 1e3),
        **_percentiles("end_to_end_ms", np.array([latency_s * 1e3 for _, latency_s in found])),
        "themes_played": len(played), "detections": len(names),
        "detections_of_a_played_theme": sum(name in played for name in names),
    }


def _programme(themes, folder: Path) -> list[tuple[str, Path]]:
    """Eight of the themes, each transposed and at its own tempo, rendered to WAV files."""
    rng = np.random.default_rng(11)
    programme = []
    for k in range(8):
        theme = themes[int(rng.integers(len(themes)))]
        transpose, tempo = int(rng.integers(-5, 7)), float(rng.uniform(0.9, 1.1))
        path = folder / f"{k}.wav"
        soundfile.write(path, _render(theme, transpose, tempo), SAMPLE_RATE, subtype="FLOAT")
        programme.append((theme.name, path))
    return programme


def _play_programme(player: Player, programme, played: list[str], stop: threading.Event) -> None:
    """Play the programme's files in turn, one every PLAY_EVERY_S, until stopped."""
    k = 0
    while not stop.is_set():
        name, path = programme[k % len(programme)]
        started = time.monotonic()
        played.append(name)
        player.play(path)
        stop.wait(max(0.0, PLAY_EVERY_S - (time.monotonic() - started)))
        k += 1


def _take_events(listener, found: list, stop: threading.Event) -> None:
    """Take each detection the moment it is queued, with its end-to-end latency: from the
    callback that delivered the last frame the detector had consumed to now. The blocks
    recorded since that one, a period apart, give it to within half a period."""
    while not stop.is_set():
        try:
            detection = listener.events.get(timeout=0.1)
        except queue.Empty:
            continue
        recorded = listener.ring.recorded_frames
        last_frame = round(detection.time_s * listener.sample_rate) - 1
        blocks = (recorded - (last_frame - last_frame % BLOCK)) / BLOCK  # that block to the newest
        found.append((detection, (blocks - 0.5) * BLOCK_S))


# --- helpers ----------------------------------------------------------------------------------


def _render(theme, transpose: int, tempo: float) -> np.ndarray:
    """One second of silence, the theme performed, one second of silence; 48 kHz float32."""
    audio = render_notes(perform(theme, 1.0, transpose, tempo), SAMPLE_RATE, "clarinet")
    return np.concatenate([audio, np.zeros(SAMPLE_RATE, dtype=np.float32)])


def _jack_device() -> int:
    from detector.audio import input_devices

    return next(d.index for d in input_devices() if d.on_jack)


def _sample_for(seconds: float, sample: Callable[[], None], every_s: float) -> float:
    """Call sample() every every_s for `seconds`; return the wall time it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        sample()
        time.sleep(every_s)
    return time.perf_counter() - started


def _thread_cpu_s(native_id: int) -> float:
    """CPU seconds (user + system) a thread of this process has used (Linux /proc)."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stolen_cpu_s() -> float:
    """CPU seconds the hypervisor has taken from this virtual machine, all CPUs together
    (/proc/stat "steal"): time in which no thread here, real-time or not, could run."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def _percentiles(name: str, values: np.ndarray) -> dict[str, float | None]:
    if not len(values):
        return {f"{name}_p50": None, f"{name}_p99": None, f"{name}_max": None}
    return {f"{name}_p50": float(np.percentile(values, 50)),
            f"{name}_p99": float(np.percentile(values, 99)), f"{name}_max": float(np.max(values))}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: dict[str, Any]) -> str:
    """The tables printed at the end."""
    realtime = "with" if results["jack_realtime"] else "without"
    parts = [f"JACK dummy server {realtime} real-time scheduling; xruns by cause: the server's "
             "own late wake-up / this client late / another client late", ""]
    parts += ["Callback, 128 frames at 48 kHz (period 2667 us)", table(
        ["callback, GIL pressure", "audio received", "overflows", "xruns", "mean us",
         "work p50 / p99 us", "start delay p50 / p99 ms", "CPU stolen"],
        [[f"{r['callback']}, {r['gil_pressure']}", f"{100 * r['audio_received']:.1f} %",
          str(r["overflows"]), _xruns(r), _fmt(r["mean_callback_us"], 1),
          _pair(r, "work_us", 1), _pair(r, "start_delay_ms", 2), f"{100 * r['cpu_stolen']:.1f} %"]
         for r in results["callback"]])]
    parts += ["", "First 128-frame blocks vs later ones (1,000 themes, fresh process, warm cache)",
              table(["", "build s", "block 1 us", f"max of first {FIRST_BLOCKS} us",
                     "later p50 / p99 / max us"],
                    [[mode.replace("_", " "), _fmt(f["build_s"]), _fmt(f["first_block_us"], 0),
                      _fmt(f["first_second_max_us"], 0),
                      " / ".join(_fmt(f[f"later_us_{q}"], 0) for q in ("p50", "p99", "max"))]
                     for mode, f in results["first_block"].items()])]
    parts += ["", f"Start-up to listening (warm cache): median {results['startup_s']['median']:.2f} s"]
    run = results["live_run"]
    parts += ["", f"Live run: {run['seconds']:.0f} s, {run['themes']} themes, 128-frame blocks, "
              "GUI-like load", table(["measure", "value"], [
                  ["input overflows (PortAudio)", str(run["overflows"])],
                  ["xruns by cause", _xruns(run)],
                  ["frames dropped (ring buffer)", str(run["dropped_frames"])],
                  ["audio received (blocks x period / wall time)",
                   f"{100 * run['audio_received']:.1f} %"],
                  ["worker lag p50 / p99 / max ms", _triple(run, "worker_lag_ms")],
                  ["worker CPU (share of one core)", f"{100 * run['worker_cpu_share']:.0f} %"],
                  ["CPU stolen by the hypervisor", f"{100 * run['cpu_stolen']:.1f} %"],
                  ["end-to-end p50 / p99 / max ms", _triple(run, "end_to_end_ms")],
                  ["detections (of a played theme) / themes played",
                   f"{run['detections']} ({run['detections_of_a_played_theme']}) / {run['themes_played']}"],
              ])]
    return "\n".join(parts)


def _xruns(row: dict[str, Any]) -> str:
    return f"{row['xruns_driver']} / {row['xruns_this_client']} / {row['xruns_other_clients']}"


def _pair(row: dict[str, Any], name: str, digits: int) -> str:
    return " / ".join(_fmt(row.get(f"{name}_{q}"), digits) for q in ("p50", "p99"))


def _triple(row: dict[str, Any], name: str) -> str:
    return " / ".join(_fmt(row[f"{name}_{q}"], 1) for q in ("p50", "p99", "max"))


if __name__ == "__main__":
    sys.exit(main())
