"""Volumes out of dicomio: files and other toolkits' images.

- :mod:`~dicomio.io.writers`: ``write_volume`` to NIfTI, NRRD or ``.npz``;
- :mod:`~dicomio.io.convert`: to and from SimpleITK, VTK and nibabel images;
- :mod:`~dicomio.io.preview`: a PNG of the three mid-planes (matplotlib, imported when drawing);
- :mod:`~dicomio.io.atomic`: atomic file writes, shared by all of them.
"""
