"""The start-up floor: a bare Typer app with one command that prints a small JSON object.

Everything partnerctl does on top of this is its own cost (see benchmarks/run.py).
"""

import json

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main() -> None:
    """Print a small JSON object."""
    print(json.dumps({"ok": True, "name": "bare"}))


if __name__ == "__main__":
    app()
