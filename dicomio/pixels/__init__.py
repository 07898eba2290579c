"""From pixel data to the contract's values, whichever backend reads.

- :mod:`~dicomio.pixels.decoders`: the decoders of each transfer syntax, in preference order,
  and the encapsulated frames they decode;
- :mod:`~dicomio.pixels.imagecodecs_decoders`: the table's first choice for grey-scale frames;
- :mod:`~dicomio.pixels.pydicom_read`: one file's frames decoded by pydicom into their slices;
- :mod:`~dicomio.pixels.codestream`: structural checks of compressed frames before decoding;
- :mod:`~dicomio.pixels.values`: output dtypes and frame finishing (masking, sign extension,
  rescale), the same for every backend;
- :mod:`~dicomio.pixels.assembly`: which stored images to read, and mosaic tiles cut from them;
- :mod:`~dicomio.pixels.zero_guard`: an all-zero result checked against the file's own pixels.
"""
