"""The console script's lean start: it imports only the invoked command's module (cli/app.py HOMES)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.main import get_command_name

import partnerctl.cli
from partnerctl.cli.app import HOMES, ORDER, app


def test_every_command_has_its_home() -> None:
    partnerctl.cli.load_all()
    homes = {}
    for c in app.registered_commands:
        assert c.callback is not None
        homes[c.name or get_command_name(c.callback.__name__)] = c.callback.__module__.rsplit(".", 1)[-1]
    for g in app.registered_groups:
        homes[str(g.name)] = "vocabularies"
    assert homes == HOMES
    assert set(ORDER) == set(HOMES)


def test_console_script_imports_only_the_invoked_command(tmp_path: Path) -> None:
    code = ("import sys; sys.argv = ['partnerctl', 'validate', '" + str(tmp_path / "none.toml") + "']\n"
            "from partnerctl.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('partnerctl.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "partnerctl.cli.registry" in loaded
    assert "partnerctl.cli.reads" not in loaded and "partnerctl.cli.exchange" not in loaded
