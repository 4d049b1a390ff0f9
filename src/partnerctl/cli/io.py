"""The standard streams and the command line as partnerctl takes them, whatever the environment.

``standard()`` is entered once per run, by the command group's ``main``:

- A closed stdin, stdout or stderr (``partnerctl list >&-``) gets ``/dev/null``
  on its descriptor, so no file opened later (the registry, its lock) can take
  that number; a closed stdout then refuses every write (``OutputFailed``).
- Text that the output encoding cannot hold (``LC_ALL=C``, ``PYTHONIOENCODING=ascii``)
  is written as ``\\uXXXX`` escapes, which keep JSON valid and equal to the text.
- A failed write to stdout (a full disk, a closed descriptor, a reader that
  left) raises ``OutputFailed``; a failed write to stderr is ignored, as there
  is nowhere left to say so.

``command_line`` checks the arguments are UTF-8. ``IOStreams`` is what a
command is given to read and write: the system's streams, or a test's.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, NamedTuple, TextIO

from partnerctl.core.errors import InvalidInput, OutputFailed
from partnerctl.core.i18n import _

ESCAPE = "partnerctl-escape"


def _escape(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each character the encoding lacks as JSON's ``\\uXXXX`` (a surrogate pair above U+FFFF)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start:exc.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), exc.end


codecs.register_error(ESCAPE, _escape)


class _Stream:
    """A text stream that turns OSError into ``OutputFailed`` (stdout) or silence (stderr).

    Everything else is the wrapped stream's, so Rich and csv see an ordinary file. Once
    a write has failed, every later write fails the same way (its ``buffer`` too): a
    caller that swallowed the first error cannot then write into nothing unawares.
    """

    def __init__(self, inner: Any, name: str, *, quiet: bool, failure: list[OutputFailed] | None = None) -> None:
        self._inner = inner
        self._name = name
        self._quiet = quiet
        self._failure = [] if failure is None else failure  # shared with the buffer's _Stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _fail(self, reason: str, broken_pipe: bool = False) -> None:
        if not self._failure:
            self._failure.append(OutputFailed(_("cannot write to {value}: {reason}").format(
                value=self._name, reason=reason), broken_pipe=broken_pipe))
            _discard(self._inner)
        if not self._quiet:
            raise self._failure[0]

    def write(self, text: str) -> int:
        """Write *text*; see the class for what a failure becomes."""
        if not text:
            # Nothing to write is no failure (an empty diff; click probing the stream). A
            # str to a binary stream (or bytes to a text one) is still the TypeError it was.
            try:
                return int(self._inner.write(text))
            except OSError:
                return 0
        if self._failure:
            self._fail("")
            return len(text)
        try:
            return int(self._inner.write(text))
        except OSError as exc:
            self._fail(exc.strerror or str(exc), exc.errno == errno.EPIPE)
            return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream; see the class for what a failure becomes."""
        if self._failure:
            return
        try:
            self._inner.flush()
        except OSError as exc:
            self._fail(exc.strerror or str(exc), exc.errno == errno.EPIPE)

    def isatty(self) -> bool:
        """False for a stream that failed (or was closed)."""
        return not self._failure and bool(self._inner.isatty())

    @property
    def buffer(self) -> _Stream:
        """The binary stream below (``export --format sqlite`` writes bytes), failing the same way."""
        return _Stream(self._inner.buffer, self._name, quiet=self._quiet, failure=self._failure)


def _closed(stream: Any, name: str, quiet: bool) -> _Stream:
    """*stream* (on /dev/null) as a stream that was closed: every write fails."""
    out = _Stream(stream, name, quiet=quiet)
    out._failure.append(OutputFailed(_("cannot write to {name}: it is closed").format(name=name)))
    return out


def _discard(stream: Any) -> None:
    """After a failed write: point the descriptor at /dev/null, so the text still buffered
    goes nowhere instead of failing again when Python flushes at exit."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _reopen_closed() -> set[int]:
    """Put /dev/null on each of the descriptors 0, 1, 2 that is closed; return those."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)  # an editor started later gets it as its own 0, 1 or 2
            closed.add(fd)
    return closed


def _reconfigure(stream: Any, errors: str) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors=errors)


@contextmanager
def standard() -> Iterator[None]:
    """Set up stdin, stdout and stderr as described in the module; put the old ones back after."""
    saved = sys.stdin, sys.stdout, sys.stderr
    closed = _reopen_closed()
    try:
        if sys.stdin is None:
            sys.stdin = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        # An answer typed in another encoding is a wrong answer, not a crash (data is read as bytes).
        _reconfigure(sys.stdin, "surrogateescape")
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = getattr(sys, name)
            if isinstance(stream, _Stream):
                continue
            was_closed = stream is None or fd in closed
            if stream is None:
                stream = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as sys.stdout
            _reconfigure(stream, ESCAPE)
            quiet = name == "stderr"
            setattr(sys, name, _closed(stream, name, quiet) if was_closed else _Stream(stream, name, quiet=quiet))
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def flush_stdout() -> None:
    """Flush stdout now, while a failure can still be reported (``OutputFailed``)."""
    sys.stdout.flush()


def command_line(args: Sequence[str]) -> list[str]:
    """The arguments as UTF-8 text; an argument whose bytes are not UTF-8 is InvalidInput naming it.

    Python decodes arguments with the locale's encoding: in a UTF-8 locale
    invalid bytes arrive as lone surrogates, under ``LC_ALL=C`` every non-ASCII
    byte does. Those are decoded again here from the bytes the shell passed.
    """
    out: list[str] = []
    for n, arg in enumerate(args, 1):
        # The bytes back: surrogateescape undoes what the decoding of argv did with bytes it could not read.
        raw = arg.encode("utf-8", "surrogateescape")
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            shown = raw.decode("utf-8", "backslashreplace")
            after = _(" (after {option})").format(option=out[-1]) if out and out[-1].startswith("-") else ""
            raise InvalidInput(_("argument {n} is not UTF-8 text: '{shown}'{after}").format(
                n=n, shown=shown, after=after)) from None
    return out


class IOStreams(NamedTuple):
    """The streams a command reads and writes, passed to it (as gh's IOStreams): tests give their own.

    *stdout_tty* and *stdin_tty* say whether a person is at the other end; they
    decide tables against plain rows, pagers and questions.
    """

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    stdout_tty: bool = False
    stdin_tty: bool = False

    @classmethod
    def system(cls) -> IOStreams:
        """The process's own streams (as ``standard()`` set them up).

        ``PARTNERCTL_FORCE_TTY=1`` makes them count as terminals (as gh's ``GH_FORCE_TTY``):
        tables and questions in a script or a test.
        """
        forced = os.environ.get("PARTNERCTL_FORCE_TTY", "") not in ("", "0")
        return cls(sys.stdout, sys.stderr, sys.stdin, forced or _isatty(sys.stdout), forced or _isatty(sys.stdin))

    @property
    def interactive(self) -> bool:
        """Whether a person can answer a question: stdin and stdout are both terminals."""
        return self.stdin_tty and self.stdout_tty

    def say(self, message: str) -> None:
        """One line on stderr, ``partnerctl: ...``, control characters made visible: every message."""
        from partnerctl.core.text import clean

        self.stderr.write(f"partnerctl: {clean(message)}\n")

    def binary_stdout(self) -> BinaryIO:
        """Stdout's bytes (a calendar or a database written to a pipe)."""
        self.stdout.flush()
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is not None:
            return buffer  # type: ignore[no-any-return]
        return io.BufferedWriter(_TextBytes(self.stdout))


class _TextBytes(io.RawIOBase):
    """A text stream taken as a binary one (a test's StringIO): bytes written are decoded as UTF-8."""

    def __init__(self, text: TextIO) -> None:
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._text.write(bytes(data).decode("utf-8"))
        return len(data)

    def isatty(self) -> bool:
        return False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
