"""Keep numba's on-disk cache of compiled kernels in step with the sources.

numba caches each kernel (`cache=True`) in `__pycache__` and recompiles it when its own file
changes, but not when a kernel it calls from another module does: the salience kernel keeps
the FFT it was compiled with. After an upgrade or an edit of one module, a stale kernel would
run silently with the new one's tables. So the whole cache of the package is dropped whenever
any of its sources differs from those it was compiled from (a digest kept beside the cache).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

STAMP_NAME = "kernels.sha256"


def sources_digest(package_dir: Path) -> str:
    """SHA-256 of every .py file of the package, in name order."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_kernels(package_dir: Path) -> bool:
    """Delete the package's cached kernels if its sources changed since they were compiled;
    return whether it did. A read-only install (no writable __pycache__) is left alone."""
    cache_dir = package_dir / "__pycache__"
    stamp = cache_dir / STAMP_NAME
    digest = sources_digest(package_dir)
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        cache_dir.mkdir(exist_ok=True)
        stale = [*cache_dir.glob("*.nbi"), *cache_dir.glob("*.nbc")]
        for path in stale:
            path.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return bool(stale)
