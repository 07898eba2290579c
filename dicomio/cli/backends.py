"""``dicomio backends``: which backends and decoders are installed."""

import dataclasses

from dicomio.backends.registry import BackendInfo
from dicomio.cli.app import app
from dicomio.cli.console import print_json, print_table, shown
from dicomio.cli.options import OutputFormat, TextOrJson

__all__ = ["backends_command"]


@app.command("backends")
def backends_command(
    output: OutputFormat = TextOrJson.text,
) -> None:
    """List every backend (installed or not), what it decodes, and the installed decoders."""
    from dicomio.backends.registry import describe_backends
    from dicomio.pixels.decoders import decodable_syntaxes

    infos = describe_backends()
    decoders = decodable_syntaxes()
    if output is TextOrJson.json:
        print_json({"backends": [dataclasses.asdict(info) for info in infos],
                    "decoders": decoders})
        return
    _print_backends(infos, decoders)


def _print_backends(infos: list[BackendInfo], decoders: dict[str, list[str]]) -> None:
    """Two tables: the backends, then which of them decodes each transfer syntax."""
    from rich.table import Table

    from dicomio.dicom.transfer_syntax import TRANSFER_SYNTAXES

    table = Table(title="Backends (auto tries them in this order)", title_justify="left")
    for column in ("backend", "installed", "version", "install", "reads with"):
        table.add_column(column, overflow="fold")
    for info in sorted(infos, key=lambda i: i.auto_rank or len(infos) + 1):
        table.add_row(shown(info.name), "yes" if info.installed else "[red]no[/]",
                      shown(info.version or "-"),
                      shown(info.install) if info.extra else "included", shown(info.summary))
    print_table(table)

    syntaxes = Table(title="Transfer syntaxes each backend decodes", title_justify="left")
    syntaxes.add_column("transfer syntax", overflow="fold")
    for info in infos:
        syntaxes.add_column(shown(info.name), justify="center")
    syntaxes.add_column("installed decoders", overflow="fold")
    for uid, syntax in TRANSFER_SYNTAXES.items():
        if not syntax.supported:
            continue
        marks = ["yes" if uid in info.transfer_syntaxes else "-" for info in infos]
        used = decoders.get(uid)
        listed = "native" if used == [] else shown(", ".join(used)) if used else "[red]none[/]"
        syntaxes.add_row(f"{syntax.name} ({uid})", *marks, listed)
    print_table(syntaxes)
