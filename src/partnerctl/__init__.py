"""partnerctl: query and edit a registry of a city's international partnerships."""

__version__ = "0.1.0"

# Set by the console script (``partnerctl.__main__.main``) before it imports the command line:
# then ``partnerctl.cli`` registers only the invoked command's module instead of all of them.
lean_start = False
