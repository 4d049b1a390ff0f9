"""Entry point for ``python -m partnerctl`` and the ``partnerctl`` console script."""

import partnerctl


def main() -> None:
    """Run the command line, importing only the invoked command's module (``partnerctl.lean_start``)."""
    partnerctl.lean_start = True
    from partnerctl.cli.app import main as run

    run()


if __name__ == "__main__":
    main()
