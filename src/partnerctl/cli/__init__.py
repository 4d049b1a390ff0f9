"""The command line: the Typer app and its entry point (the top layer: may import every other layer)."""

from partnerctl.cli.commands import app, main

__all__ = ["app", "main"]
