"""The core layer: what partnerctl knows and decides, with no terminal, file format or storage in it."""
