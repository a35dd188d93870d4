"""theme-detector's engine. Importing it first drops compiled kernels that no longer match the
sources (see kernel_cache)."""

from pathlib import Path

from detector.kernel_cache import drop_stale_kernels

drop_stale_kernels(Path(__file__).resolve().parent)
