"""Engine speed and scale: per-hop latency, real-time factors, start-up time and memory.

    python -m benchmarks.speed [--quick] [--out benchmarks/results]

Audio: a clarinet melody rendered with FluidSynth at 48 kHz (random passages alternating with
some of the themes, transposed and at 0.8-1.25x tempo). Themes: random melody-like themes of
8-20 notes (benchmarks.melodies.random_themes); the first n are the same for every count.

- Per hop: a Detector is fed blocks of exactly one hop (480 samples = 10 ms); every `process`
  call is timed with time.perf_counter_ns, the first one included. Real-time factor = audio
  seconds / the sum of the call times.
- Offline scan: the whole file in blocks of 4096 samples to a fresh Detector with 100 themes;
  the fastest of SCAN_REPEATS runs.
- Themes with harmony: per hop with 1,000 themes, and the offline scan with 100, each theme
  given chords (`benchmarks.melodies.with_chords`), so that the harmony path (chroma every 0.1 s,
  matched in all 12 keys) runs beside the melody's.
- Start-up: a fresh `python -m benchmarks.speed_child startup`, from before it is spawned to the
  moment its Detector (demo themes, every kernel compiled or loaded) is ready. Cold: an empty
  NUMBA_CACHE_DIR in a new temporary folder (Python's own .pyc files and the OS file cache
  stay warm); warm: the next runs with the same folder (the median is the figure).
- Memory: the peak resident size (VmHWM) of a fresh process that builds the Detector and runs
  it over the audio. Not ru_maxrss, which Linux carries over from the spawning parent (see
  benchmarks.speed_child); it is kept in the JSON as ru_maxrss_mib.

All in one thread (threadpoolctl for BLAS/OpenMP pools, numba.set_num_threads(1)).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from benchmarks.melodies import NoteTriple, melody, random_themes, with_chords
from benchmarks.render import Part, render
from benchmarks.report import RESULTS_DIR, finish, single_thread, table, verdict
from detector.engine import Detector
from detector.themes import Theme

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

SAMPLE_RATE = 48000
HOP_SAMPLES = 480
HOP_S = HOP_SAMPLES / SAMPLE_RATE
SCAN_BLOCK = 4096
SCAN_THEMES = 100
SCAN_REPEATS = 5
WARM_STARTS = 3
CLARINET = 71
THEME_COUNTS = (10, 100, 1_000, 10_000)
MEMORY_THEME_COUNTS = (1_000, 10_000)
#: Per hop with this many themes given with harmony (the budget's "1,000 themes loaded").
HARMONY_THEMES = 1_000
#: Quick mode stops at this many themes.
QUICK_MAX_THEMES = 1_000
MIN_SCAN_REALTIME_FACTOR = 500.0
MAX_WARM_STARTUP_S = 2.0


def performance(themes: Sequence[Theme], duration_s: float, rng: np.random.Generator) -> list[NoteTriple]:
    """About duration_s of melody: 8-note random passages, each followed by one of the themes
    in turn (shifted by -5..+5 semitones, at 0.8-1.25x its tempo)."""
    notes: list[NoteTriple] = []
    t, k = 0.5, 0
    while t < duration_s:
        notes += [(p, t + onset, duration) for p, onset, duration in melody(rng, 8, 55, 79)]
        t = notes[-1][1] + notes[-1][2] + 0.3
        theme, shift, stretch = themes[k % len(themes)], int(rng.integers(-5, 6)), float(rng.uniform(0.8, 1.25))
        notes += [(round(n.pitch) + shift, t + n.onset_s * stretch, n.duration_s * stretch) for n in theme.notes]
        t = notes[-1][1] + notes[-1][2] + 0.3
        k += 1
    return notes


def render_performance(themes: Sequence[Theme], duration_s: float, seed: int = 3) -> np.ndarray:
    """The benchmark audio: mono float32 at SAMPLE_RATE, at least duration_s long."""
    rng = np.random.default_rng(seed)
    notes = performance(themes, duration_s, rng)
    part = Part([(p, onset, duration, 90) for p, onset, duration in notes], program=CLARINET)
    return render([part], SAMPLE_RATE)


def per_hop(themes: Sequence[Theme], audio: np.ndarray) -> dict[str, Any]:
    """Time every one-hop `process` call of a Detector over the audio (all times in seconds)."""
    start = time.perf_counter()
    detector = Detector(themes, SAMPLE_RATE)
    construct_s = time.perf_counter() - start
    blocks = [audio[i:i + HOP_SAMPLES] for i in range(0, audio.shape[0] - HOP_SAMPLES + 1, HOP_SAMPLES)]
    elapsed_ns = np.zeros(len(blocks), dtype=np.int64)
    detections = 0
    with single_thread():
        for k, block in enumerate(blocks):
            t0 = time.perf_counter_ns()
            found = detector.process(block)
            elapsed_ns[k] = time.perf_counter_ns() - t0
            detections += len(found)
    seconds = elapsed_ns * 1e-9
    return {
        "themes": len(themes), "hops": len(blocks), "construct_s": construct_s,
        "p50_s": float(np.percentile(seconds, 50)), "p99_s": float(np.percentile(seconds, 99)),
        "max_s": float(seconds.max()), "first_s": float(seconds[0]),
        "realtime_factor": len(blocks) * HOP_S / float(seconds.sum()),
        "notes_heard": detector.notes_heard, "detections": detections,
    }


def offline_scan(themes: Sequence[Theme], audio: np.ndarray) -> dict[str, Any]:
    """Real-time factor of scanning the audio in SCAN_BLOCK blocks: the fastest of SCAN_REPEATS
    runs (the least disturbed by other processes, as timeit reports)."""
    runs = []
    for _ in range(SCAN_REPEATS):
        detector = Detector(themes, SAMPLE_RATE)
        with single_thread():
            start = time.perf_counter()
            for i in range(0, audio.shape[0], SCAN_BLOCK):
                detector.process(audio[i:i + SCAN_BLOCK])
            runs.append(time.perf_counter() - start)
    seconds = min(runs)
    return {"themes": len(themes), "audio_s": audio.shape[0] / SAMPLE_RATE, "runs_s": runs,
            "processing_s": seconds, "realtime_factor": audio.shape[0] / SAMPLE_RATE / seconds}


def _child(args: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run benchmarks.speed_child with args in a fresh interpreter; return its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.speed_child", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"benchmarks.speed_child {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def startup(warm_runs: int) -> dict[str, Any]:
    """Seconds from spawning a process to its Detector being ready: cold, then warm_runs warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = []
        for _ in range(1 + warm_runs):
            spawned = time.time()
            answer = _child(["startup", str(SAMPLE_RATE)], env)
            answer["ready_s"] = answer.pop("ready_at") - spawned
            runs.append(answer)
    return {"cold": runs[0], "warm": runs[1:], "cold_s": runs[0]["ready_s"],
            "warm_s": float(np.median([run["ready_s"] for run in runs[1:]]))}


def peak_memory(counts: Sequence[int], audio: np.ndarray) -> dict[str, Any]:
    """Peak resident memory (MiB; VmHWM, see benchmarks.speed_child) of a fresh process running a
    Detector over the audio, per theme count, and how much of it came after the imports."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audio.npy"
        np.save(path, audio)
        found = {}
        for count in counts:
            kib = _child(["memory", str(SAMPLE_RATE), str(HOP_SAMPLES), str(count), str(path)])
            found[str(count)] = {"peak_mib": kib["peak_rss"] / 1024,
                                 "over_imports_mib": (kib["peak_rss"] - kib["rss_after_imports"]) / 1024,
                                 "ru_maxrss_mib": kib["ru_maxrss"] / 1024}
    return found


def plot(hops: Sequence[dict[str, Any]], path: Path) -> None:
    """scale.png: per-hop p50/p99 (ms) and real-time factor against the number of themes."""
    counts = [h["themes"] for h in hops]
    figure, (latency, speed) = plt.subplots(1, 2, figsize=(11, 4.2))
    latency.plot(counts, [1e3 * h["p50_s"] for h in hops], "o-", label="p50")
    latency.plot(counts, [1e3 * h["p99_s"] for h in hops], "s-", label="p99")
    latency.axhline(1e3 * HOP_S, color="red", linestyle="--", label=f"hop period ({1e3 * HOP_S:g} ms)")
    latency.set(xscale="log", yscale="log", xlabel="themes loaded", ylabel="time per 10 ms hop (ms)",
                title="Per-hop processing time")
    speed.plot(counts, [h["realtime_factor"] for h in hops], "o-")
    speed.axhline(1.0, color="red", linestyle="--", label="real time")
    speed.set(xscale="log", yscale="log", xlabel="themes loaded", ylabel="audio s / processing s",
              title="Real-time factor, one-hop blocks")
    for axes in (latency, speed):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def budgets(hops: Sequence[dict[str, Any]], scan: dict[str, Any], start: dict[str, Any],
            with_harmony: dict[str, Any]) -> list[dict[str, Any]]:
    """The speed budgets with our figures; a budget needing a run that was skipped is met=None."""
    largest = max(hops, key=lambda h: h["themes"])
    hop_ok = largest["p99_s"] < HOP_S if largest["themes"] >= THEME_COUNTS[-1] else None
    harmony_hop, harmony_scan = with_harmony["per_hop"], with_harmony["offline_scan"]
    return [
        {"budget": f"per-hop p99 < {1e3 * HOP_S:g} ms with {THEME_COUNTS[-1]:,} themes",
         "value": f"{1e3 * largest['p99_s']:.3f} ms ({largest['themes']:,} themes)", "met": hop_ok},
        {"budget": f"per-hop p99 < {1e3 * HOP_S:g} ms with {HARMONY_THEMES:,} themes with harmony",
         "value": f"{1e3 * harmony_hop['p99_s']:.3f} ms ({harmony_hop['themes']:,} themes)",
         "met": harmony_hop["p99_s"] < HOP_S if harmony_hop["themes"] >= HARMONY_THEMES else None},
        {"budget": f"offline scan >= {MIN_SCAN_REALTIME_FACTOR:g}x real time, {SCAN_THEMES} themes",
         "value": f"{scan['realtime_factor']:.0f}x", "met": scan["realtime_factor"] >= MIN_SCAN_REALTIME_FACTOR},
        {"budget": f"offline scan >= {MIN_SCAN_REALTIME_FACTOR:g}x real time, {SCAN_THEMES} themes with harmony",
         "value": f"{harmony_scan['realtime_factor']:.0f}x ({harmony_scan['themes']} themes)",
         "met": (harmony_scan["realtime_factor"] >= MIN_SCAN_REALTIME_FACTOR
                 if harmony_scan["themes"] >= SCAN_THEMES else None)},
        {"budget": f"start-up warm < {MAX_WARM_STARTUP_S:g} s", "value": f"{start['warm_s']:.2f} s",
         "met": start["warm_s"] < MAX_WARM_STARTUP_S},
    ]


def run(counts: Sequence[int], audio_s: float, warm_runs: int, out: Path) -> dict[str, Any]:
    """Every measurement: per hop for each number of themes in counts, over about audio_s of
    audio; start-up cold and warm_runs warm; memory for the MEMORY_THEME_COUNTS within counts.
    Writes scale.png into out and returns the JSON-ready summary."""
    themes = random_themes(max(counts))
    audio = render_performance(themes[:4], audio_s)
    hops = [per_hop(themes[:n], audio) for n in counts]
    scan = offline_scan(random_themes(SCAN_THEMES), audio)
    harmonised = [with_chords(theme) for theme in themes[:HARMONY_THEMES]]
    with_harmony = {"per_hop": per_hop(harmonised, audio),
                    "offline_scan": offline_scan(harmonised[:SCAN_THEMES], audio)}
    start = startup(warm_runs)
    memory = peak_memory([n for n in MEMORY_THEME_COUNTS if n <= max(counts)], audio)
    out.mkdir(parents=True, exist_ok=True)
    plot(hops, out / "scale.png")
    return {
        "settings": {"theme_counts": list(counts), "sample_rate_hz": SAMPLE_RATE, "hop_samples": HOP_SAMPLES,
                     "audio_s": audio.shape[0] / SAMPLE_RATE, "scan_block": SCAN_BLOCK, "threads": 1},
        "per_hop": hops, "offline_scan": scan, "startup": start, "memory": memory,
        "with_harmony": with_harmony, "budgets": budgets(hops, scan, start, with_harmony),
    }


def report(summary: dict[str, Any]) -> str:
    """The tables a person reads: per hop by number of themes, the other figures, the budgets."""
    memory = summary["memory"]
    hop_rows = [[f"{h['themes']:,}", *(f"{1e3 * h[key]:.3f}" for key in ("p50_s", "p99_s", "max_s", "first_s")),
                 f"{h['realtime_factor']:.0f}x", f"{h['construct_s']:.2f}",
                 f"{memory[str(h['themes'])]['peak_mib']:.0f}" if str(h["themes"]) in memory else "-",
                 str(h["notes_heard"]), str(h["detections"])] for h in summary["per_hop"]]
    hop_table = table(["themes", "p50 ms", "p99 ms", "max ms", "first ms", "real time", "build s",
                       "peak MiB", "notes", "detections"], hop_rows)
    scan, start = summary["offline_scan"], summary["startup"]
    harmony_hop, harmony_scan = summary["with_harmony"]["per_hop"], summary["with_harmony"]["offline_scan"]
    figures = [[f"offline scan, {scan['themes']} themes, blocks of {SCAN_BLOCK}",
                f"{scan['realtime_factor']:.0f}x real time"],
               [f"offline scan, {harmony_scan['themes']} themes with harmony",
                f"{harmony_scan['realtime_factor']:.0f}x real time"],
               [f"per hop, {harmony_hop['themes']:,} themes with harmony: p50 / p99 / max",
                f"{1e3 * harmony_hop['p50_s']:.3f} / {1e3 * harmony_hop['p99_s']:.3f} / "
                f"{1e3 * harmony_hop['max_s']:.3f} ms, {harmony_hop['realtime_factor']:.0f}x real time"],
               ["start-up cold (empty numba cache)", f"{start['cold_s']:.2f} s"],
               ["start-up warm (median)", f"{start['warm_s']:.2f} s"]]
    figures += [[f"peak memory, {int(n):,} themes (over imports)",
                 f"{m['peak_mib']:.0f} MiB ({m['over_imports_mib']:.0f} MiB)"] for n, m in memory.items()]
    goals = [[b["budget"], b["value"], "n/a (not run)" if b["met"] is None else verdict(b["met"])]
             for b in summary["budgets"]]
    return "\n\n".join([hop_table, table(["measurement", "figure"], figures),
                         table(["budget", "ours", "verdict"], goals)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"up to {QUICK_MAX_THEMES:,} themes, 15 s of audio")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="folder for speed.json and scale.png")
    args = parser.parse_args(argv)
    if args.quick:
        summary = run([n for n in THEME_COUNTS if n <= QUICK_MAX_THEMES], 15.0, 1, args.out)
    else:
        summary = run(THEME_COUNTS, 60.0, WARM_STARTS, args.out)
    print(f"\nwrote {finish(args.out, 'speed.json', summary, report(summary))} and {args.out / 'scale.png'}")


if __name__ == "__main__":
    main()
