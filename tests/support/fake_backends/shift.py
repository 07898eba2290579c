"""A backend that reads correctly, then changes one voxel and reports a geometry 2 mm off."""

from dicomio.backends.base import ReportedGeometry
from dicomio.backends.pydicom_backend import Reader as PydicomReader


class Reader:
    def read(self, series, options):
        result = PydicomReader().read(series, options)
        result.array[0, 0, 0] += 7
        affine = series.geometry.affine
        spacing = tuple(float(v) for v in (affine[:3, :3] ** 2).sum(axis=0) ** 0.5)
        direction = tuple(tuple(float(v) for v in row) for row in affine[:3, :3] / spacing)
        origin = tuple(float(v) for v in affine[:3, 3] + (2.0, 0.0, 0.0))
        result.reported_geometry = ReportedGeometry(origin, spacing, direction)
        return result
