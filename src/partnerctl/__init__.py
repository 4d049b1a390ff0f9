"""partnerctl: query and edit a registry of a city's international partnerships."""

__version__ = "0.1.0"
