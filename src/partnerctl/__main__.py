"""Entry point for ``python -m partnerctl`` and the ``partnerctl`` console script."""

import partnerctl


def main() -> None:
    """Run the command line, importing only the invoked command's module (``partnerctl.lean_start``)."""
    import gc

    partnerctl.lean_start = True
    # Start-up allocates tens of thousands of long-lived objects (modules, functions, classes) and
    # none of them are garbage: collecting while importing only costs time (a few ms of every run).
    gc.disable()
    from partnerctl.cli.app import main as run

    run(ready=gc.enable)


if __name__ == "__main__":
    main()
