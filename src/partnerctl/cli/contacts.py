"""The commands that change contacts: add-contact, edit-contact, remove-contact (options from ``model.Contact``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Writing, field_options, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.i18n import _

PartnerArg = Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete.partner)]
NameArg = Annotated[str, typer.Argument(help="The contact's name (any case, accents optional).")]


def _contact_change(ctx: typer.Context, partner: str, fn: Any, did: Any, writing: Writing) -> None:
    """Apply *fn(draft, pid) -> contact* to one partnership and report the contact; *did(pid, name)* says what."""
    from partnerctl.core.model import to_dict
    from partnerctl.core.records import contact_row

    def change(draft: Any) -> tuple[str, str, dict[str, Any]]:
        pid = draft.resolve(partner)
        contact = fn(draft, pid)
        return pid, contact.name, contact_row(pid, to_dict(contact))

    written = write(ctx, change, writing)
    pid, name, row = written.result
    report(ctx, written, writing, did(pid, name), [row])


@app.command("add-contact")
@write_options("contact")
@field_options("contact")
def add_contact(ctx: typer.Context, given: dict[str, Any], writing: Writing,
                partner: Annotated[str | None, typer.Argument(
                    help="Id, city name or alias (asked for on a terminal when left out).",
                    autocompletion=complete.partner, show_default=False)] = None) -> None:
    """Add a contact to a partnership; on a terminal, asks for what is missing.

    Example: partnerctl add-contact turin --name "Ada Rossi" --email ada@example.org
    """
    from partnerctl.cli import prompts
    from partnerctl.core import edit

    if prompts.needed(state(ctx).io) and (partner is None or prompts.missing(given, "contact")):
        prompts.ready(ctx, writing)
        partner = prompts.record(ctx, "contact", partner, given)
    if partner is None:
        raise prompts.missing_argument(ctx, "partner")
    prompts.check_given(given, "contact")
    _contact_change(ctx, partner, lambda draft, pid: edit.add_contact(draft, pid, **given),
                    lambda pid, n: (_("added contact {n} to {pid}").format(n=n, pid=pid),
                                    _("add contact {n} to {pid}").format(n=n, pid=pid)), writing)


@app.command("edit-contact")
@write_options("contact")
@field_options("contact")
def edit_contact(ctx: typer.Context, partner: PartnerArg, contact: NameArg, given: dict[str, Any], writing: Writing,
                 unset: Annotated[list[str] | None, typer.Option(
                     "--unset", help="Remove role, organisation, email or phone; repeatable.")] = None) -> None:
    """Change a contact of a partnership.

    Example: partnerctl edit-contact turin "Juliette Cantau" --phone "+33 4 00 00 00 00"
    """
    from partnerctl.core import edit

    _contact_change(ctx, partner, lambda draft, pid: edit.edit_contact(draft, pid, contact, given, unset or []),
                    lambda pid, n: (_("changed contact {n} of {pid}").format(n=n, pid=pid),
                                    _("change contact {n} of {pid}").format(n=n, pid=pid)), writing)


@app.command("remove-contact")
@write_options("contact")
def remove_contact(ctx: typer.Context, partner: PartnerArg, name: NameArg, writing: Writing) -> None:
    """Remove a contact from a partnership.

    Example: partnerctl remove-contact turin "Juliette Cantau"
    """
    from partnerctl.core import edit

    _contact_change(ctx, partner, lambda draft, pid: edit.remove_contact(draft, pid, name),
                    lambda pid, n: (_("removed contact {n} from {pid}").format(n=n, pid=pid),
                                    _("remove contact {n} from {pid}").format(n=n, pid=pid)), writing)
