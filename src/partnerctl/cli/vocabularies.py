"""The vocabularies: ``themes``, ``networks`` and ``regions`` list their entries; add, rename, remove
change them. ``countries`` lists the country aliases; add and remove change the registry's own."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, Writing, output_options, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.i18n import _

themes_app = typer.Typer(help="The theme vocabulary.")
networks_app = typer.Typer(help="The network vocabulary.")
regions_app = typer.Typer(help="The world regions.")
countries_app = typer.Typer(help="The country aliases.")
app.add_typer(themes_app, name="themes")
app.add_typer(networks_app, name="networks")
app.add_typer(regions_app, name="regions")
app.add_typer(countries_app, name="countries")


def _listing(ctx: typer.Context, kind: str, out: Output) -> None:
    from partnerctl.core.records import vocabulary_entry

    out.check()
    reader = state(ctx).reader()
    rows = reader.usage(kind)
    records = [vocabulary_entry(slug, label, n) for slug, label, n in rows]

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        # The table in the language in force; the records keep the English label.
        shown = reader.snapshot({}).labels(kind)
        return render.vocab_table(con, [(slug, shown.get(slug, label), n) for slug, label, n in rows], kind)

    out.emit(state(ctx).io, records, draw)


@themes_app.callback(invoke_without_command=True)
@output_options("vocabulary")
def themes(ctx: typer.Context, out: Output) -> None:
    """List the declared themes and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _listing(ctx, "theme", out)


@networks_app.callback(invoke_without_command=True)
@output_options("vocabulary")
def networks(ctx: typer.Context, out: Output) -> None:
    """List the declared networks and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _listing(ctx, "network", out)


@regions_app.callback(invoke_without_command=True)
@output_options("vocabulary")
def regions(ctx: typer.Context, out: Output) -> None:
    """List the declared world regions and how many partnerships are in each (their own or their country's)."""
    if ctx.invoked_subcommand is None:
        _listing(ctx, "region", out)


@countries_app.callback(invoke_without_command=True)
@output_options("alias")
def countries(ctx: typer.Context, out: Output) -> None:
    """List the country aliases: the registry's own, then the shipped ones it does not replace."""
    if ctx.invoked_subcommand is None:
        from partnerctl.core import edit

        out.check()
        records = edit.aliases(state(ctx).reader().head)
        out.emit(state(ctx).io, records)


@countries_app.command("add", help="Declare another name of a country: an alias it is then known by, "
                                   "on input and on import.\n\nExample: partnerctl countries add 'Kosova' XK")
@write_options("alias")
def add_alias(ctx: typer.Context, writing: Writing,
              alias: Annotated[str, typer.Argument(help="The other name, as sources write it.")],
              country: Annotated[str, typer.Argument(help="The country: a code (XK, GB-SCT), a name or an alias.")]
              ) -> None:
    from partnerctl.core import edit

    written = write(ctx, lambda draft: edit.add_alias(draft, alias, country), writing)
    entry = written.result
    report(ctx, written, writing, (_("added country alias {alias!r} ({code}, {country})").format(
                                       alias=alias, code=entry["code"], country=entry["country"]),
                                   _("add country alias {alias!r} ({code}, {country})").format(
                                       alias=alias, code=entry["code"], country=entry["country"])), [entry])


@countries_app.command("remove", help="Remove one of the registry's country aliases.\n\n"
                                      "Example: partnerctl countries remove 'Kosova'")
@write_options("alias")
def remove_alias(ctx: typer.Context, writing: Writing,
                 alias: Annotated[str, typer.Argument(help="The alias (any case, accents optional).")]) -> None:
    from partnerctl.core import edit

    written = write(ctx, lambda draft: edit.remove_alias(draft, alias), writing)
    entry = written.result
    report(ctx, written, writing, (_("removed country alias {alias!r}").format(alias=entry["alias"]),
                                   _("remove country alias {alias!r}").format(alias=entry["alias"])), [entry])


def _vocab_writes(sub: typer.Typer, kind: str) -> None:
    """``themes add|rename|remove`` and the same for networks."""
    from partnerctl.core import edit

    plural = f"{kind}s"

    def run(ctx: typer.Context, fn: Any, did: tuple[str, str], writing: Writing) -> None:
        # A region declared, renamed or removed changes the region every partnership of some countries is
        # in (its default): the whole registry is written and indexed again.
        written = write(ctx, fn, writing, whole=kind == "region")
        report(ctx, written, writing, did, [written.result])

    examples = {"theme": "night-life 'Night life'", "network": "cities4europe 'Cities for Europe'",
                "region": "oceania Oceania"}

    @sub.command("add", help=f"Declare a new {kind}.\n\nExample: partnerctl {plural} add {examples[kind]}")
    @write_options("vocabulary")
    def add_entry(ctx: typer.Context, writing: Writing,
                  slug: Annotated[str, typer.Argument(help="Lower-case words joined by hyphens.")],
                  label: Annotated[str, typer.Argument(help="The name people read.")],
                  label_fr: Annotated[str | None, typer.Option(
                      "--label-fr", help="The name in French (else the label above is shown).")] = None) -> None:
        run(ctx, lambda draft: edit.vocab_entry(draft, kind, edit.add_vocab(draft, kind, slug, label, label_fr)),
            (_("added {kind} {slug}").format(kind=kind, slug=slug),
             _("add {kind} {slug}").format(kind=kind, slug=slug)), writing)

    @sub.command("rename", help=f"Rename a {kind} (and relabel it) in the vocabulary and wherever it is used."
                                f"\n\nExample: partnerctl {plural} rename OLD NEW --label 'New label'")
    @write_options("vocabulary")
    def rename_entry(ctx: typer.Context, writing: Writing,
                     old: Annotated[str, typer.Argument(help="The slug now.")],
                     new: Annotated[str, typer.Argument(help="The new slug (may be the same, with --label).")],
                     label: Annotated[str | None, typer.Option(help="A new label.")] = None,
                     label_fr: Annotated[str | None, typer.Option("--label-fr", help="A new label in French.")] = None
                     ) -> None:
        did = ((_("relabelled {kind} {old}").format(kind=kind, old=old),
                _("relabel {kind} {old}").format(kind=kind, old=old)) if new == old
               else (_("renamed {kind} {old} to {new}").format(kind=kind, old=old, new=new),
                     _("rename {kind} {old} to {new}").format(kind=kind, old=old, new=new)))
        run(ctx, lambda draft: edit.vocab_entry(draft, kind,
                                                edit.rename_vocab(draft, kind, old, new, label, label_fr)),
            did, writing)

    @sub.command("remove", help=f"Remove a {kind}; refused while in use unless --force, which also removes it "
                                f"from the partnerships{' and events' if kind == 'theme' else ''} using it."
                                f"\n\nExample: partnerctl {plural} remove SLUG --force")
    @write_options("vocabulary")
    def remove_entry(ctx: typer.Context, writing: Writing, slug: Annotated[str, typer.Argument(help="The slug.")],
                     force: Annotated[bool, typer.Option("--force", help="Remove it from its users too.")] = False
                     ) -> None:
        run(ctx, lambda draft: edit.remove_vocab(draft, kind, slug, force),
            (_("removed {kind} {slug}").format(kind=kind, slug=slug),
             _("remove {kind} {slug}").format(kind=kind, slug=slug)), writing)


_vocab_writes(themes_app, "theme")
_vocab_writes(networks_app, "network")
_vocab_writes(regions_app, "region")
