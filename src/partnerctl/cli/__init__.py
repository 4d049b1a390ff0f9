"""The command line, the top layer (it may import every other layer).

Importing it registers every command on the one Typer ``app``: one module per
noun (reads, partnerships, events, contacts, vocabularies, exchange, registry,
editor), each a thin layer over the core and the storage.
"""

from partnerctl.cli import (  # noqa: F401 - imported for the commands they register
    contacts,
    editor,
    events,
    exchange,
    history,
    partnerships,
    reads,
    registry,
    vocabularies,
)
from partnerctl.cli.app import app, main

__all__ = ["app", "main"]
