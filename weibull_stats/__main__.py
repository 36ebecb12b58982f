"""``python -m weibull_stats`` runs the command line."""

import sys

from weibull_stats.cli import main

sys.exit(main())
