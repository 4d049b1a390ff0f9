"""The command line, the top layer (it may import every other layer).

Importing it registers every command on the one Typer ``app`` (``load_all``):
one module per noun (reads, partnerships, events, contacts, vocabularies,
exchange, registry, editor), each a thin layer over the core and the storage.
The console script is the exception (``partnerctl.lean_start``): it imports
only the module of the command it runs (``app.main``), for start-up time.
"""

import partnerctl
from partnerctl.cli.app import app, main


def load_all() -> None:
    """Register every command: import the module of each noun."""
    from partnerctl.cli import (  # noqa: F401 - imported for the commands they register
        contacts,
        editor,
        events,
        exchange,
        figures,
        history,
        partnerships,
        publish,
        reads,
        registry,
        relations,
        show,
        vocabularies,
    )


if not partnerctl.lean_start:
    load_all()

__all__ = ["app", "load_all", "main"]
