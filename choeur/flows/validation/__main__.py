"""`python -m choeur.flows.validation validate FILE… [--rules] [--engine] [--json]`: see cli.py."""

import sys

from choeur.flows.validation.cli import main

sys.exit(main())
