"""``python -m dicomio`` runs the command line."""

from .cli import main

main()
