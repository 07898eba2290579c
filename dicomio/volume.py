"""Volume: a NumPy array, the affine that places it in patient space, and its provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # for the annotation only: backends sit above this module
    from dicomio.backends.base import ReportedGeometry

__all__ = ["Provenance", "Volume", "Volume4D"]


@dataclass(frozen=True)
class Provenance:
    """How a volume was obtained.

    Attributes
    ----------
    backend
        The backend that read the pixels.
    decoders
        The decoders used (``"native"`` for uncompressed data).
    transfer_syntaxes
        Transfer syntax UIDs of the files.
    files
        The files, in slice order.
    warnings
        Everything noticed while loading (dropped duplicates, accepted irregular geometry, ...).
    skipped_backends
        ``(backend, reason)`` for each backend ``auto`` passed over.
    series_uid
        SeriesInstanceUID (with ``#stack`` when the series held several stacks).
    reported_geometry
        The geometry the backend's toolkit itself gives these slices, as a
        :class:`dicomio.backends.base.ReportedGeometry` in the contract's axis order:
        SimpleITK's origin, spacing and direction, VTK's origin and spacing (it has no
        direction), the position pydicom reads from each file, dcm2niix's sform and where it
        puts each slice. The volume's affine never comes from it (it comes from the headers);
        ``dicomio compare`` measures how far apart the two place the voxels. None when the
        backend reports none (``direct``); when the images it read are not the volume's slices
        one for one (mosaic tiles; the images of a 4-D series, unless the toolkit placed the
        slices of one volume itself, as dcm2niix does); and after ``irregular="resample"``
        changed the grid, as it would describe the slices before resampling.
    conventions
        The vendor conventions applied to the series, each in a sentence
        (:mod:`dicomio.series.vendor`: a GE ``epi_pepolar`` polarity whose rows were flipped
        back, images of different kinds split into stacks, Philips private scaling...). They
        are among the ``warnings`` too.
    """

    backend: str
    decoders: tuple[str, ...]
    transfer_syntaxes: tuple[str, ...]
    files: tuple[Path, ...]
    warnings: tuple[str, ...] = ()
    skipped_backends: tuple[tuple[str, str], ...] = ()
    series_uid: str = ""
    reported_geometry: ReportedGeometry | None = None
    conventions: tuple[str, ...] = ()


class _Placed:
    """An array and its affine; geometry derived from the affine, the single truth (shared by
    3-D and 4-D volumes)."""

    array: NDArray[Any]
    affine: NDArray[np.float64]

    def _validate(self, dimensions: tuple[int, int], what: str) -> None:
        # ``ndim`` and ``shape`` only: a lazy (Dask) array is not computed.
        self.affine = np.asarray(self.affine, dtype=np.float64)
        if self.affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, not {self.affine.shape}")
        if self.array.ndim not in dimensions:
            raise ValueError(f"array must be {what}, not {self.array.ndim}-D")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.array.dtype

    def _describe(self, name: str, extra: str = "") -> str:
        backend = self.provenance.backend if self.provenance else "?"  # type: ignore[attr-defined]
        spacing = ", ".join(f"{v:.4g}" for v in self.spacing)
        return (f"{name}(shape={self.shape}, dtype={self.dtype}, spacing=({spacing}) mm, "
                f"{extra}backend={backend!r})")

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along (slice, row, column)."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin(self) -> tuple[float, float, float]:
        """LPS position (mm) of the centre of voxel (0, 0, 0)."""
        x, y, z = self.affine[:3, 3]
        return (float(x), float(y), float(z))

    @property
    def direction(self) -> NDArray[np.float64]:
        """3×3 matrix whose columns are the unit LPS directions of the (slice, row, column)
        axes."""
        matrix = self.affine[:3, :3]
        return matrix / np.linalg.norm(matrix, axis=0)

    def index_to_lps(self, index: Any) -> NDArray[np.float64]:
        """LPS mm of voxel index/indices ``(k, j, i)`` (shape (..., 3))."""
        points = np.asarray(index, dtype=np.float64)
        return points @ self.affine[:3, :3].T + self.affine[:3, 3]

    def lps_to_index(self, point: Any) -> NDArray[np.float64]:
        """Continuous voxel index ``(k, j, i)`` of LPS point(s) (shape (..., 3))."""
        points = np.asarray(point, dtype=np.float64)
        inverse = np.linalg.inv(self.affine)
        return points @ inverse[:3, :3].T + inverse[:3, 3]


@dataclass(eq=False)
class Volume(_Placed):
    """A 3-D (or colour) image in the axis order of the contract, placed in patient space.

    Attributes
    ----------
    array
        Shape ``(slice, row, column)``, or ``(slice, row, column, sample)`` for colour; C order.
        A Dask array of the same shape, dtype and values when loaded with ``lazy=True`` (its
        shape is checked here without computing anything).
    affine
        4×4 float64 mapping an index ``(k, j, i, 1)`` to LPS millimetres at the voxel centre.
        The single truth of the geometry: ``spacing``, ``origin`` and ``direction`` derive
        from it.
    metadata
        Key attributes of the series (modality, description, rescale, window...).
    provenance
        Backend, decoders, transfer syntaxes, ordered files and warnings.
    slice_positions
        ImagePositionPatient of each slice, shape ``(slices, 3)``: where each slice really is
        (differs from the affine only when irregular geometry was accepted).
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None
    slice_positions: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        self._validate((3, 4), "3-D (or 4-D for colour)")

    def __repr__(self) -> str:
        return self._describe("Volume")

    # --- converters (dicomio.io.convert; each toolkit imported only when called) ---------------

    def to_sitk(self) -> Any:
        """A ``SimpleITK.Image`` with this geometry (see :func:`dicomio.io.convert.to_sitk`)."""
        from dicomio.io.convert import to_sitk

        return to_sitk(self)

    def to_vtk(self) -> Any:
        """A ``vtkImageData`` with its direction matrix (see :func:`dicomio.io.convert.to_vtk`)."""
        from dicomio.io.convert import to_vtk

        return to_vtk(self)

    def to_nibabel(self) -> Any:
        """A ``nibabel.Nifti1Image`` with the RAS affine (see
        :func:`dicomio.io.convert.to_nibabel`)."""
        from dicomio.io.convert import to_nibabel

        return to_nibabel(self)

    @classmethod
    def from_sitk(cls, image: Any) -> Volume:
        """A Volume from a 3-D ``SimpleITK.Image`` (see
        :func:`dicomio.io.convert.array_from_sitk`)."""
        from dicomio.io.convert import array_from_sitk

        return cls(*array_from_sitk(image))

    @classmethod
    def from_vtk(cls, image: Any) -> Volume:
        """A Volume from a ``vtkImageData`` (see :func:`dicomio.io.convert.array_from_vtk`)."""
        from dicomio.io.convert import array_from_vtk

        return cls(*array_from_vtk(image))

    @classmethod
    def from_nibabel(cls, image: Any) -> Volume:
        """A Volume from a 3-D nibabel image (see :func:`dicomio.io.convert.array_from_nibabel`)."""
        from dicomio.io.convert import array_from_nibabel

        return cls(*array_from_nibabel(image))


@dataclass(eq=False)
class Volume4D(_Placed):
    """Several volumes of the same slices (time points, diffusion directions...), stacked.

    Attributes
    ----------
    array
        Shape ``(volume, slice, row, column)`` (a trailing sample axis for colour); C order; a
        Dask array with ``lazy=True``.
    affine
        4×4 float64 mapping ``(k, j, i, 1)`` to LPS mm, shared by every volume.
    metadata, provenance
        As for :class:`Volume`; ``provenance.files`` is in (volume, slice) order.
    order_rule
        The key that put the volumes in order (``TemporalPositionIndex``, ``AcquisitionTime``,
        ``InstanceNumber``... see :mod:`dicomio.geometry.fourd`).
    volume_keys
        That key's value for each volume.
    slice_positions
        ImagePositionPatient of each slice (of every volume), shape ``(slices, 3)``.
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None
    order_rule: str = ""
    volume_keys: tuple[Any, ...] = ()
    slice_positions: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        self._validate((4, 5), "4-D (or 5-D for colour)")

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def __getitem__(self, t: int) -> Volume:
        """Volume ``t`` as a :class:`Volume` (its array is a view, not a copy)."""
        return Volume(self.array[t], self.affine, self.metadata, self.provenance,
                      self.slice_positions)

    def volumes(self) -> list[Volume]:
        """Every volume, in order, as :class:`Volume` views."""
        return [self[t] for t in range(len(self))]

    def __repr__(self) -> str:
        return self._describe("Volume4D", f"order={self.order_rule!r}, ")
