"""A series listed by its headers only, made ready to read: its instances retrieved first.

A DICOMweb series is listed, chosen and checked for geometry from its instances' metadata
(:mod:`dicomio.sources.web_headers`: :attr:`FileHeader.headers_only`), no pixel data fetched.
Whatever reads its pixels (``load_volume``, ``load_4d``, ``compare``, ``convert``, validate's
pixel checks) is first given the series back through :func:`with_pixel_data`, the one home of
"retrieve, then walk again": the series' instances are retrieved together, the series checked
unchanged on the server, their headers walked again, grouped, and the same stack taken.
"""

from __future__ import annotations

from dicomio.errors import SeriesChangedError, UnreadableFilesError
from dicomio.geometry.stack import GeometryTolerances
from dicomio.series.discover import discover
from dicomio.series.group import group
from dicomio.series.info import SeriesInfo

__all__ = ["needs_retrieval", "with_pixel_data"]


def needs_retrieval(series: SeriesInfo) -> bool:
    """Whether some headers of ``series`` came from metadata, their pixel data not at hand."""
    return any(header.headers_only for header in series.headers)


def with_pixel_data(series: SeriesInfo,
                    tolerances: GeometryTolerances = GeometryTolerances()) -> SeriesInfo:
    """``series`` with its pixel data at hand: itself when it is, else the same stack from
    its instances, retrieved.

    The instances of a series listed from metadata are retrieved together (in parallel, as
    stored), their series asked again (instances that came or went since the metadata was
    read are a :class:`~dicomio.errors.SeriesChangedError`), their headers walked again and
    grouped; the stack of the same files is returned (the one with the same key when the
    files make several), its transfer syntaxes and pixel data those of the retrieved
    instances. Metadata may not say all the header walk reads (a Siemens mosaic's CSA header
    is bulk data, never fetched with it: the mosaic is listed as its stored image and cut
    into its tiles once retrieved).

    Raises
    ------
    DicomWebError
        The retrieval failed (:func:`dicomio.sources.dicomweb.retrieve_headers`).
    SeriesChangedError
        The retrieved instances no longer make that stack.
    UnreadableFilesError
        A retrieved instance cannot be read.
    """
    if not needs_retrieval(series):
        return series
    from dicomio.sources.dicomweb import retrieve_headers  # requests only when a URL is read
    from dicomio.sources.web_headers import WebHeaderSource

    web = [h.source for h in series.headers if isinstance(h.source, WebHeaderSource)]
    others = [h.origin for h in series.headers if not isinstance(h.source, WebHeaderSource)]
    inventory = discover([*retrieve_headers(web), *others], workers=1)
    if inventory.unreadable:
        raise UnreadableFilesError(inventory.unreadable)
    files = set(series.files)
    same = [stack for stack in group(inventory.headers, tolerances) if set(stack.files) == files]
    found = next((stack for stack in same if stack.key == series.key),
                 same[0] if len(same) == 1 else None)
    if found is None:
        raise SeriesChangedError(f"series {series.key}: its retrieved instances no longer make "
                                 f"the stack their metadata described; nothing was returned: "
                                 f"read it again", path=series.files[0])
    return found
