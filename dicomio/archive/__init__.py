"""Whole archives: validate and convert every series, in parallel or on a Dask cluster.

Two steps (see :mod:`~dicomio.archive.plan`): a cheap planning step reads headers only and
makes one job per SeriesInstanceUID; each job is then a pure function of its files, run by an
executor (:mod:`~dicomio.archive.executors`): in this process, in a pool of processes, or on the
workers of a ``dask.distributed`` cluster. Results are collected in a fixed order, so a serial
run, a parallel one and a Dask one give the same report. Nothing here imports Dask until a
scheduler is asked for.
"""

from dicomio.archive.conversion import ConversionReport, ConvertTask, convert_archive, convert_plan
from dicomio.archive.executors import open_executor
from dicomio.archive.plan import ArchivePlan, SeriesJob, plan_archive
from dicomio.archive.validation import ValidateTask, validate_archive, validate_plan
from dicomio.parallel import usable_cores

__all__ = [
    "ArchivePlan",
    "ConversionReport",
    "ConvertTask",
    "SeriesJob",
    "ValidateTask",
    "convert_archive",
    "convert_plan",
    "open_executor",
    "plan_archive",
    "usable_cores",
    "validate_archive",
    "validate_plan",
]
