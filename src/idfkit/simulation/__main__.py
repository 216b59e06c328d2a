"""``python -m idfkit.simulation``: the same as the ``idfkit-sim`` command."""

import sys

from idfkit.simulation.cli import main

sys.exit(main())
