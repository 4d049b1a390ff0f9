"""The vocabularies: ``themes`` and ``networks`` list their entries; add, rename, remove change them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, Writing, output_options, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.i18n import _

themes_app = typer.Typer(help="The theme vocabulary.")
networks_app = typer.Typer(help="The network vocabulary.")
app.add_typer(themes_app, name="themes")
app.add_typer(networks_app, name="networks")


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


def _vocab_writes(sub: typer.Typer, kind: str) -> None:
    """``themes add|rename|remove`` and the same for networks."""
    from partnerctl.core import edit

    plural = f"{kind}s"

    def run(ctx: typer.Context, fn: Any, did: tuple[str, str], writing: Writing) -> None:
        written = write(ctx, fn, writing)
        report(ctx, written, writing, did, [written.result])

    @sub.command("add", help=f"Declare a new {kind}.\n\nExample: partnerctl {plural} add "
                             + ("night-life 'Night life'" if kind == "theme" else "cities4europe 'Cities for Europe'"))
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
