"""One series through several backends side by side, each in its own process.

- :mod:`~dicomio.compare.side_by_side`: run the backends, measure voxel and geometry
  differences, the ``Comparison`` report;
- :mod:`~dicomio.compare.worker`: the child process that reads with one backend.
"""
