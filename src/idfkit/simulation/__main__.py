"""``python -m idfkit.simulation``: the same as the ``idfkit-sim`` command.

The command line is loaded inside `main`, so a Ctrl-C while it loads exits
130 with one line, as one later does. (Python has loaded ``idfkit`` and
``idfkit.simulation`` before this module runs; the ``idfkit-sim`` program
starts in `_idfkit_sim`, outside the package, and so covers those too.)
"""

import sys


def main() -> int:
    """Load the command line and run it; exit 130, with one line, when interrupted meanwhile."""
    try:
        from idfkit.simulation.cli import main as run
    except KeyboardInterrupt:
        print("idfkit-sim: interrupted", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())
