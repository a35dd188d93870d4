"""The `theme-detector` console script. Loading the command line (numpy, numba, the engine)
takes about a second; Ctrl-C within it quits quietly with status 130, as it does once loaded
(`cli.main`), not with a traceback of the imports it interrupted."""

from __future__ import annotations


def main() -> int:
    try:
        from detector import cli
    except KeyboardInterrupt:
        return 130
    return cli.main()
