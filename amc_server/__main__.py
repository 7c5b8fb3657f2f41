"""`python3 -m amc_server ...` is `amc ...` (used by `amc start` to spawn the server)."""
import sys

from .cli import main

sys.exit(main())
