"""The pure core: the model, dates, names, questions and changes. No I/O, no terminal, no Typer or Rich."""

from __future__ import annotations

from typing import Any

# What the storage layer keeps between runs for the core, by name (``storage/kept.py``): set there,
# read where the core builds the table (``countries._countries``), so registering imports nothing.
KEEPERS: dict[str, Any] = {}
