"""The pager, as git and gh use one: long output on a terminal goes through ``$PARTNERCTL_PAGER``,
``$PAGER`` or ``less -FRX``; never when piped, never with ``--no-pager``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from partnerctl.cli.io import ESCAPE, IOStreams

# --- the pager -------------------------------------------------------------------------------

DEFAULT_PAGER = "less -FRX"


def pager_command() -> list[str]:
    """The pager to start, as git and gh choose it: ``$PARTNERCTL_PAGER``, else ``$PAGER``, else ``less -FRX``.

    An empty value or ``cat`` means no pager (an empty list).
    """
    import shlex

    for name in ("PARTNERCTL_PAGER", "PAGER"):
        if name in os.environ:
            text = os.environ[name].strip()
            break
    else:
        text = DEFAULT_PAGER
    try:
        argv = shlex.split(text)
    except ValueError:  # an unbalanced quote: taken as one program name, which will not be found
        argv = [text]
    return [] if not argv or argv == ["cat"] else argv


class _PagerQuit(Exception):
    """The person quit the pager before the output ended: stop writing, exit as usual."""


class _PagerInput(io.TextIOBase):
    """The pager's stdin as a text stream: a write after the pager quit raises ``_PagerQuit``."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self._raw = raw
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return True  # a person reads it, through the pager

    def write(self, text: str) -> int:
        try:
            self._raw.write(text.encode(self._encoding, ESCAPE))
        except OSError:  # EPIPE, or EINVAL on some systems: the pager has gone
            raise _PagerQuit from None
        return len(text)

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError:
            raise _PagerQuit from None


@contextmanager
def paged(streams: IOStreams, enabled: bool = True) -> Iterator[IOStreams]:
    """*streams* with stdout fed to the pager (``pager_command``) while the block runs; the pager is waited for.

    The pager starts only when stdout is a terminal (or counts as one:
    ``PARTNERCTL_FORCE_TTY``) with a file descriptor of its own, *enabled*
    (``--no-pager`` turns it off) and a pager is chosen; otherwise *streams*
    are yielded unchanged. Quitting the pager early ends the output quietly,
    as in git. A pager that cannot be started means printing directly.
    """
    import subprocess

    argv = pager_command() if enabled and streams.stdout_tty else []
    try:
        fd = streams.stdout.fileno() if argv else None
    except (OSError, ValueError, io.UnsupportedOperation, AttributeError):
        fd = None
    if fd is None:
        yield streams
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # as git: quit if one screen, keep colours, leave the screen as it was
    env.setdefault("LV", "-c")
    streams.stdout.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=fd, env=env)
    except OSError:
        yield streams
        return
    assert proc.stdin is not None
    pipe = _PagerInput(proc.stdin, getattr(streams.stdout, "encoding", None) or "utf-8")
    try:
        yield streams._replace(stdout=pipe)  # type: ignore[arg-type]
    except _PagerQuit:
        pass
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        while True:
            try:
                proc.wait()
                break
            except KeyboardInterrupt:  # Ctrl-C reaches the pager too; it decides when to end
                continue
