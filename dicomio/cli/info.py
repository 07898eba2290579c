"""``dicomio info``: the series and skipped files under some paths."""

from collections.abc import Sequence
from pathlib import Path
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
    progress_enabled,
    shown,
    status,
)
from dicomio.cli.formatting import SIZE_HEADER, format_size, format_spacing, syntax_names
from dicomio.cli.loading import FollowSymlinks
from dicomio.cli.options import OutputFormat, Quiet, ShowProgress, TextOrJson, existing
from dicomio.cli.web import takes_dicomweb
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory
from dicomio.series.layout import lay_out

__all__ = ["info"]


@app.command()
@takes_dicomweb
def info(
    path: Annotated[list[Path], typer.Argument(
        callback=existing, help="Folder(s), file(s) or DICOMweb URL(s).")],
    output: OutputFormat = TextOrJson.text,
    quiet: Quiet = False,
    progress: ShowProgress = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """List the series under PATH, then every skipped file with its reason.

    Exit 0 when at least one series was found, 1 when none was, 2 on usage errors, 3 when
    dicomio failed unexpectedly.
    """
    from dicomio.series.choose import scan
    from dicomio.series.summary import describe_inventory

    with exit_on_error():
        with status("scanning", progress_enabled(progress, quiet)):
            found, inventory = scan(path, follow_symlinks=follow_symlinks, headers_only=True)
        if output is TextOrJson.json:
            print_json(describe_inventory(found, inventory))
        else:
            _print_inventory(found, inventory, quiet)
    raise typer.Exit(EXIT_OK if found else EXIT_FINDINGS)


def _issues(series: SeriesInfo) -> list[str]:
    """The codes of what is wrong with a series' geometry, as validate names them: of each
    volume, for a 4-D series (its repeated positions are its volumes, not an issue); for
    images at repeated positions that are no 4-D series, only that (taken as one stack they are
    no volume, whose shear or gaps would mean anything)."""
    layout = lay_out(series)
    if layout.conflict is not None:
        return ["FOUR_D_INCONSISTENT_ORDER"]
    if layout.kind == "repeated":
        return ["DUPLICATE_POSITION"]
    geometry = layout.geometry
    return [] if geometry is None else [i.code for i in geometry.issues if i.severity != "info"]


def _print_inventory(found: Sequence[SeriesInfo], inventory: Inventory, quiet: bool) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in [("#", "right"), ("number", "right"), ("description", "left"),
                          ("mod", "left"), (SIZE_HEADER, "right"),
                          ("transfer syntax", "left"), ("spacing mm (slice, row, col)", "left"),
                          ("orientation", "left"), ("SeriesInstanceUID", "left")]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for index, series in enumerate(found):
        orientation = series.orientation_label
        issues = _issues(series)
        if issues:
            orientation += " [yellow]" + ",".join(issues) + "[/]"
        table.add_row(str(index), "" if series.number is None else str(series.number),
                      shown(series.description), shown(series.modality), format_size(series),
                      shown(syntax_names(series)), format_spacing(series.spacing), orientation,
                      shown(series.key))
    if found:
        print_table(table)
    else:
        out.print("[bold red]no DICOM series found[/]")
    if inventory.skipped:
        out.print(f"skipped {len(inventory.skipped)} file(s):")
        for skipped in inventory.skipped:
            colour = "red" if skipped.category == "unreadable" else "dim"
            out.print(f"  [{colour}]{skipped.category:<13}[/] {shown(str(skipped.path))}: "
                      f"{shown(skipped.reason)}")
    elif not quiet:
        out.print("[dim]no file skipped[/]")
