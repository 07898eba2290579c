"""A backend that reads correctly, then swaps the first two slices: a plausible, wrong volume."""

from dicomio.backends.pydicom_backend import Reader as PydicomReader


class Reader:
    def read(self, series, options):
        result = PydicomReader().read(series, options)
        if len(result.array) > 1:
            result.array[[0, 1]] = result.array[[1, 0]]
        return result
