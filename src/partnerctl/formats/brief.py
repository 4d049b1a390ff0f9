"""A meeting brief: one printable page about a partnership, for internal use.

What an officer takes to a meeting: the headline facts, the next round
anniversary, the latest key events first, the contacts, and the internal notes
(fields the model marks internal, and events and contacts marked
``internal = true``), each marked "internal", and the whole page marked as for
internal use. HTML with an A4 print stylesheet (Turin's prints on at most two
pages), or Markdown; drawn by the templates ``brief/brief.html`` and
``brief/brief.md``, which ``--templates`` can replace like the site's.
"""

from __future__ import annotations

import datetime
from typing import Any

from partnerctl.core import anniversaries
from partnerctl.core.query import Record, Snapshot
from partnerctl.formats import site as pages
from partnerctl.formats import templating
from partnerctl.formats.templating import Branding

FORMATS = {"html": ".html", "markdown": ".md"}
# The latest key events a brief shows: enough for a meeting, and the page stays printable.
DEFAULT_EVENTS = 5


def brief(head: Snapshot, pid: str, rec: Record, *, fmt: str = "html", today: datetime.date | None = None,
          events: int = DEFAULT_EVENTS, env: Any = None, branding: Branding | None = None) -> str:
    """The brief of partnership *pid* (*rec*, every field: a brief is internal) in *fmt*.

    *events* is how many of the latest key events it shows (0: all of them).
    """
    today = today or datetime.date.today()
    env = env or templating.environment()
    branding = branding or Branding()
    site = pages.Site(head, "", 1, branding, env, include_internal=True, fmt=fmt, ext=FORMATS[fmt])
    page = pages.page_context(site, pid, rec)
    page["notes"] = pages.notes_of(rec, "partnership")
    latest = list(reversed(page["events"]))
    shown = latest[:events] if events else latest
    upcoming = anniversaries.next_anniversary(pid, rec, today)
    context = site.context("", page=page, latest=shown, more=len(latest) - len(shown), today=today,
                           anniversary=upcoming, describe=anniversaries.describe)
    name = "brief/brief.html" if fmt == "html" else "brief/brief.md"
    return templating.render(env, name, **context)
