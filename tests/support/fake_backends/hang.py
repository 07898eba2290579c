"""A backend whose toolkit never returns."""

import time


class Reader:
    def read(self, series, options):
        while True:
            time.sleep(60)
