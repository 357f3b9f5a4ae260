"""The one error tree of the package.

Every failure a user can cause or meet derives from :class:`NewsletterError`, so the
doors (CLI, web, scheduler) catch one root and turn it into one line, one page or one
log record::

    NewsletterError
    ├── ConfigError                bad or missing configuration (CLI exit code 2)
    ├── DatabaseError              schema missing/behind, database unreachable
    ├── NotFoundError              a named subscriber, post or edition does not exist
    ├── InputError                 bad user input: an address, a CSV file, a command argument
    │   ├── InvalidTokenError      a link token tampered with, cut short or for another purpose
    │   │   └── ExpiredTokenError  a genuine link token, older than allowed
    │   ├── NotAMailError          a returned "mail" that is not an e-mail message at all
    │   ├── UnreadableMessageError a returned mail too big or nested too deep to read
    │   └── Refused                (web/relay_events) a relay webhook request refused, with
    │                              its status (the body readers and web.webhooks raise it)
    ├── ContentError               a post that cannot be parsed (names file and line)
    │   └── DraftPostError         a post its author marked as a draft
    ├── RenderError                a post that cannot be turned into an email
    │   ├── CheckFailedError       an edition the deliverability check refused
    │   └── _CannotSplice          (mail/compose) the fast per-reader splice does not fit
    │                              this edition; every message is built in full instead
    └── DeliveryError              the transport cannot be used (per-message outcomes are
        │                          ``delivery.attempt.Attempt`` values, not exceptions)
        └── _ConnectionLost        (delivery/smtp) the relay hung up mid-transaction

The classes whose names start with ``_`` are control flow inside their one module and
never leave it, and ``Refused`` never leaves the webhooks; they sit in the tree so that
even they are caught by the root. A feed
entry that cannot be a post is a reason returned beside the good entries
(``feeds.entries``), not an exception, and a request body over the web app's cap is
Starlette's own ``HTTPException(413)``, which the app answers like its 404 and 405.
"""

from __future__ import annotations

from collections.abc import Sequence


class NewsletterError(Exception):
    """Root of every error the package raises on purpose."""

    exit_code = 1


class ConfigError(NewsletterError):
    exit_code = 2


class DatabaseError(NewsletterError):
    pass


class NotFoundError(NewsletterError):
    pass


class InputError(NewsletterError):
    pass


class InvalidTokenError(InputError):
    """A token that was tampered with, cut short, signed with another key or for another purpose."""


class ExpiredTokenError(InvalidTokenError):
    """A genuine token that is older than the caller allows (the page can offer a fresh link)."""


class NotAMailError(InputError):
    """The input is not an e-mail message at all (an empty file, a PDF, a CSV...)."""


class UnreadableMessageError(InputError):
    """Mail too big or nested too deep to read: set aside for a person, never retried."""


class ContentError(NewsletterError):
    """A post that cannot be parsed; the message names the source and, where known, the line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = source or ""
        if source and line is not None:
            where = f"{source}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line


class DraftPostError(ContentError):
    """A post its author marked as a draft: refused by name, passed over in a directory."""


class RenderError(NewsletterError):
    pass


class CheckFailedError(RenderError):
    """The deliverability check failed and the caller asked to refuse such an edition.

    It carries the report's lines, not the report, so that this module stays at the bottom.
    """

    def __init__(self, failed: int, report_lines: Sequence[str]) -> None:
        super().__init__(
            f"the deliverability check failed ({failed} problem(s)); nothing was sent "
            "(fix what the report says, or send anyway with --skip-check)"
        )
        self.report_lines = tuple(report_lines)


class DeliveryError(NewsletterError):
    pass
