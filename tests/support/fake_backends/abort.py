"""A backend whose toolkit crashes the process (as a segfaulting C library would)."""

import os
import sys


class Reader:
    def read(self, series, options):
        print("fake toolkit: about to crash", file=sys.stderr, flush=True)
        os.abort()
