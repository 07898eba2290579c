"""One series through several backends side by side, each in its own process.

- :mod:`~dicomio.compare.side_by_side`: run each backend in a child process, with a timeout;
- :mod:`~dicomio.compare.worker`: the child process that reads with one backend;
- :mod:`~dicomio.compare.report`: the ``Comparison`` report and the voxel and geometry
  differences it measures.
"""
