"""The ``idfkit-sim`` program's first module: a Ctrl-C while the package loads exits quietly.

The console script starts here, outside the ``idfkit`` package, so that the
interrupt is handled from the very first import on: importing ``idfkit`` and
its simulation part takes a noticeable part of a second, and an interrupt
then would otherwise print a traceback.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> int:
    """Load the command line and run it; exit 130, with one line, when interrupted meanwhile."""
    try:
        from idfkit.simulation.cli import main as run
    except KeyboardInterrupt:
        print("idfkit-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run()


if __name__ == "__main__":
    sys.exit(main())
