"""Three orthogonal mid-planes of a volume, shown the way radiologists look at them.

The pure functions decide what to draw; :func:`render_preview` draws it with matplotlib (Agg,
no display needed; the ``plot`` extra):

- :func:`display_plane` cuts the volume through its middle across one array axis and turns the
  cut so that it reads in the radiological convention of its plane: axial with the patient's
  anterior at the top and left on the right of the screen, coronal and sagittal with superior at
  the top (the patient's left on the right of a coronal view, posterior on the right of a
  sagittal one). Each edge is labelled with the patient directions it points to (``L``,
  ``PS``...), computed from the affine, and the pixel size in mm gives the physical aspect.
- :func:`choose_window` picks the grey-level window: for CT the scanner's window from the
  header, else a soft-tissue window (W 400, L 40 HU); otherwise the 0.5–99.5 percentiles.
  MONOCHROME1 images are displayed inverted (their low values are white).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.extras import pip_install
from dicomio.volume import Volume

__all__ = [
    "CT_WINDOW",
    "PREVIEW_FORMATS",
    "View",
    "Window",
    "choose_window",
    "direction_letters",
    "display_plane",
    "mid_planes",
    "preview_format",
    "render_preview",
]

#: The endings a preview is written with, and the format each names (matplotlib writes them,
#: through Pillow for JPEG, TIFF and WebP).
PREVIEW_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff",
                   ".tiff": "tiff", ".webp": "webp", ".pdf": "pdf", ".svg": "svg"}

#: (centre, width) in HU used for CT without a window in its header: soft tissue.
CT_WINDOW = (40.0, 400.0)
_PERCENTILES = (0.5, 99.5)
# LPS axes: the letter for the positive and the negative direction.
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))
# For each plane (by the axis of its normal: x, y, z) the LPS directions of screen right and
# screen down.
_SCREEN = {
    0: ("sagittal", (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),   # right: posterior, down: inferior
    1: ("coronal", (1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),    # right: patient left, down: inferior
    2: ("axial", (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),       # right: patient left, down: posterior
}


def direction_letters(vector: Any, threshold: float = 0.1) -> str:
    """Patient-direction letters of an LPS vector, strongest component first.

    ``(1, 0, 0)`` is ``"L"``, ``(0, -1, 0)`` ``"A"``; an oblique ``(0.2, 0, -0.98)`` is ``"IL"``.
    Components whose share of the unit vector is below ``threshold`` are left out.
    """
    unit = np.asarray(vector, dtype=np.float64)
    unit = unit / np.linalg.norm(unit)
    order = np.argsort(-np.abs(unit), kind="stable")
    return "".join(_LETTERS[axis][0 if unit[axis] > 0 else 1] for axis in order
                   if abs(unit[axis]) >= threshold)


@dataclass(frozen=True)
class View:
    """One plane, ready to draw.

    Attributes
    ----------
    plane
        ``"axial"``, ``"coronal"`` or ``"sagittal"``: the anatomical plane it is closest to.
    image
        2-D (or rows × columns × RGB) in screen order: first axis down, second to the right.
    pixel_size
        (height, width) of a pixel in mm.
    labels
        Patient directions at the ``"top"``, ``"bottom"``, ``"left"`` and ``"right"`` edges.
    axis, index
        The array axis cut across and where (the plane is ``array.take(index, axis)``).
    """

    plane: str
    image: NDArray[Any]
    pixel_size: tuple[float, float]
    labels: dict[str, str]
    axis: int
    index: int


def display_plane(volume: Volume, axis: int, index: int | None = None) -> View:
    """Cut ``volume`` across array ``axis`` (0 slice, 1 row, 2 column) at ``index`` (default:
    the middle) and orient it for display."""
    n = volume.shape[axis]
    index = n // 2 if index is None else index
    image = np.take(volume.array, index, axis=axis)
    first, second = [a for a in range(3) if a != axis]
    steps = volume.affine[:3, :3]
    units = steps / np.linalg.norm(steps, axis=0)
    normal = np.cross(units[:, first], units[:, second])
    plane, right, down = _SCREEN[int(np.argmax(np.abs(normal)))]
    right_v, down_v = np.asarray(right), np.asarray(down)

    # Which in-plane axis goes across the screen: the assignment closest to the convention.
    keep = abs(units[:, second] @ right_v) + abs(units[:, first] @ down_v)
    swap = abs(units[:, first] @ right_v) + abs(units[:, second] @ down_v)
    vertical, horizontal = (second, first) if swap > keep else (first, second)
    if swap > keep:
        image = np.swapaxes(image, 0, 1)
    screen_down = units[:, vertical]
    screen_right = units[:, horizontal]
    if screen_down @ down_v < 0:
        image, screen_down = image[::-1], -screen_down
    if screen_right @ right_v < 0:
        image, screen_right = image[:, ::-1], -screen_right
    spacing = np.linalg.norm(steps, axis=0)
    labels = {"right": direction_letters(screen_right), "left": direction_letters(-screen_right),
              "bottom": direction_letters(screen_down), "top": direction_letters(-screen_down)}
    return View(plane, image, (float(spacing[vertical]), float(spacing[horizontal])), labels,
                axis, index)


def mid_planes(volume: Volume) -> list[View]:
    """The three mid-planes, ordered axial, coronal, sagittal (as close as the volume allows)."""
    views = [display_plane(volume, axis) for axis in range(3)]
    order = {"axial": 0, "coronal": 1, "sagittal": 2}
    return sorted(views, key=lambda v: order[v.plane])


@dataclass(frozen=True)
class Window:
    """Grey levels: ``low`` is drawn black and ``high`` white (reversed when ``invert``)."""

    low: float
    high: float
    source: str
    invert: bool = False

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    @property
    def width(self) -> float:
        return self.high - self.low


def choose_window(volume: Volume, sample: int = 1_000_000) -> Window:
    """The display window of a (rescaled) volume.

    CT: the header's WindowCenter/WindowWidth when present, else :data:`CT_WINDOW`, in HU.
    Other modalities: the 0.5 and 99.5 percentiles (of at most ``sample`` voxels, evenly
    strided). MONOCHROME1 sets ``invert``.
    """
    metadata = volume.metadata
    invert = metadata.get("PhotometricInterpretation") == "MONOCHROME1"
    if metadata.get("Modality") == "CT":
        centre, width = metadata.get("WindowCenter"), metadata.get("WindowWidth")
        if isinstance(centre, (int, float)) and isinstance(width, (int, float)) and width > 0:
            return Window(centre - width / 2, centre + width / 2,
                          f"CT window from the header (L {centre:g}, W {width:g} HU)", invert)
        centre, width = CT_WINDOW
        return Window(centre - width / 2, centre + width / 2,
                      f"CT soft-tissue window (L {centre:g}, W {width:g} HU)", invert)
    values = volume.array.reshape(-1)
    values = values[:: max(1, values.size // sample)]
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return Window(0.0, 1.0, "no finite value", invert)
    low, high = (float(v) for v in np.percentile(finite, _PERCENTILES))
    if high <= low:
        high = low + 1
    return Window(low, high, f"percentiles {_PERCENTILES[0]:g}–{_PERCENTILES[1]:g}", invert)


def _fit(ax: Any, width: float, height: float, pad: float) -> None:
    """Show ``width`` × ``height`` mm (plus ``pad`` around) centred in the panel, with equal
    millimetres across and down, filling the panel whatever its shape."""
    box = ax.get_position()
    figure_width, figure_height = ax.figure.get_size_inches()
    box_width, box_height = box.width * figure_width, box.height * figure_height
    mm_per_inch = max((width + 2 * pad) / box_width, (height + 2 * pad) / box_height)
    half_x, half_y = box_width * mm_per_inch / 2, box_height * mm_per_inch / 2
    ax.set_xlim(width / 2 - half_x, width / 2 + half_x)
    ax.set_ylim(height / 2 + half_y, height / 2 - half_y)
    ax.set_aspect("equal", adjustable="box")


def preview_format(path: str | os.PathLike[str]) -> str:
    """The image format the ending of ``path`` names (any case): ``"png"``, ``"jpeg"``...

    Raises
    ------
    ValueError
        The ending is none of :data:`PREVIEW_FORMATS`: the message lists them.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in PREVIEW_FORMATS:
        raise ValueError(f"{os.fspath(path)!r} does not end as an image dicomio writes: "
                         f"{', '.join(PREVIEW_FORMATS)}")
    return PREVIEW_FORMATS[suffix]


def render_preview(
    volume: Volume, path: str | os.PathLike[str], *, title: str | None = None, dpi: int = 120,
    window: Window | None = None,
) -> Path:
    """Draw the three mid-planes of ``volume`` into an image at ``path`` (written atomically),
    in the format its ending names (:func:`preview_format`).

    Parameters
    ----------
    volume
        The volume to draw.
    path
        The file to write: ``.png``, ``.jpg``, ``.tif``, ``.webp``, ``.pdf`` or ``.svg``.
    title
        Above the planes; default: the SeriesDescription.
    dpi
        Resolution of the 12 × 4.8 inch figure.
    window
        The grey levels; default: :func:`choose_window`'s.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        ``path`` does not end as a format of :data:`PREVIEW_FORMATS`.
    ImportError
        matplotlib is not installed (the ``plot`` extra: the message says how to install it).
    """
    image_format = preview_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"preview needs matplotlib: {pip_install('plot')}") from None
    from dicomio.io.atomic import write_bytes_atomically

    views = mid_planes(volume)
    window = choose_window(volume) if window is None else window
    colour = volume.array.ndim == 4
    widths = [v.image.shape[1] * v.pixel_size[1] for v in views]
    heights = [v.image.shape[0] * v.pixel_size[0] for v in views]
    figure = Figure(figsize=(12, 4.8), facecolor="black")
    FigureCanvasAgg(figure)
    # Panels as wide as their image's aspect asks, but never slivers (a 4-slice stack).
    ratios = [max(w / h, 0.4) for w, h in zip(widths, heights, strict=True)]
    axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": ratios})
    figure.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.08, wspace=0.06)
    for ax, view, width, height in zip(axes, views, widths, heights, strict=True):
        ax.set_facecolor("black")
        ax.imshow(view.image, cmap=None if colour else ("gray_r" if window.invert else "gray"),
                  vmin=None if colour else window.low, vmax=None if colour else window.high,
                  extent=(0, width, height, 0), interpolation="nearest")
        pad = 0.09 * max(width, height)  # room around the image for the direction labels
        _fit(ax, width, height, pad)
        ax.set_axis_off()
        along = ("slice", "row", "column")[view.axis]
        ax.set_title(f"{view.plane}: {along} {view.index} of {volume.shape[view.axis]}",
                     color="white", fontsize=10)
        # Each label just outside the middle of its edge, a few points away from the image.
        for edge, anchor, offset, align in [
            ("top", (width / 2, 0), (0, 4), {"ha": "center", "va": "bottom"}),
            ("bottom", (width / 2, height), (0, -4), {"ha": "center", "va": "top"}),
            ("left", (0, height / 2), (-4, 0), {"ha": "right", "va": "center"}),
            ("right", (width, height / 2), (4, 0), {"ha": "left", "va": "center"}),
        ]:
            ax.annotate(view.labels[edge], anchor, xytext=offset, textcoords="offset points",
                        color="yellow", fontsize=12, fontweight="bold", **align)
    spacing = " × ".join(f"{v:.3g}" for v in volume.spacing)
    shape = "×".join(str(n) for n in volume.shape)
    figure.suptitle(title or str(volume.metadata.get("SeriesDescription") or ""),
                    color="white")
    figure.text(0.5, 0.02, f"{volume.metadata.get('Modality') or '?'}  {shape}  "
                           f"spacing {spacing} mm  ·  "
                           f"{'RGB' if colour else window.source}"
                           f"{' · MONOCHROME1 shown inverted' if window.invert else ''}",
                color="lightgrey", ha="center", fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=dpi, facecolor="black")
    return write_bytes_atomically(path, buffer.getvalue())
