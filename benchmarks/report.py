"""Plumbing shared by the benchmark scripts: one-thread runs, machine facts, tables, verdicts, JSON."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numba
from threadpoolctl import threadpool_limits

_PACKAGES = ("numpy", "numba", "librosa", "mir_eval", "aubio", "scipy", "essentia", "basic-pitch")
#: Where every benchmark writes its results by default (committed, quoted in the README).
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools (threadpoolctl) and numba's parallel pool to one thread."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(previous)


def machine_info() -> dict[str, Any]:
    """CPU, core count, OS, Python and the versions of the packages the benchmarks time."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "load_average_1m_at_end": os.getloadavg()[0],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_line() -> str:
    """How this benchmark was started, as typed (interpreter, -m module, arguments)."""
    return " ".join(sys.orig_argv)


def write_json(out_dir: Path, name: str, payload: dict[str, Any]) -> Path:
    """Write payload plus the command and machine facts to out_dir/name; return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    document = {"command": command_line(), "machine": machine_info(), **payload}
    path.write_text(json.dumps(document, indent=2, default=float) + "\n")
    return path


def finish(out_dir: Path, name: str, payload: dict[str, Any], text: str) -> Path:
    """The end of every benchmark: print its report (and the load warning, if any), write its
    JSON (write_json); return the path written."""
    print(text)
    if warning := load_warning():
        print(warning)
    return write_json(out_dir, name, payload)


def load_warning() -> str:
    """A caution for the printed report when other processes competed for the CPUs, else ''.

    The 1-minute load average counts this benchmark's own busy thread as about 1.
    """
    load = os.getloadavg()[0]
    if load < 1.5:
        return ""
    return (f"caution: 1-minute load average {load:.1f} on {os.cpu_count()} logical CPUs (this run counts "
            "for ~1): other processes competed for the CPU, so the timings are pessimistic and noisy")


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table of preformatted cells, columns right-aligned except the first."""
    cells = [list(headers)] + [list(row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

