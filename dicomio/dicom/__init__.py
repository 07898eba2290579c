"""DICOM files, read fast: the first step of every pipeline.

- :mod:`~dicomio.dicom.header`: the header walk (``read_header``), stopping at the pixel data;
- :mod:`~dicomio.dicom.attributes`: the tags the walk keeps and what each becomes;
- :mod:`~dicomio.dicom.deflate`: deflated data sets, inflated within a ceiling;
- :mod:`~dicomio.dicom.budgets`: what one header may cost (bytes, elements, nesting, frames);
- :mod:`~dicomio.dicom.types`: what one read gives, as plain data (``FileHeader``,
  ``PixelFormat``);
- :mod:`~dicomio.dicom.transfer_syntax`: the transfer-syntax table, the only home of their UIDs;
- :mod:`~dicomio.dicom.frame`: one 2-D image of a file (a frame, or a mosaic's tile);
- :mod:`~dicomio.dicom.csa`: Siemens' private CSA header;
- :mod:`~dicomio.dicom.checks`: header sanity checks, before any pixel is read or allocated.

Nothing here imports another step of dicomio.
"""
