"""Where DICOM files come from: folders on disk, zip and tar archives read in place, DICOMDIR
indexes, data sets and buffers in memory.

Each file, wherever it lies, is a :class:`~dicomio.dicom.source.Source`: discovery
(:func:`dicomio.series.discover.discover`) turns every input into sources through
:func:`dicomio.sources.inputs.expand`, and the header walk and the pixel readers open the
source, so every caller keeps the one pipeline. docs/sources.md describes each.
"""
