"""Which registry file, and reading it: the read side's first step, without the write pipeline.

``store`` (the write pipeline) uses the same functions; a read that the index
answers imports this module and never ``store``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, NamedTuple

from partnerctl.core.errors import RegistryInvalid
from partnerctl.core.i18n import _


def bundled_path() -> Path:
    """The Lyon registry shipped with the package (read-only)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "registry.toml"
    # In a source checkout (editable install) the file is the repository's own.
    return installed if installed.exists() else package.parents[1] / "data" / "registry.toml"


class Location(NamedTuple):
    """A registry file, whether it is the read-only bundled one, and what named it (for messages)."""

    path: Path
    bundled: bool = False
    source: str = ""


def locate(explicit: Path | None, source: str = "--registry") -> Location:
    """Which registry: the nearest choice wins.

    *explicit* (``--registry`` / ``$PARTNERCTL_REGISTRY``, named by *source*), else
    the ``registry`` setting of the repository's ``partnerctl.toml`` (nearest folder
    up), else ./data/registry.toml, else the ``registry`` setting of the user's
    config.toml, else the bundled sample (``storage.config``).
    """
    from partnerctl.storage import config

    if explicit is not None:
        return Location(explicit, source=source)
    settings = config.load()
    chosen = settings.get("registry")
    repository = chosen is not None and chosen.source.name == config.REPOSITORY_FILE
    if chosen is not None and repository:
        return Location(Path(chosen.value), source=_("the registry setting in {file}").format(file=chosen.source))
    local = Path("data/registry.toml")
    if local.exists():
        return Location(local, source="./data/registry.toml")
    if chosen is not None:
        return Location(Path(chosen.value), source=_("the registry setting in {file}").format(file=chosen.source))
    return Location(bundled_path(), bundled=True, source=_("the default"))


def not_found(loc: Location) -> RegistryInvalid:
    """The error for a registry that is not there: which setting named it, and how to make one."""
    named = _("named by {source}; ").format(source=loc.source) if loc.source else ""
    return RegistryInvalid(_("registry not found: {path} ({named}create it with: partnerctl init {path} "
                             "--sample, or --owner CITY --country COUNTRY)").format(path=loc.path, named=named))


def check_exists(loc: Location) -> None:
    """RegistryInvalid (``not_found``) when there is no file at *loc*."""
    if not loc.bundled and not os.path.exists(loc.path):
        raise not_found(loc)


def read_text(path: Path) -> str:
    """The registry's text; an unreadable file is a RegistryInvalid (exit 3)."""
    return decode(read_file(path)[0], path)


def read_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The registry's bytes and the stat of that same open file (the index's key needs both)."""
    with open_file(path) as f:
        return read_open(f, path)


def open_file(path: Path) -> BinaryIO:
    """The registry opened for reading (a read through a current index needs only its stat)."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise RegistryInvalid(_("registry not found: {path} (name one with --registry PATH)").format(
            path=path)) from None
    except OSError as exc:
        raise RegistryInvalid(_("cannot read registry {path}: {strerror}").format(
            path=path, strerror=exc.strerror)) from None


def read_open(f: BinaryIO, path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of the registry opened as *f*, and its stat after reading them."""
    try:
        return f.read(), os.fstat(f.fileno())
    except OSError as exc:
        raise RegistryInvalid(f"cannot read registry {path}: {exc.strerror}") from None


def decode(data: bytes, path: Path) -> str:
    """The registry's bytes as text; not UTF-8 is a RegistryInvalid (exit 3)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryInvalid(_("{path}: not UTF-8 text (byte {start})").format(path=path, start=exc.start)) from None
