"""``python -m dicomio`` runs the command line."""

from dicomio.cli import main

main()
