"""The measurements of benchmarks.speed that need a fresh process; it runs this module, not you.

    python -m benchmarks.speed_child startup SAMPLE_RATE
        import the engine, load the demo themes, build a Detector (compiling or loading every
        kernel). Prints {"ready_at": wall-clock time.time() when ready, "import_s", "load_s",
        "construct_s", "themes"}.
    python -m benchmarks.speed_child memory SAMPLE_RATE HOP_SAMPLES N_THEMES AUDIO.npy
        build a Detector with N_THEMES random themes (benchmarks.melodies.random_themes) and feed
        it the audio hop by hop. Prints, in KiB: "rss_after_imports" (resident once the engine
        is imported), "peak_rss" (VmHWM: the peak resident memory of this process image) and
        "ru_maxrss" (resource.getrusage). Linux only.

        ru_maxrss is not the figure: Linux carries it across exec (fs/exec.c keeps the larger
        of its own and the pre-exec image's high-water mark), so a process spawned by a big
        parent reports at least the parent's resident size. VmHWM starts afresh at exec.

Each prints one JSON line on stdout.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from importlib import resources
from typing import Any


def startup(sample_rate: int) -> dict[str, Any]:
    """Time what a `listen` command does before its first block, from inside the process."""
    start = time.perf_counter()
    # Imported here on purpose: importing the engine is part of what is timed.
    from detector.engine import Detector
    from detector.themes import load_themes
    imported = time.perf_counter()
    themes, errors = load_themes(str(resources.files("detector.data") / "themes"))
    if errors or not themes:
        raise SystemExit(f"demo themes did not load: {errors or 'none found'}")
    loaded = time.perf_counter()
    Detector(themes, sample_rate)
    ready = time.perf_counter()
    return {"ready_at": time.time(), "themes": len(themes), "import_s": imported - start,
            "load_s": loaded - imported, "construct_s": ready - loaded}


def memory(sample_rate: int, hop: int, n_themes: int, audio_path: str) -> dict[str, Any]:
    """Memory (KiB) of a process that runs a Detector with n_themes over the audio."""
    import numpy as np

    from benchmarks.melodies import random_themes
    from detector.engine import Detector
    after_imports = _proc_status_kib("VmRSS")
    audio = np.load(audio_path)
    detector = Detector(random_themes(n_themes), sample_rate)
    for start in range(0, audio.shape[0] - hop + 1, hop):
        detector.process(audio[start:start + hop])
    return {"rss_after_imports": after_imports, "peak_rss": _proc_status_kib("VmHWM"),
            "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _proc_status_kib(field: str) -> int:
    """A memory figure (KiB) of this process from /proc/self/status: VmRSS now, VmHWM peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(argv: list[str]) -> None:
    task, *args = argv
    if task == "startup":
        result = startup(int(args[0]))
    elif task == "memory":
        result = memory(int(args[0]), int(args[1]), int(args[2]), args[3])
    else:
        raise SystemExit(f"unknown task {task!r}: startup or memory")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
