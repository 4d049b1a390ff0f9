"""Settings: the user's config file and the repository's ``partnerctl.toml``, merged.

Two TOML files may hold settings, the nearer one winning:

- ``partnerctl.toml`` in the current folder or the nearest folder above it (as
  git finds ``.git``): the settings of a team's repository, committed with it;
- the user's ``config.toml`` in the platform's config folder
  (``$XDG_CONFIG_HOME/partnerctl/``, default ``~/.config/partnerctl/``).

Each is a table of settings: ``registry`` (the default registry; a relative
path is relative to the file that names it), ``lang``, ``templates`` and a
``[site]`` table for the exported site. ``Settings.get`` says the value and
which file set it, so a message can say where a setting came from. A file that
cannot be read or parsed is a ``RegistryInvalid`` naming it (exit 3): a
setting silently ignored would send writes to the wrong registry.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from partnerctl.core.errors import RegistryInvalid, WriteFailed
from partnerctl.core.i18n import _

REPOSITORY_FILE = "partnerctl.toml"
USER_FILE = "config.toml"


def user_config_path() -> Path | None:
    """``$XDG_CONFIG_HOME/partnerctl/config.toml``, else ``~/.config/partnerctl/config.toml`` (None: no home)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if os.path.isabs(base):
        return Path(base) / "partnerctl" / USER_FILE
    try:
        return Path.home() / ".config" / "partnerctl" / USER_FILE
    except (RuntimeError, KeyError):
        return None


def repository_config_path(start: Path | None = None) -> Path | None:
    """The nearest ``partnerctl.toml`` in *start* (default: the current folder) or a folder above it."""
    try:
        here = (start or Path.cwd()).resolve()
    except OSError:
        return None
    for folder in (here, *here.parents):
        candidate = folder / REPOSITORY_FILE
        if candidate.is_file():
            return candidate
    return None


class Setting(NamedTuple):
    """A setting's value and the file that set it."""

    value: Any
    source: Path


class Settings:
    """The settings of the files found, the nearer first (the repository's, then the user's)."""

    # A plain class: every command reads the settings, and declaring a dataclass costs more than it.
    def __init__(self, files: list[tuple[Path, dict[str, Any]]] | None = None) -> None:
        self.files = files if files is not None else []

    def get(self, name: str) -> Setting | None:
        """The setting *name* from the nearest file that has it (a path made absolute from that file's folder)."""
        for path, data in self.files:
            if name in data:
                value = data[name]
                if name in ("registry", "templates") and isinstance(value, str):
                    value = (path.parent / value) if not os.path.isabs(value) else Path(value)
                return Setting(value, path)
        return None

    def table(self, name: str) -> dict[str, Any]:
        """A table of settings (``[site]``), the nearer file's keys winning over the farther's."""
        merged: dict[str, Any] = {}
        for _path, data in reversed(self.files):
            value = data.get(name)
            if isinstance(value, dict):
                merged.update(value)
        return merged

    def in_table(self, name: str, key: str) -> Setting | None:
        """Key *key* of the table *name* (``site.logo``) from the nearest file that has it."""
        for path, data in self.files:
            value = data.get(name)
            if isinstance(value, dict) and key in value:
                return Setting(value[key], path)
        return None


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only when a settings file exists: every run looks for one (cli/language.py)

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegistryInvalid(_("cannot read the settings in {path}: {exc}").format(path=path, exc=exc)) from None


def load(start: Path | None = None) -> Settings:
    """The settings in force in *start* (default: the current folder)."""
    found = []
    for path in (repository_config_path(start), user_config_path()):
        if path is not None and path.is_file():
            found.append((path, _read(path)))
    return Settings(found)


_REGISTRY_LINE = re.compile(r"(?m)^[ \t]*registry[ \t]*=.*\n?")


def set_registry(file: Path, registry: Path) -> None:
    """Make *file* (a settings file, created if missing) name *registry* as the default registry.

    Only the top-level ``registry = ...`` line is written: the file's other settings and
    comments stay as they are. A relative path is written relative to *file*'s folder
    (``Settings.get`` reads it so), as the path from there when the registry lies below.
    """
    from partnerctl.storage.files import read_text_to_change, write_atomic

    text = read_text_to_change(file)
    target = registry.resolve()
    try:
        shown = target.relative_to(file.parent.resolve()).as_posix()
    except ValueError:
        shown = str(target)
    line = f"registry = {json.dumps(shown, ensure_ascii=False)}\n"
    # Top-level keys come before the first table: the line replaces the one there, else goes first.
    first_table = re.search(r"(?m)^[ \t]*\[", text)
    top = text[:first_table.start()] if first_table else text
    found = _REGISTRY_LINE.search(top)
    new = text[:found.start()] + line + text[found.end():] if found else line + text
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailed(_("cannot create folder {folder}: {reason}").format(
            folder=file.parent, reason=exc.strerror)) from None
    write_atomic(file, new)
