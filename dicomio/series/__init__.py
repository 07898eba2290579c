"""From paths to the series to read: discover → group → inventory → choose.

- :mod:`~dicomio.series.discover`: walk the paths and recognise DICOM by content;
- :mod:`~dicomio.series.inventory`: what discovery found, and every skipped file with its reason;
- :mod:`~dicomio.series.group`: images into series, series into stacks sorted along their normal;
- :mod:`~dicomio.series.info`: ``SeriesInfo``, one stack that can become one volume;
- :mod:`~dicomio.series.choose`: ``list_series``/``scan``, and ``select_series``, the one way
  every caller (load, validate, compare, convert, preview) picks the series it reads;
- :mod:`~dicomio.series.summary`: a series and an inventory as plain, JSON-able data;
- :mod:`~dicomio.series.readahead`: the OS read-ahead that speeds up uncached scans.
"""
