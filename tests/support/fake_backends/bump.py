"""A backend that reads correctly, then adds 7 to the first voxel it read (of a 4-D series:
volume 0's), and reports no geometry of its own."""

from dicomio.backends.pydicom_backend import Reader as PydicomReader


class Reader:
    def read(self, series, options):
        result = PydicomReader().read(series, options)
        result.array[0, 0, 0] += 7
        return result
