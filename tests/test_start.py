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


# What a piped `show ID --format json` answered by a current index has no use for (issue 14's start-up):
# the write pipeline, TOML parsing, the country table's source, the other read commands, Rich, pydantic
# (see docs/performance.md, "Start-up"). hashlib is not in the list: this file changed a moment ago, so
# the index's key check hashes its bytes (a settled file's stat alone vouches for it).
NOT_ON_A_SHOW = ("partnerctl.storage.store", "partnerctl.cli.reads", "tomllib", "pycountry", "rich",
                 "pydantic", "pydantic_core")


def test_a_piped_show_from_the_index_loads_only_what_it_uses(registry_path: Path, tmp_path: Path) -> None:
    import os

    code = ("import sys; sys.argv = ['partnerctl', '-r', sys.argv[1], 'show', 'turin', '--format', 'json']\n"
            "from partnerctl.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "import gc; sys.stderr.write('LOADED=' + ','.join(sorted(sys.modules)) + ';GC=' + str(gc.isenabled()))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PARTNERCTL_NO_INDEX", None)
    runs = [subprocess.run([sys.executable, "-c", code, str(registry_path)], env=env, capture_output=True,
                           text=True, check=True) for _ in "12"]  # the first builds the index
    assert runs[0].stdout == runs[1].stdout and '"id": "turin"' in runs[1].stdout
    loaded, gc_on = runs[1].stderr.rsplit("LOADED=", 1)[1].split(";GC=")
    modules = set(loaded.split(","))
    assert "partnerctl.cli.show" in modules and "partnerctl.storage.index" in modules
    assert [m for m in NOT_ON_A_SHOW if m in modules or any(n.startswith(m + ".") for n in modules)] == []
    assert gc_on == "True", "collection is back on once the command's modules are imported"
