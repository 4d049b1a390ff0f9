"""The commands about the registry file itself: init, fmt, validate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, Writing, output_options, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.i18n import _
from partnerctl.formats.output import Format


@app.command()
@write_options("registry")
def init(
    ctx: typer.Context,
    writing: Writing,
    path: Annotated[Path | None, typer.Argument(
        dir_okay=False, help="The new file. Default: --registry, else data/registry.toml.")] = None,
    owner: Annotated[str | None, typer.Option(help="The city whose partnerships it holds.")] = None,
    country: Annotated[str | None, typer.Option(help="The owner's country (a code, a name or an alias).")] = None,
    name: Annotated[str | None, typer.Option(
        help="The registry's name; without --owner, a registry of many owners (each partnership names its own).")]
    = None,
    sample: Annotated[bool, typer.Option("--sample", help="A writable copy of the bundled Lyon registry.")] = False,
) -> None:
    """Create a registry: empty (with the Lyon themes and world regions), or a copy of the Lyon sample.

    Example: partnerctl init grenoble.toml --owner Grenoble --country France
    """
    from partnerctl.storage import store

    target = path or state(ctx).registry or Path("data/registry.toml")
    text, what = store.initial_text(sample, owner, country, name)
    writing.out.check()  # a contradiction fails before the file is created
    reg, written = store.create(target, text, dry_run=writing.dry_run)
    state(ctx).landed = written.written
    obj = {"path": str(target), "name": reg.registry.name, "owner": reg.registry.owner,
           "country": reg.registry.country, "themes": len(reg.themes), "networks": len(reg.networks),
           "partnerships": len(reg.partnerships)}
    report(ctx, written, writing, (_("created {target} ({what})").format(target=target, what=what),
                                   _("create {target} ({what})").format(target=target, what=what)), [obj],
           name=target.name)


@app.command("fmt")
@write_options("format")
def fmt_(ctx: typer.Context, writing: Writing,
         check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the file is not canonical.")]
         = False) -> None:
    """Rewrite the registry in canonical form.

    Example: partnerctl fmt --check
    """
    from partnerctl.core.errors import EXIT_NOT_FOUND, Reported
    from partnerctl.storage.reader import known_canonical

    path = state(ctx).location().path
    if check and not writing.dry_run and known_canonical(path):
        # The index was built for these very bytes and found them canonical: nothing to parse or dump.
        state(ctx).io.say(f"{path} is canonical")
        if writing.out.asked:
            writing.out.emit(state(ctx).io, [{"path": str(path), "changed": False}], one=True)
        return
    written = write(ctx, lambda draft: draft.everything() and None, writing, whole=True,
                    dry_run=writing.dry_run or check, reformat=True)
    changed = written.old_data != written.new_data
    obj: dict[str, Any] = {"path": str(path), "changed": changed}
    if check and not writing.dry_run:
        verdict = _("{path} is not in canonical form") if changed else _("{path} is canonical")
        state(ctx).io.say(verdict.format(path=path))
        if writing.out.asked:
            writing.out.emit(state(ctx).io, [obj], one=True)
    else:
        report(ctx, written, writing, (_("reformatted {path}").format(path=path), _("reformat {path}").format(
            path=path)), [obj])
    if check and changed:
        raise Reported(EXIT_NOT_FOUND)


@app.command()
@write_options("format")
def upgrade(ctx: typer.Context, writing: Writing) -> None:
    """Bring a registry written before countries were codes up to date: codes, region slugs, [regions].

    A country that cannot be resolved stops it, naming each one (add an alias to [countries] or
    correct it, and run it again). Example: partnerctl upgrade --dry-run
    """
    from partnerctl.core.upgrade import upgrade as upgraded

    done: list[str] = []
    written = write(ctx, lambda draft: None, writing, whole=True, prepare=lambda data: done.extend(upgraded(data)))
    path = state(ctx).location().path
    what = ", ".join(done) or _("nothing to change")
    report(ctx, written, writing, (_("upgraded {path}: {what}").format(path=path, what=what),
                                   _("upgrade {path}: {what}").format(path=path, what=what)),
           [{"path": str(path), "changed": written.old_text != written.new_text}])


@app.command()
@output_options("problem")
def validate(ctx: typer.Context, out: Output) -> None:
    """Check the registry and report every problem with where it is (exit 3 if any).

    Example: partnerctl validate
    """
    from partnerctl.core.errors import EXIT_REGISTRY, Reported
    from partnerctl.core.records import problem_row
    from partnerctl.storage.reader import problems

    out.check()
    io = state(ctx).io
    path = state(ctx).location().path
    found = problems(path)
    if out.asked and out.chosen(io.stdout_tty) is not Format.table:
        out.emit(io, [problem_row(p.where, p.line, p.message) for p in found])
    else:
        from partnerctl.core.text import clean

        for p in found:
            io.stderr.write(clean(str(p)) + "\n")
        if not found:
            io.say(_("{path}: valid").format(path=path))
    if found:
        raise Reported(EXIT_REGISTRY)


@app.command()
def use(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(
        dir_okay=False, help="The registry to read and write by default. Without it: say which one is used.")]
    = None,
    repository: Annotated[bool, typer.Option(
        "--repository", help="Write it to the repository's partnerctl.toml (the team's), not your config.toml.")]
    = False,
) -> None:
    """Choose the default registry (your config.toml; the team's partnerctl.toml with --repository).

    Example: partnerctl use my.toml
    """
    from partnerctl.core.errors import InvalidInput
    from partnerctl.storage import config, store

    io = state(ctx).io
    if path is None:
        loc = state(ctx).location()
        io.stdout.write(f"{loc.path}\n")
        io.say(_("the registry is {path}, named by {source}").format(path=loc.path, source=loc.source)
               + (_(" (the read-only sample)") if loc.bundled else ""))
        return
    if not path.is_file():
        raise store.not_found(store.Location(path, source=_("the command line")))
    if repository:
        file = config.repository_config_path() or Path.cwd() / config.REPOSITORY_FILE
    else:
        found = config.user_config_path()
        if found is None:
            raise InvalidInput(_("no home folder for a config file: set XDG_CONFIG_HOME, or use --repository"))
        file = found
    config.set_registry(file, path)
    io.say(_("the default registry is now {path} (set in {file})").format(path=path, file=file))
    now = store.locate(None)
    if os.path.realpath(now.path) != os.path.realpath(path):
        io.say(_("note: here {source} comes first: {path} is read (see 'partnerctl use')").format(
            source=now.source, path=now.path))
    if os.environ.get("PARTNERCTL_REGISTRY"):
        io.say(_("note: $PARTNERCTL_REGISTRY is set and comes first"))
