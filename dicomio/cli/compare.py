"""``dicomio compare``: one series through every backend, side by side."""

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from dicomio.cli.app import app
from dicomio.cli.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    exit_on_error,
    out,
    print_json,
    print_table,
    progress_bar,
    progress_enabled,
    shown,
    status,
    usage_error,
)
from dicomio.cli.formatting import format_number, format_shape, format_spacing, series_line
from dicomio.cli.loading import FollowSymlinks, LoadOptions, choose, irregular_policy
from dicomio.cli.options import (
    AcceptIrregular,
    ExistingPath,
    IgnoreUnreadable,
    IrregularOption,
    Quiet,
    SeriesOption,
    ShowProgress,
    TextOrJson,
    finite,
)
from dicomio.cli.web import takes_dicomweb
from dicomio.compare.report import BackendResult, Comparison
from dicomio.compare.side_by_side import default_backends

__all__ = ["compare"]


#: The reference when --reference is not given, if it runs.
DEFAULT_REFERENCE = "pydicom"


def _backend_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        usage_error("--backends needs at least one name")
    return names


def _reference(given: str | None, names: list[str] | None) -> str:
    """The reference backend: ``--reference``, which must be among ``--backends``; by default
    pydicom, or the first of ``--backends`` when they leave it out."""
    from dicomio.backends.registry import get_spec

    if given is None:
        return DEFAULT_REFERENCE if names is None or DEFAULT_REFERENCE in names else names[0]
    with exit_on_error():  # an unknown name: exit 2, listing the backends
        get_spec(given)
    if names is not None and given not in names:
        usage_error(f"--reference {given} is not among --backends {','.join(names)}: add it "
                    f"to --backends, or leave --reference out (the reference is then "
                    f"{DEFAULT_REFERENCE if DEFAULT_REFERENCE in names else names[0]})")
    return given


@app.command()
@takes_dicomweb
def compare(
    path: ExistingPath,
    backends: Annotated[str | None, typer.Option(
        "--backends", "-b", help="Comma-separated backends (default: every registered one).")]
        = None,
    series: SeriesOption = None,
    reference: Annotated[str | None, typer.Option(
        show_default=False,
        help="Backend the others are compared with, one of --backends (if it fails: the first "
             "that succeeds) [default: pydicom, or the first of --backends without it].")]
        = None,
    raw: Annotated[bool, typer.Option("--raw", help="Compare stored values (no rescale).")]
        = False,
    tolerance: Annotated[float, typer.Option(
        min=0, callback=finite,
        help="Largest voxel difference still counted as agreement (lossy syntaxes).")]
        = 0.0,
    timeout: Annotated[float, typer.Option(
        min=0.1, callback=finite, help="Seconds each backend may take.")]
        = 300.0,
    strict_geometry: Annotated[bool, typer.Option(
        "--strict-geometry", help="Also fail when a toolkit's own geometry differs from "
        "dicomio's.")] = False,
    geometry_tolerance: Annotated[float, typer.Option(
        min=0, callback=finite,
        help="Largest distance (mm) between a toolkit's voxel centres and dicomio's still "
             "counted as the same geometry.")] = 1e-4,
    output: Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
        = TextOrJson.text,
    irregular: IrregularOption = None,
    accept_irregular: AcceptIrregular = False,
    ignore_unreadable: IgnoreUnreadable = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Read one series with each backend, each in its own process, and compare them (a 4-D
    series volume by volume). Irregular geometry is read as it lies (--irregular accept, the
    default here; raise or resample as in load): the geometric findings are listed above the
    table.

    Exit 0 when every backend that ran succeeded and agrees with the reference, 1 on any
    disagreement or failure (a crash or a timeout included), 2 on usage or I/O errors, 3 when
    dicomio failed unexpectedly.
    """
    from dicomio.cli.options import option_for
    from dicomio.compare.side_by_side import compare_series

    show = progress_enabled(progress, quiet)
    policy = irregular_policy(irregular, accept_irregular, default="accept")
    names = _backend_names(backends)
    chosen_reference = _reference(reference, names)
    with exit_on_error():
        with status(f"scanning {path}", show):
            chosen, _ = choose(path, LoadOptions(series, ignore_unreadable=ignore_unreadable,
                                                 follow_symlinks=follow_symlinks))
        with progress_bar("reading", len(names or default_backends()), show) as step:
            report = compare_series(chosen, names, reference=chosen_reference, rescale=not raw,
                                    irregular=policy, tolerance=tolerance, timeout=timeout,
                                    strict_geometry=strict_geometry,
                                    geometry_tolerance=geometry_tolerance, on_backend=step,
                                    name_remedy=option_for)
        if output is TextOrJson.json:
            print_json(report.to_dict())
        else:
            _print_comparison(report, quiet)
    raise typer.Exit(EXIT_OK if report.agree else EXIT_FINDINGS)


def _print_volumes(row: BackendResult, quiet: bool) -> None:
    """A 4-D series compared volume by volume: which volumes differ, and by how much."""
    differing = row.differing_volumes
    if not row.volume_differences or (quiet and not differing):
        return
    count = len(row.volume_differences)
    if not differing:
        out.print(f"{row.backend}: all {count} volumes equal")
        return
    listed = ", ".join(f"{v.volume} (max |Δ| {v.max_abs_diff:g}, {v.differing_voxels} "
                       f"voxels)" for v in differing)
    out.print(f"[yellow]{row.backend}[/]: {len(differing)} of {count} volumes differ: {listed}")


_STATUS_STYLE = {"ok": "green", "failed": "bold red", "unsupported": "yellow",
                 "not installed": "dim"}


def _slice_order(order: str | None) -> str:
    """The slice order a toolkit's geometry implies, highlighted unless it is dicomio's."""
    if order is None:
        return "—"
    return order if order == "same" else f"[yellow]{order}[/]"


def _print_comparison(report: Comparison, quiet: bool) -> None:
    if not quiet:
        out.print(shown(series_line(report.series)))
        for issue in report.series.issues:
            if issue.severity != "info":
                out.print(f"  [yellow]{issue.code}[/]: {shown(issue.message)}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("backend", "status", "seconds", "dtype", "shape", "max |Δ|", "voxels ≠",
                 "affine Δ mm", "toolkit geometry Δ mm", "toolkit slices"):
        table.add_column(name, justify="left" if name in ("backend", "status") else "right")
    for row in report.results:
        style = _STATUS_STYLE[row.status]
        if row.backend == report.reference:
            label = f"{row.backend} [dim](reference)[/]"
        else:
            label = row.backend
        verdict = "" if row.status != "ok" else (
            " [green]✓[/]" if row.disagreement is None else " [bold red]✗[/]")
        toolkit = "—" if row.reported_diff_mm is None else (
            f"{row.reported_diff_mm:.3g}" if row.reported_agrees
            else f"[yellow]{row.reported_diff_mm:.3g}[/]")
        table.add_row(
            label, f"[{style}]{row.status}[/]{verdict}",
            format_number(row.seconds, ".3f"), row.dtype or "—", format_shape(row.shape),
            format_number(row.max_abs_diff, "g"), format_number(row.differing_voxels, "d"),
            format_number(row.affine_diff_mm, ".2g"), toolkit,
            _slice_order(row.reported_slice_order))
    print_table(table)
    for row in report.results:
        if row.reason and (row.status == "failed" or not quiet):
            style = _STATUS_STYLE[row.status]
            out.print(f"[{style}]{row.backend}[/]: {shown(row.reason)}")
        if row.disagreement:
            out.print(f"[bold red]{row.backend} disagrees[/]: {shown(row.disagreement)}")
        _print_volumes(row, quiet)
        if row.reported_agrees is False:
            reported = row.reported
            origin = format_spacing(reported.origin if reported else None)
            spacing = format_spacing(reported.spacing if reported else None)
            direction = "" if reported is None or reported.has_direction else ", no direction"
            out.print(f"[yellow]{row.backend}[/]: the geometry the toolkit itself reports "
                      f"moves voxels by up to {row.reported_diff_mm:.3g} mm from dicomio's "
                      f"(origin {origin}, spacing {spacing}{direction}; slices "
                      f"{row.reported_slice_order or '—'})")
    ran = report.ran
    if report.agree:
        count = sum(r.status == "ok" for r in ran)
        note = " (nothing to compare with)" if count == 1 else ""
        out.print(f"[bold green]agree[/]: {count} backend(s) read the series and agree with "
                  f"{report.reference}{note}")
    elif not any(r.status == "ok" for r in ran):
        out.print("[bold red]no backend could read the series[/]")
    else:
        out.print("[bold red]disagree[/]: see above")
