"""``python -m sightline`` runs the command line (see :mod:`sightline.cli`)."""

import sys

from sightline.cli import main

sys.exit(main())
