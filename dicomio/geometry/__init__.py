"""Where the slices are: pure functions of positions and orientations, no pixel read.

- :mod:`~dicomio.geometry.conventions`: THE module of axis orders and coordinate systems
  (the contract's affine, index ↔ world, ``(k, j, i)`` ↔ ``(x, y, z)``, LPS ↔ RAS, NIfTI);
- :mod:`~dicomio.geometry.stack`: analysis of a stack (sort along the normal, spacing, gaps,
  tilt) into a ``StackGeometry`` and its ``GeometryIssue`` list;
- :mod:`~dicomio.geometry.multiframe`, :mod:`~dicomio.geometry.mosaic`: frames of enhanced
  multi-frame files and tiles of Siemens mosaics, placed in space;
- :mod:`~dicomio.geometry.fourd`: splitting a series with repeated positions into volumes;
- :mod:`~dicomio.geometry.resample`: tilted or unevenly spaced slices onto a regular grid.
"""
