"""Synthetic DICOM series with a known truth, for dicomio's tests and for users' own.

- :mod:`~dicomio.testing.synthetic`: classic single-frame series in every transfer syntax that
  can be encoded (``SeriesSpec``, ``write_series``), with their expected array and affine;
- :mod:`~dicomio.testing.multiframe`: enhanced multi-frame files, Siemens mosaics and 4-D series.

These modules need pydicom's writers (and, for compressed syntaxes, the encoders); the rest of
dicomio never imports them.
"""
