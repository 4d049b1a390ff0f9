"""Entry point for ``python -m partnerctl``."""

from partnerctl.cli import main

main()
