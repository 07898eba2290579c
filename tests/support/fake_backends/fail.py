"""A backend whose toolkit raises its own (non-dicomio) exception."""


class Reader:
    def read(self, series, options):
        raise RuntimeError("fake toolkit refuses")
