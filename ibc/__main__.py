"""`python -m ibc`."""
import sys

from ibc.cli import main

sys.exit(main())
