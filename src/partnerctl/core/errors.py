"""Typed errors of the core, each carrying the exit code the CLI reports.

Exit codes (documented in the README):
0 ok; 1 not found or ambiguous; 2 usage error or invalid input;
3 the registry file is unreadable or invalid; 4 the registry or an output could not be
written (an output that fails after a write landed is reported, with exit 0: the
registry did change).
"""

from __future__ import annotations

from typing import NamedTuple

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_REGISTRY = 3
EXIT_WRITE = 4


class Problem(NamedTuple):
    """One problem found in a registry: where it is and what is wrong."""

    where: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        place = f"{self.where}:{self.line}" if self.line else self.where
        return f"{place}: {self.message}"


class PartnerctlError(Exception):
    """Base of every error the CLI turns into a one-line message and an exit code."""

    exit_code = EXIT_USAGE


class NotFound(PartnerctlError):
    """A partner, event or contact that does not exist."""

    exit_code = EXIT_NOT_FOUND


class Ambiguous(PartnerctlError):
    """Input that matches more than one partnership."""

    exit_code = EXIT_NOT_FOUND


class InvalidInput(PartnerctlError):
    """A value given on the command line that the model refuses."""

    exit_code = EXIT_USAGE


class RegistryInvalid(PartnerctlError):
    """The registry file cannot be read, parsed or validated."""

    exit_code = EXIT_REGISTRY

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class WriteFailed(PartnerctlError):
    """The registry could not be written (read-only, bundled, locked, disk error)."""

    exit_code = EXIT_WRITE


class PackageDataMissing(PartnerctlError):
    """Data partnerctl reads from an installed package (the country tables, the gazetteer, the world
    map) is missing or unreadable: a broken installation, reported like an unreadable registry (exit 3:
    the data a command needs cannot be read)."""

    exit_code = EXIT_REGISTRY


class OutputFailed(PartnerctlError):
    """stdout could not be written: a full disk, a closed descriptor, a reader that left (*broken_pipe*)."""

    exit_code = EXIT_WRITE

    def __init__(self, message: str, *, broken_pipe: bool = False) -> None:
        super().__init__(message)
        self.broken_pipe = broken_pipe


class Reported(PartnerctlError):
    """A failure the command has already reported in full (``validate``'s problems, ``fmt --check``'s
    verdict): only its exit code is left to give, with no further line."""

    def __init__(self, exit_code: int) -> None:
        super().__init__("")
        self.exit_code = exit_code


# The registry's history (storage/history.py: git; storage/files.py: the undo journal).

class HistoryError(PartnerctlError):
    """Base of the errors of the registry's history (each with its exit code; one stderr line in cli.app)."""


class NotARepository(HistoryError):
    """No git on this machine, or the registry is not in a git work tree."""

    exit_code = EXIT_USAGE


class GitFailed(HistoryError):
    """Git ran but could not read the history (a damaged repository, an object missing)."""

    exit_code = EXIT_REGISTRY


class UnknownRevision(HistoryError):
    """A revision (``HEAD~2``, a tag, a commit id) that the repository does not have."""

    exit_code = EXIT_NOT_FOUND


class NothingToUndo(HistoryError):
    """The journal holds no previous version of the registry."""

    exit_code = EXIT_NOT_FOUND


class ChangedSinceWrite(HistoryError):
    """The registry is no longer what partnerctl's last journalled write made it: undo would lose a change."""

    exit_code = EXIT_WRITE
