"""``python -m node run --config FILE`` (the same as ``opzk node run --config FILE``)."""

import sys

from node.cli import main

sys.exit(main())
