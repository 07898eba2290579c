"""A backend that reads correctly, then adds one to one voxel: the smallest plausible error."""

from dicomio.backends.pydicom_backend import Reader as PydicomReader


class Reader:
    def read(self, series, options):
        result = PydicomReader().read(series, options)
        result.array.reshape(-1)[result.array.size // 3] += 1
        return result
